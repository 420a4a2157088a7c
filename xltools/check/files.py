"""Checking many files: expand folders, check each, write the checked copies."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..filenames import readable
from ..registry import Registry
from ..xlsx.limits import Limits
from .report import Finding, Report

CHECKED_SUFFIX = ".checked.xlsx"


@dataclass
class CheckResult:
    report: Report
    copy: Path | None = None
    internal_error: bool = False


def expand_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and every file inside given folders (sorted), except our own checked
    copies and hidden or temporary files (``~$x.xlsx`` lock files)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not _skipped(child):
                    files.append(child)
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def _skipped(path: Path) -> bool:
    name = path.name
    return name.startswith((".", "~$")) or name.endswith(CHECKED_SUFFIX)


def copy_path(source: Path, output: Path | None, many: bool) -> Path:
    name = readable(source.stem) + CHECKED_SUFFIX
    if output is None:
        return source.with_name(name)
    if many or output.is_dir() or not output.suffix:
        return output / name
    return output


def run_checks(
    files: list[Path], *, output: Path | None, copy: bool, specs_dir: Path | None, progress: bool
) -> list[CheckResult]:
    import click

    from ..xlsx.limits import LimitsError, limits_from_env

    try:  # read once: a bad XLTOOLS_LIMITS is a usage error (exit 2), not one per file
        limits = limits_from_env()
    except LimitsError as error:
        raise click.UsageError(f"[usage-bad-limits] {error}") from error
    registry = Registry.load(specs_dir)
    results: list[CheckResult] = []
    iterator: Iterable[Path] = files
    bar = None
    if progress:
        bar = click.progressbar(files, label="检查", file=sys.stderr)
        iterator = bar.__enter__()
    try:
        for path in iterator:
            target = copy_path(path, output, len(files) > 1) if copy else None
            results.append(check_one(path, registry, limits, copy_to=target))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    return results


def check_one(
    path: Path, registry: Registry, limits: Limits | None, *, copy_to: Path | None
) -> CheckResult:
    """Check ``path`` and, when it could be read and ``copy_to`` is given, write the checked
    copy there: what ``xltools check`` does for each file. Never raises: a bug of ours becomes
    an ``internal-error`` finding (and exit 2)."""
    from .annotate import StrictPackage, write_checked_copy
    from .run import check_file

    try:
        report, workbook = check_file(path, registry, limits=limits)
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
        report = Report(file=str(path))
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
