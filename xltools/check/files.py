"""Checking many files: collect the inputs as ``merge`` does, check each, write the copies.

Inputs are collected by :func:`xltools.merge.inputs.expand` — folders walked, zip archives
opened member by member, lock files, hidden files and checked copies set aside — so ``check``
and ``merge`` see the same returns in the same folder. ``check`` also sets aside what is not a
workbook by its name (a .pdf or .csv sent beside the return): such files are listed apart and
neither pass nor fail.

Where the checked copies go: one file named directly gets ``名称.checked.xlsx`` beside it (or
at ``-o``); otherwise each copy goes to ``-o`` when given, else to a ``已检查`` folder — in the
folder that was given, or beside the file or archive given — keeping the sub-folders of a
given folder. ``merge`` and a later ``check`` skip that folder. A member of an archive gets a
copy named after the archive and the member (``补交_甲县.checked.xlsx``).
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..filenames import readable
from ..merge.inputs import CHECKED_FOLDER, CHECKED_SUFFIX, InputItem, expand, is_workbook_name
from ..registry import Registry
from ..xlsx.limits import Limits
from .report import Finding, Report

if TYPE_CHECKING:
    from .manifest import Manifest

#: Why a skipped input was skipped, in the console's words.
SKIP_LABELS = {
    "skipped-not-workbook": "不是工作簿",
    "skipped-temporary": "临时锁定文件",
    "skipped-hidden": "隐藏文件",
    "skipped-checked-copy": "检查副本",
}
_NOT_A_WORKBOOK = (
    "skipped-not-workbook",
    "不是工作簿（扩展名不是 .xlsx/.xlsm/.xls 等），不计为不通过；如果它其实是工作簿，请改回 .xlsx 扩展名",
)
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass
class CheckResult:
    report: Report
    copy: Path | None = None
    internal_error: bool = False


@dataclass
class Inputs:
    """What ``check`` was given: the returns, in order (an archive or member that could not
    be extracted is among them, to fail with its reason), and what was set aside."""

    returns: list[InputItem] = field(default_factory=list)
    skipped: list[InputItem] = field(default_factory=list)


def collect(paths: Iterable[Path], *, workdir: Path, exclude: Iterable[Path] = ()) -> Inputs:
    """The inputs named by ``paths`` (see the module docstring); archive members are extracted
    under ``workdir``, which must outlive the check."""
    found = Inputs()
    for item in expand(list(paths), workdir=workdir, exclude=exclude):
        if item.skipped:
            found.skipped.append(item)
        elif not item.refused and not is_workbook_name(item.name):
            found.skipped.append(replace(item, code=_NOT_A_WORKBOOK[0], reason=_NOT_A_WORKBOOK[1]))
        else:
            found.returns.append(item)
    return found


def is_single(items: Sequence[InputItem]) -> bool:
    """One file named directly: its copy keeps the old default (beside it, or at ``-o``)."""
    return len(items) == 1 and not items[0].root and not items[0].archive


def copy_path(source: Path, output: Path | None, many: bool) -> Path:
    name = readable(source.stem) + CHECKED_SUFFIX
    if output is None:
        return source.with_name(name)
    if many or output.is_dir() or not output.suffix:
        return output / name
    return output


def copy_name(item: InputItem) -> str:
    """``甲县.checked.xlsx``; for a member of an archive ``补交_sub_甲县.checked.xlsx`` (no
    folder of the archive's is ever a folder of ours: ``../`` tricks write nothing outside)."""
    if not item.archive:
        return readable(Path(item.path).stem) + CHECKED_SUFFIX
    parts = [p for p in item.member.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    parts[-1:] = [Path(parts[-1]).stem] if parts else []
    stem = "_".join([readable(Path(item.archive).stem), *parts])
    return _UNSAFE.sub("_", stem)[:150] + CHECKED_SUFFIX


def copy_targets(items: Sequence[InputItem], output: Path | None) -> list[Path]:
    """Where each item's checked copy goes (see the module docstring); never twice the same."""
    if is_single(items):
        return [copy_path(Path(items[0].path), output, many=False)]
    targets: list[Path] = []
    used: set[Path] = set()
    for item in items:
        source = Path(item.archive or item.path)
        if item.root:
            base = output if output is not None else Path(item.root) / CHECKED_FOLDER
            folder = base / source.parent.relative_to(item.root)
        else:
            folder = output if output is not None else source.parent / CHECKED_FOLDER
        stem = copy_name(item).removesuffix(CHECKED_SUFFIX)
        target, number = folder / (stem + CHECKED_SUFFIX), 1
        while target in used:  # a/x.xlsx and b/x.xlsx checked into one folder
            number += 1
            target = folder / f"{stem}_{number}{CHECKED_SUFFIX}"
        used.add(target)
        targets.append(target)
    return targets


def run_checks(
    files: Sequence[Path | InputItem],
    *,
    output: Path | None,
    copy: bool,
    specs_dir: Path | None,
    progress: bool,
    manifest: Manifest | None = None,
) -> list[CheckResult]:
    """Check every file (paths, or the returns :func:`collect` found), in order."""
    import click

    from ..xlsx.limits import LimitsError, limits_from_env

    try:  # read once: a bad XLTOOLS_LIMITS is a usage error (exit 2), not one per file
        limits = limits_from_env()
    except LimitsError as error:
        raise click.UsageError(f"[usage-bad-limits] {error}") from error
    registry = Registry.load(specs_dir)
    items = [f if isinstance(f, InputItem) else InputItem(str(f), str(f)) for f in files]
    targets: Sequence[Path | None] = copy_targets(items, output) if copy else [None] * len(items)
    results: list[CheckResult] = []
    iterator: Iterable[tuple[InputItem, Path | None]] = zip(items, targets, strict=True)
    bar = None
    if progress:
        bar = click.progressbar(list(iterator), label="检查", file=sys.stderr)
        iterator = bar.__enter__()
    try:
        for item, target in iterator:
            if item.refused:  # an archive or member that could not be extracted: a failed return
                report = Report(file=item.display)
                report.add(Finding("error", item.code, item.reason))
                results.append(CheckResult(report))
                continue
            results.append(
                check_one(
                    Path(item.path),
                    registry,
                    limits,
                    copy_to=target,
                    display=item.display,
                    manifest=manifest,
                )
            )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    return results


def check_one(
    path: Path,
    registry: Registry,
    limits: Limits | None,
    *,
    copy_to: Path | None,
    display: str | None = None,
    manifest: Manifest | None = None,
) -> CheckResult:
    """Check ``path`` and, when it could be read and ``copy_to`` is given, write the checked
    copy there: what ``xltools check`` does for each file. ``display`` names the file in the
    report (``补交.zip!甲县.xlsx`` for an extracted member). Never raises: a bug of ours
    becomes an ``internal-error`` finding (and exit 2)."""
    from .annotate import StrictPackage, write_checked_copy
    from .run import check_file

    try:
        report, workbook = check_file(path, registry, limits=limits, manifest=manifest)
        if display is not None:
            report.file = display
        result = CheckResult(report)
        if copy_to is None or workbook is None:
            return result
        if copy_to.resolve() == path.resolve():
            report.add(Finding("error", "usage-overwrite-input", "检查后的副本不能覆盖原文件"))
            return result
        copy_to.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_checked_copy(path, copy_to, report)
        except StrictPackage as error:  # its message says how to save it (all Chinese)
            report.add(Finding("warning", "copy-not-written", str(error), found="Strict Open XML"))
        except ValueError as error:
            # A package the reader accepts but the annotator cannot edit (no styles part,
            # UTF-16 parts …): the check stands, only the copy is missing. This ended in an
            # internal error (exit 2) before. The annotator's own (English) words go to
            # "found", for whoever reports it, not into the Chinese message.
            report.add(
                Finding(
                    "warning",
                    "copy-not-written",
                    "未能写出检查后的副本：此文件的结构不是本工具能编辑的形式；检查结果不受影响。"
                    "用 Excel 或 WPS 打开并重新保存后再检查，即可得到副本。",
                    found=str(error)[:200],
                )
            )
        else:
            result.copy = copy_to
        return result
    except Exception as error:  # a bug of ours: say so, keep going, exit 2 at the end
        report = Report(file=display or str(path))
        report.add(
            Finding(
                "error",
                "internal-error",
                f"检查时发生内部错误（{type(error).__name__}: {error}）；请把此文件和这条信息反馈给开发人员。",
            )
        )
        if os.environ.get("XLTOOLS_DEBUG"):  # the traceback is for developers only
            traceback.print_exc(file=sys.stderr)
        return CheckResult(report, internal_error=True)
