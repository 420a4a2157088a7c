"""What ``merge`` is given, as a flat list of inputs, each accounted for exactly once.

An argument may be a file, a folder (every file under it, recursively, sorted), a glob pattern
(expanded here, so that ``"returns/**/*.xlsx"`` works where the shell does not expand it, as on
Windows) or a ``.zip`` archive of returns. Each member of an archive is an input of its own,
named ``archive.zip!dir/member.xlsx``; members are extracted to a temporary folder under file
names of our own (never the names inside the archive, so ``../`` tricks write nothing outside
it) and keep their modification time from the archive. Archives inside archives are not opened:
such a member is an input like any other (and is rejected as not a workbook).

An archive is refused as a whole, as one rejected input with its reason, when it is not a zip,
has more members than :class:`ArchiveLimits` allows, or would inflate past its limits: the
sizes the archive declares are checked first, then the bytes actually inflated are counted while
extracting (declared sizes can lie), so a zip bomb stops at the limit and never fills the disk.

Nothing is skipped silently: hidden and temporary files (``~$x.xlsx`` lock files, ``.DS_Store``)
and the checked copies ``xltools check`` writes (``*.checked.xlsx``, and every file in a
``已检查`` folder met while walking a folder) are inputs too, each with a ``skipped-*`` code and
its reason, and never checked: ``merge`` lists them as 跳过 (not 未采纳), ``check`` lists them
apart. ``check`` and ``merge`` collect their inputs here, so the two cannot disagree on what
a folder or an archive holds.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from ..filenames import readable

CHECKED_SUFFIX: Final = ".checked.xlsx"
#: The folder ``xltools check`` writes its copies into by default; skipped when walking.
CHECKED_FOLDER: Final = "已检查"
#: What a spreadsheet application saves; ``check`` lists anything else apart (a .pdf, .csv,
#: .docx sent beside the return is not a failed return). Legacy, binary and OpenDocument
#: formats stay in: the checker names them and says how to re-save.
WORKBOOK_SUFFIXES: Final = frozenset(
    {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods", ".et", ".ett"}
)
_GLOB_CHARS: Final = frozenset("*?[")
_MB: Final = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """Upper bounds for one zip archive of returns."""

    #: Members (files) in one archive.
    max_members: int = 10_000
    #: Inflated size of one member (50 MB, as for one workbook read by the checker).
    max_member_bytes: int = 50 * _MB
    #: Inflated size of all members together (2 GB).
    max_total_bytes: int = 2048 * _MB
    #: Inflated : compressed ratio of one member, for members larger than ``ratio_min_bytes``.
    max_ratio: float = 200.0
    ratio_min_bytes: int = 1 * _MB


DEFAULT_ARCHIVE_LIMITS: Final = ArchiveLimits()


@dataclass(frozen=True)
class InputItem:
    """One input. ``path`` is the file to check (an extracted copy for archive members);
    ``code`` and ``reason`` are set when the input is refused without being checked."""

    display: str
    path: str
    code: str = ""
    reason: str = ""
    mtime: float | None = None  # for archive members: the time the archive records
    root: str = ""  # the folder argument it was found under ("" for a file named directly)
    archive: str = ""  # for archive members: the archive's path
    member: str = ""  # for archive members: its name inside the archive

    @property
    def refused(self) -> bool:
        return bool(self.code)

    @property
    def skipped(self) -> bool:
        """Not a return at all (a lock file, a hidden file, a checked copy): never checked,
        and no reason to fail a merge or a check."""
        return self.code.startswith("skipped-")

    @property
    def name(self) -> str:
        """The file's own name: the member's for archive members."""
        return (self.member or self.display).replace("\\", "/").rsplit("/", 1)[-1]


def is_workbook_name(name: str) -> bool:
    """True when ``name`` ends as a spreadsheet application's file does."""
    return Path(name).suffix.lower() in WORKBOOK_SUFFIXES


class InputError(ValueError):
    """An argument names nothing: a missing path, or a pattern that matches no file."""


def expand(
    arguments: Sequence[str | Path],
    *,
    workdir: Path,
    exclude: Iterable[Path] = (),
    limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
) -> list[InputItem]:
    """Every input named by ``arguments``, in order, each file once. Archives are extracted
    under ``workdir``. Files at or under an ``exclude`` path (the merge's own outputs) are
    left out. Raises :class:`InputError` listing every argument that names nothing."""
    excluded = [_resolved(p) for p in exclude]
    files: list[tuple[Path, Path | None, bool]] = []  # (file, folder it was found under, in 已检查)
    missing: list[str] = []
    for argument in arguments:
        text = str(argument)
        path = Path(text)
        if path.exists():
            files.extend(_walk(path))
        elif _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                missing.append(f"[usage-no-match] 模式 “{text}” 没有匹配到任何文件")
            for match in matches:
                files.extend(_walk(Path(match)))
        else:
            missing.append(f"[usage-file-not-found] 找不到 “{text}”：请检查路径")
    if missing:
        raise InputError("\n".join(missing))
    items: list[InputItem] = []
    seen: set[Path] = set()
    archives = 0
    # "at or under": compared as text, which is what Path.parents would find, without
    # building every parent of every one of tens of thousands of files
    under = tuple(str(e).rstrip(os.sep) + os.sep for e in excluded)
    folders: dict[Path, Path] = {}  # resolving a file's folder once, not once per file
    for file, root, in_checked_folder in files:
        real = _resolved_in(file, folders)
        if real in seen or real in excluded or str(real).startswith(under):
            continue
        seen.add(real)
        found_under = "" if root is None else str(root)
        skipped = _CHECKED_COPY if in_checked_folder else _skip_reason(file.name)
        if skipped:
            items.append(InputItem(readable(str(file)), str(file), *skipped, root=found_under))
        elif file.suffix.lower() == ".zip":
            archives += 1
            members = _archive(file, workdir / f"zip{archives:06d}", limits)
            items.extend(replace(m, root=found_under) for m in members)
        else:
            items.append(InputItem(readable(str(file)), str(file), root=found_under))
    return items


def _resolved_in(path: Path, folders: dict[Path, Path]) -> Path:
    """``path`` resolved, its folder taken from ``folders`` (and added to it)."""
    if path.is_symlink():
        return _resolved(path)
    folder = folders.get(path.parent)
    if folder is None:
        folder = folders[path.parent] = _resolved(path.parent)
    return folder / path.name


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _walk(path: Path) -> list[tuple[Path, Path | None, bool]]:
    """The files of ``path``: (file, the folder walked or None, inside a 已检查 folder)."""
    if path.is_dir():
        return [
            (p, path, CHECKED_FOLDER in p.relative_to(path).parts[:-1])
            for p in sorted(path.rglob("*"))
            if p.is_file()
        ]
    return [(path, None, False)]


def _skip_reason(name: str) -> tuple[str, str] | None:
    if name.startswith("~$"):
        return (
            "skipped-temporary",
            "Excel/WPS 打开文件时留下的临时锁定文件（~$ 开头），不是提交的工作簿，跳过",
        )
    if name.startswith("."):
        return "skipped-hidden", "隐藏文件（. 开头，多为系统或同步软件生成），跳过"
    if name.endswith(CHECKED_SUFFIX):
        return _CHECKED_COPY
    return None


_CHECKED_COPY: Final = (
    "skipped-checked-copy",
    "xltools check 生成的检查副本（或在“已检查”文件夹中），不是单位提交的原件，跳过",
)


class _Refused(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def _archive(path: Path, destination: Path, limits: ArchiveLimits) -> list[InputItem]:
    display = readable(str(path))
    try:
        return _extract(path, display, destination, limits)
    except _Refused as refused:
        shutil.rmtree(destination, ignore_errors=True)
        return [InputItem(display, str(path), refused.code, refused.reason)]


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it: archives made on Chinese Windows store GBK
    names without the UTF-8 flag, which zipfile decodes as CP437."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("gbk")
    return name


def _extract(path: Path, display: str, destination: Path, limits: ArchiveLimits) -> list[InputItem]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise _Refused(
            "archive-unreadable",
            f"压缩包无法打开（{error}）：不是有效的 .zip 文件，请重新打包后提交",
        ) from error
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if not members:
            raise _Refused("archive-empty", "压缩包里没有文件：请确认打包时选中了要提交的工作簿")
        if len(members) > limits.max_members:
            raise _Refused(
                "archive-too-many-members",
                f"压缩包内有 {len(members)} 个文件，超过上限 {limits.max_members}：请分批打包",
            )
        declared = 0
        for info in members:
            _check_size(info, info.file_size, limits)
            declared += info.file_size
        if declared > limits.max_total_bytes:
            raise _Refused(
                "archive-zip-bomb",
                f"压缩包解压后共 {declared / _MB:.0f} MB，超过上限 "
                f"{limits.max_total_bytes / _MB:.0f} MB：疑似“压缩炸弹”，未解压",
            )
        destination.mkdir(parents=True, exist_ok=True)
        items: list[InputItem] = []
        total = 0
        for number, info in enumerate(members):
            name = _member_name(info)
            member_display = f"{display}!{name}"
            skipped = _skip_reason(name.rsplit("/", 1)[-1])
            if skipped:
                items.append(
                    InputItem(member_display, "", *skipped, archive=str(path), member=name)
                )
                continue
            if info.flag_bits & 0x1:
                items.append(
                    InputItem(
                        member_display,
                        "",
                        "archive-member-encrypted",
                        "压缩包中的这个文件设置了解压密码，无法读取：请不加密码重新打包",
                        archive=str(path),
                        member=name,
                    )
                )
                continue
            suffix = "".join(ch for ch in Path(name).suffix[:12] if ch.isalnum() or ch == ".")
            target = destination / f"{number:06d}{suffix}"
            try:
                total += _copy_member(archive, info, target, limits, total)
            except _Refused:
                raise
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as e:
                target.unlink(missing_ok=True)
                items.append(
                    InputItem(
                        member_display,
                        "",
                        "archive-member-unreadable",
                        f"压缩包中的这个文件已损坏，无法解压（{e}）：请重新打包后提交",
                        archive=str(path),
                        member=name,
                    )
                )
                continue
            mtime = _zip_time(info)
            os.utime(target, (mtime, mtime))
            items.append(
                InputItem(member_display, str(target), mtime=mtime, archive=str(path), member=name)
            )
        return items


def _check_size(info: zipfile.ZipInfo, size: int, limits: ArchiveLimits) -> None:
    too_big = size > limits.max_member_bytes
    ratio = size / max(info.compress_size, 1)
    if too_big or (size > limits.ratio_min_bytes and ratio > limits.max_ratio):
        what = (
            f"解压后大于 {limits.max_member_bytes / _MB:.0f} MB"
            if too_big
            else f"压缩比 {ratio:.0f}:1 超过 {limits.max_ratio:.0f}:1"
        )
        raise _Refused(
            "archive-zip-bomb",
            f"压缩包中的 “{_member_name(info)}” {what}：疑似“压缩炸弹”，整个压缩包未采纳",
        )


def _copy_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limits: ArchiveLimits, total: int
) -> int:
    """Inflate one member chunk by chunk, counting what is really produced."""
    written = 0
    with archive.open(info) as source, target.open("wb") as sink:
        while chunk := source.read(1 << 16):
            written += len(chunk)
            _check_size(info, written, limits)
            if total + written > limits.max_total_bytes:
                raise _Refused(
                    "archive-zip-bomb",
                    f"压缩包解压后超过 {limits.max_total_bytes / _MB:.0f} MB：疑似“压缩炸弹”，未采纳",
                )
            sink.write(chunk)
    return written


def _zip_time(info: zipfile.ZipInfo) -> float:
    try:
        return time.mktime((*info.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        return 0.0
