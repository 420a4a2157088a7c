"""Which copy counts when a bureau sent more than one: a declared policy, and why each other
copy was set aside.

Copies are "the same submission" by the distribution stamp (template + bureau id) or, for
workbooks without one, by template + unit + project (:func:`xltools.merge.core._key`). Among
them the policy orders by criteria, most important first:

* ``fewest-errors`` (the default): the fewest validation errors; then the latest workbook save
  time; then the latest file time; then the larger file name.
* ``saved`` (``latest`` is the same, kept for existing scripts): the latest workbook save time
  (docProps/core.xml, written by the application that saved it); then file time; then name.
* ``submitted``: the latest time in a submission record (file,submitted_at); then as ``saved``.
* ``first``: the earliest workbook save time; then the earliest file time; then the smaller name.

The file system's time is only ever a late tie-break, and a reason that rests on it says so:
mail attachments and USB copies change it. A criterion some copy of a group has no value for
(a workbook that records no save time, a file the record does not list) is skipped for that
group, so every copy is compared on the same footing.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

Policy = Literal["fewest-errors", "saved", "submitted", "first", "latest"]
POLICIES: Final[tuple[Policy, ...]] = ("fewest-errors", "saved", "submitted", "first", "latest")
DEFAULT_POLICY: Final[Policy] = "fewest-errors"

#: (status, code, reason, superseded_by, id): a row of Spool.set_status
Update = tuple[str, str, str, int | None, int]


@dataclass(frozen=True)
class Candidate:
    """The little the decision needs of one file that may be accepted."""

    index: int
    key: tuple[str, ...]
    name: str  # as displayed
    errors: int
    sha256: str = ""
    saved: float | None = None  # the workbook's own save time, seconds since the epoch
    mtime: float | None = None  # the file system's (or the archive's) time
    submitted: float | None = None  # from the submission record


@dataclass(frozen=True)
class _Criterion:
    code: str  # superseded-<code>
    label: str  # what two copies had in common when a later criterion decided
    value: Callable[[Candidate], float | str | None]
    higher: bool  # the higher value wins
    why: Callable[[Candidate, Candidate], str]  # (kept, other) -> the reason's detail


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "未记录"
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_ERRORS = _Criterion(
    "errors",
    "错误数",
    lambda c: c.errors,
    False,
    lambda k, o: f"另有错误更少的一份：{k.name}（错误 {k.errors} 个，本份 {o.errors} 个）",
)
_SAVED_LATE = _Criterion(
    "saved",
    "工作簿保存时间",
    lambda c: c.saved,
    True,
    lambda k, o: (
        f"另有工作簿保存时间较晚的一份：{k.name}（保存于 {_when(k.saved)}，本份 {_when(o.saved)}）"
    ),
)
_SAVED_EARLY = _Criterion(
    "saved",
    "工作簿保存时间",
    lambda c: c.saved,
    False,
    lambda k, o: (
        f"另有工作簿保存时间较早的一份：{k.name}（保存于 {_when(k.saved)}，本份 {_when(o.saved)}）"
    ),
)
_SUBMITTED = _Criterion(
    "submitted",
    "提交记录时间",
    lambda c: c.submitted,
    True,
    lambda k, o: (
        f"提交记录中另有较晚提交的一份：{k.name}（提交于 {_when(k.submitted)}，"
        f"本份 {_when(o.submitted)}）"
    ),
)
_FILE_NOTE = "文件修改时间经邮件附件、U 盘拷贝会改变，请核实"
_MTIME_LATE = _Criterion(
    "file-time",
    "文件修改时间",
    lambda c: c.mtime,
    True,
    lambda k, o: f"另有文件修改时间较晚的一份：{k.name}（{_FILE_NOTE}）",
)
_MTIME_EARLY = _Criterion(
    "file-time",
    "文件修改时间",
    lambda c: c.mtime,
    False,
    lambda k, o: f"另有文件修改时间较早的一份：{k.name}（{_FILE_NOTE}）",
)
_NAME_LARGE = _Criterion(
    "name", "文件名", lambda c: _name_key(c), True, lambda k, o: f"按文件名取较大的一份：{k.name}"
)
_NAME_SMALL = _Criterion(
    "name", "文件名", lambda c: _name_key(c), False, lambda k, o: f"按文件名取较小的一份：{k.name}"
)


def _name_key(candidate: Candidate) -> str:
    """The base name first: where a file sits (a folder, an archive) says nothing."""
    return f"{Path(candidate.name).name}\0{candidate.name}"


_LATEST: Final = (_SAVED_LATE, _MTIME_LATE, _NAME_LARGE)
CHAINS: Final[dict[str, tuple[_Criterion, ...]]] = {
    "fewest-errors": (_ERRORS, *_LATEST),
    "saved": _LATEST,
    "latest": _LATEST,
    "submitted": (_SUBMITTED, *_LATEST),
    "first": (_SAVED_EARLY, _MTIME_EARLY, _NAME_SMALL),
}


def decide(candidates: Sequence[Candidate], policy: Policy, strict: bool) -> list[Update]:
    """The status of every candidate that is not simply accepted: rejected under ``strict``
    for its errors, or superseded by the copy the policy keeps, with why."""
    chain = CHAINS[policy]
    updates: list[Update] = []
    groups: dict[tuple[str, ...], list[Candidate]] = {}
    for candidate in candidates:
        if strict and candidate.errors:
            reason = f"有 {candidate.errors} 个错误（--strict：有错误的文件不采纳）"
            updates.append(("rejected", "strict-errors", reason, None, candidate.index))
            continue
        groups.setdefault(candidate.key, []).append(candidate)
    for key, group in groups.items():
        if len(group) < 2:
            continue
        active = [c for c in chain if all(c.value(m) is not None for m in group)]
        keep = max(group, key=functools.cmp_to_key(functools.partial(_compare, active)))
        for other in group:
            if other is not keep:
                code, reason = _why(active, keep, other, key, policy)
                updates.append(("superseded", code, reason, keep.index, other.index))
    return updates


def _compare(active: Sequence[_Criterion], a: Candidate, b: Candidate) -> int:
    """> 0 when ``a`` is the better copy; the input order breaks a complete tie."""
    for criterion in active:
        x, y = criterion.value(a), criterion.value(b)
        if x != y:
            assert x is not None and y is not None
            better = x > y if criterion.higher else x < y  # type: ignore[operator]
            return 1 if better else -1
    return (a.index > b.index) - (a.index < b.index)


def _why(
    active: Sequence[_Criterion],
    keep: Candidate,
    other: Candidate,
    key: tuple[str, ...],
    policy: Policy,
) -> tuple[str, str]:
    who = f"同一单位（编号 {key[2]}）" if key[1] == "bureau" else "同一单位、同一项目"
    tag = f"；规则 --supersede {policy}"
    if keep.sha256 and keep.sha256 == other.sha256:
        return "superseded-duplicate", f"{who}与采纳的 {keep.name} 内容完全相同（重复提交）"
    same: list[str] = []
    for criterion in active:
        if criterion.value(keep) != criterion.value(other):
            detail = criterion.why(keep, other)
            if same and criterion.code in ("file-time", "name"):
                detail = f"两份的{'、'.join(same)}相同，{detail}"
            return f"superseded-{criterion.code}", f"{who}{detail}{tag}"
        same.append(criterion.label)
    return "superseded-name", f"{who}另有一份：{keep.name}，各项都相同，取先列出的一份{tag}"


# ---- times ----------------------------------------------------------------------------------

_FRACTION: Final = re.compile(r"(\.\d{6})\d+")


def parse_time(text: str) -> float | None:
    """Seconds since the epoch of an ISO 8601 time as core.xml or a record writes it
    ("2024-03-01T09:30:00Z", "2024-03-01 09:30", LibreOffice's nanoseconds); a time without
    a zone is taken as UTC+8 (a bureau's own clock). None when it is not a time."""
    text = _FRACTION.sub(r"\1", text.strip())
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return when.timestamp()


def submission_lookup(record: dict[str, float]) -> Callable[[str], float | None]:
    """The record's time of a file, by the name displayed or, failing that, the base name
    (a record kept by the mail desk knows attachment names, not our folders)."""
    by_base: dict[str, float] = {}
    for name, when in record.items():
        by_base.setdefault(Path(name).name, when)

    def lookup(display: str) -> float | None:
        found = record.get(display)
        return found if found is not None else by_base.get(Path(display).name)

    return lookup
