"""``xltools status``: the roster against the returns — who has not sent, whose return must be
corrected and why, whose was accepted, which copies were superseded.

The verdicts are merge's own (the same checks, the same choice among several copies of one
submission): this module only lines them up with the roster. A bureau is matched by the
``bureau_id`` stamped into its distributed workbook; a return filled from a plain template
carries none, and is matched by its unit name (单位) to the roster's ``bureau_name``.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

NOT_RETURNED, TO_CORRECT, ACCEPTED, SUPERSEDED, OFF_ROSTER = (
    "未交",
    "已交待修改",
    "已采纳",
    "被替代",
    "名册外",
)
STATUS_CODES = {
    NOT_RETURNED: "not-returned",
    TO_CORRECT: "to-correct",
    ACCEPTED: "accepted",
    SUPERSEDED: "superseded",
    OFF_ROSTER: "off-roster",
}


class RosterError(ValueError):
    """The roster (manifest) cannot be read; the message says where and what to do."""


@dataclass(frozen=True)
class Bureau:
    bureau_id: str
    name: str
    template: str = ""  # empty: any template
    fingerprint: str = ""  # the stamp of the copy sent to it (a distribution manifest has one)


@dataclass
class BureauStatus:
    bureau_id: str
    name: str
    template: str
    status: str
    reason: str = ""
    latest_file: str = ""
    errors: int = 0
    files: list[str] = field(default_factory=list)  # every file of this bureau, oldest first

    @property
    def code(self) -> str:
        return STATUS_CODES[self.status]


@dataclass
class FileStatus:
    file: str
    status: str  # 已采纳 / 已交待修改 / 被替代 / 名册外
    bureau_id: str
    unit: str
    reason: str


@dataclass
class StatusReport:
    bureaus: list[BureauStatus]
    files: list[FileStatus]
    when: str

    def count(self, status: str) -> int:
        """Bureaus of this status."""
        return sum(1 for b in self.bureaus if b.status == status)

    def count_files(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def line(self) -> str:
        parts = [f"{s} {self.count(s)}" for s in (ACCEPTED, TO_CORRECT, NOT_RETURNED)]
        off, superseded = self.count_files(OFF_ROSTER), self.count_files(SUPERSEDED)
        line = f"名册 {len(self.bureaus)} 个单位：" + "，".join(parts)
        if superseded:
            line += f"；被替代的旧文件 {superseded} 个"
        if off:
            line += f"；名册外的文件 {off} 个"
        return line

    @property
    def complete(self) -> bool:
        return all(b.status == ACCEPTED for b in self.bureaus)

    def as_json(self) -> dict[str, Any]:
        return {
            "when": self.when,
            "counts": {
                STATUS_CODES[s]: self.count(s) for s in (ACCEPTED, TO_CORRECT, NOT_RETURNED)
            },
            "bureaus": [asdict(b) | {"code": b.code} for b in self.bureaus],
            "files": [asdict(f) | {"code": STATUS_CODES[f.status]} for f in self.files],
        }


def read_bureaus(path: Path) -> list[Bureau]:
    """The bureaus of a distribution manifest (manifest.csv) or of a roster (.csv or .xlsx
    with a ``bureau_id`` column and optional ``bureau_name`` and ``template``)."""
    if path.suffix.lower() == ".xlsx":
        rows = _xlsx_rows(path)
    else:
        try:
            with path.open(encoding="utf-8-sig", newline="") as stream:
                rows = list(csv.DictReader(stream))
        except UnicodeDecodeError as error:
            raise RosterError(
                f"{path}: [status-roster-encoding] 名册不是 UTF-8 编码的 CSV（第 {error.start} 字节）；"
                "请在 Excel 中“另存为 CSV UTF-8”，或直接使用分发时生成的 manifest.csv"
            ) from None
    if not rows or "bureau_id" not in rows[0]:
        raise RosterError(
            f"{path}: [status-roster-columns] 名册缺少 bureau_id 列；"
            "请使用 xltools generate --roster 生成的 manifest.csv，或含 bureau_id 列的名册"
        )
    bureaus: list[Bureau] = []
    seen: set[tuple[str, str]] = set()
    for number, row in enumerate(rows, start=2):
        bureau_id = str(row.get("bureau_id") or "").strip()
        if not bureau_id:
            raise RosterError(
                f"{path} 第 {number} 行: [status-roster-id] bureau_id 为空；请补上单位编号"
            )
        template = str(row.get("template") or "").strip()
        if (bureau_id, template) in seen:
            raise RosterError(
                f"{path} 第 {number} 行: [status-roster-duplicate] 单位编号 {bureau_id} 重复出现"
            )
        seen.add((bureau_id, template))
        name, stamp = (str(row.get(k) or "").strip() for k in ("bureau_name", "fingerprint"))
        bureaus.append(Bureau(bureau_id, name, template, stamp))
    return bureaus


def _xlsx_rows(path: Path) -> list[dict[str, Any]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # any reason openpyxl gives: the file is not a usable workbook
        raise RosterError(f"{path}: [status-roster-unreadable] 名册无法读取：{error}") from None
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    if not rows:
        return []
    header = [str(h or "").strip() for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:] if any(row)]


def line_up(
    bureaus: Sequence[Bureau],
    manifest: Iterable[Mapping[str, Any]],
    first_errors: Mapping[str, str],
    when: str | None = None,
) -> StatusReport:
    """The roster's status from merge's manifest rows (file, status, code, reason, template,
    bureau_id, unit, errors) and each file's first error message."""
    by_id: dict[tuple[str, str], Bureau] = {}
    by_name: dict[tuple[str, str], Bureau] = {}
    for bureau in bureaus:
        by_id[(bureau.bureau_id, bureau.template)] = bureau
        if bureau.name:
            by_name[(_plain(bureau.name), bureau.template)] = bureau
    mine: dict[Bureau, list[Mapping[str, Any]]] = {b: [] for b in bureaus}
    files: list[FileStatus] = []
    for row in manifest:
        if row.get("status") == "skipped":
            continue
        found = _match(row, by_id, by_name)
        if found is None:
            files.append(
                FileStatus(
                    _text(row.get("file")),
                    OFF_ROSTER,
                    _text(row.get("bureau_id")),
                    _text(row.get("unit")),
                    _off_roster_reason(row, first_errors),
                )
            )
            continue
        mine[found].append(row)
    statuses = []
    for bureau in bureaus:
        rows = mine[bureau]
        status = BureauStatus(
            bureau.bureau_id, bureau.name, bureau.template, NOT_RETURNED, reason="尚未收到"
        )
        status.files = [_text(r.get("file")) for r in rows]
        chosen = next((r for r in rows if r.get("status") == "accepted"), None)
        if chosen is None and rows:
            chosen = rows[-1]  # nothing accepted: the latest file says what to correct
        if chosen is not None:
            errors = int(chosen.get("errors") or 0)
            accepted = chosen.get("status") == "accepted" and errors == 0
            status.status = ACCEPTED if accepted else TO_CORRECT
            status.reason = "" if accepted else _reason(chosen, first_errors)
            status.latest_file = _text(chosen.get("file"))
            status.errors = errors
        for row in rows:
            superseded = row.get("status") == "superseded"
            files.append(
                FileStatus(
                    _text(row.get("file")),
                    SUPERSEDED if superseded else status.status,
                    bureau.bureau_id,
                    _text(row.get("unit")),
                    _reason(row, first_errors),
                )
            )
        statuses.append(status)
    stamp = when or dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")
    return StatusReport(statuses, files, stamp)


def _match(
    row: Mapping[str, Any],
    by_id: Mapping[tuple[str, str], Bureau],
    by_name: Mapping[tuple[str, str], Bureau],
) -> Bureau | None:
    template = _text(row.get("template"))
    bureau_id, unit = _text(row.get("bureau_id")), _plain(_text(row.get("unit")))
    for key_template in (template, ""):
        if bureau_id and (bureau_id, key_template) in by_id:
            return by_id[(bureau_id, key_template)]
        if not bureau_id and unit and (unit, key_template) in by_name:
            return by_name[(unit, key_template)]
    return None


def _off_roster_reason(row: Mapping[str, Any], first_errors: Mapping[str, str]) -> str:
    unit = _text(row.get("unit")) or _text(row.get("bureau_id"))
    reason = "名册中没有这个单位" + (f"（{unit}）" if unit else "")
    found = _reason(row, first_errors)
    return reason + (f"；{found}" if found else "")


def _reason(row: Mapping[str, Any], first_errors: Mapping[str, str]) -> str:
    reason = _text(row.get("reason"))
    errors = int(row.get("errors") or 0)
    if not reason and errors:
        first = first_errors.get(_text(row.get("file")), "")
        reason = f"{errors} 个错误" + (f"，如：{first}" if first else "")
    return reason


def _text(value: Any) -> str:
    if value is None or value != value:  # NaN from pandas
        return ""
    return str(value)


def _plain(name: str) -> str:
    return "".join(name.split())


def run_status(
    manifest: Path, returns: Sequence[str | Path], *, specs_dir: Path | None, workers: int | None
) -> StatusReport:
    """Check the returns as merge does and line them up with the roster in ``manifest``; a
    distribution manifest (with fingerprints) also holds each return to the copy issued."""
    from .check.manifest import Manifest
    from .merge import merge

    bureaus = read_bureaus(manifest)
    issued = Manifest.of(manifest, bureaus) if Manifest.holds(bureaus) else None
    with merge(list(returns), specs_dir=specs_dir, workers=workers, manifest=issued) as result:
        rows = result.manifest.to_dict("records")
        findings = result.findings
        errors = findings[findings["severity"] == "error"]
        first_errors: dict[str, str] = {}
        for file, message in zip(errors["file"], errors["message"], strict=True):
            first_errors.setdefault(str(file), str(message))
    return line_up(bureaus, rows, first_errors)
