"""Check one returned workbook: read, identify, verify structure, parse inputs, recompute,
evaluate checks. Trusts nothing but the input cells and the spec."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..generate.metadata import PANEL_SHEET
from ..registry import Registry
from ..xlsx.limits import MB
from .blank import mark_blank
from .context import CheckContext
from .identify import identify
from .inputs import read_inputs
from .panel import check_panel
from .report import Finding, Report
from .rules import evaluate_checks, recompute_and_compare
from .structure import check_structure

if TYPE_CHECKING:
    from ..xlsx.limits import Limits
    from ..xlsx.reader import RawWorkbook
    from .manifest import Manifest

UNIT_FIELDS = ("unit_name", "department_name", "dept_name", "project_unit", "department")


def check_file(
    path: Path,
    registry: Registry,
    *,
    limits: Limits | None = None,
    manifest: Manifest | None = None,
) -> tuple[Report, RawWorkbook | None]:
    """The report of one file, and the workbook as read (None when unreadable); with a
    ``manifest``, also whether it is the copy that was issued to its bureau.

    ``limits`` default to those of the ``XLTOOLS_LIMITS`` environment variable
    (:func:`~xltools.xlsx.limits.limits_from_env`; a bad setting raises its LimitsError)."""
    from ..xlsx.limits import limits_from_env
    from ..xlsx.reader import WorkbookReadError, read_workbook

    started = time.perf_counter()
    limits = limits or limits_from_env()
    report = Report(file=str(path))
    try:
        data = _read_bounded(path, limits.max_file_bytes)
    except OSError as error:
        report.add(Finding("error", "read-unreadable", f"无法读取文件：{error.strerror or error}"))
        return report, None
    except _TooLarge as error:
        report.bytes = error.size
        report.add(Finding("error", "read-too-large", error.message))
        report.seconds = time.perf_counter() - started
        return report, None
    report.sha256 = hashlib.sha256(data).hexdigest()
    report.bytes = len(data)
    try:
        # the 自检 panel, as large as the form, is compared by check_panel (mostly by digest)
        workbook = read_workbook(data, limits, skip_sheets=(PANEL_SHEET,))
    except WorkbookReadError as error:
        report.add(Finding("error", error.code, error.message))
        report.seconds = time.perf_counter() - started
        return report, None
    _package_findings(workbook, report)
    found = identify(workbook, registry, report)
    if found is not None:
        spec, meta = found
        ctx = CheckContext(spec, workbook, report, meta)
        check_structure(ctx)
        check_panel(ctx, data, limits)
        read_inputs(ctx)
        values = recompute_and_compare(ctx)
        evaluate_checks(ctx, values)
        mark_blank(ctx)
        if manifest is not None:
            from .manifest import compare

            compare(report, manifest)
        report.unit = report.bureau_name or next(
            (str(values[f]) for f in UNIT_FIELDS if isinstance(values.get(f), str) and values[f]),
            "",
        )
    report.seconds = time.perf_counter() - started
    return report, workbook


class _TooLarge(Exception):
    def __init__(self, size: int, message: str) -> None:
        super().__init__(message)
        self.size, self.message = size, message


def _read_bounded(path: Path, limit: int) -> bytes:
    """The file's bytes, reading at most ``limit`` + 1 of them. (Reading the whole file first
    let a 10 GB file, or ``/dev/zero``, exhaust memory before the size limit was looked at; a
    FIFO or device would block or never end, so only regular files are read.)"""
    with open(path, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "不是普通文件（可能是设备、管道或套接字）")
        if info.st_size > limit:
            raise _TooLarge(info.st_size, _too_large(info.st_size, limit))
        data = handle.read(limit + 1)
    if len(data) > limit:  # the file grew while it was read
        raise _TooLarge(len(data), _too_large(len(data), limit))
    return data


def _too_large(size: int, limit: int) -> str:
    return (
        f"文件有 {_size(size)}，超过读取上限 {_size(limit)}，不像是一份自评表。"
        "请确认没有误提交其他文件；确需读取时，可用环境变量 XLTOOLS_LIMITS 调高 max_file_bytes。"
    )


def _size(n: int) -> str:
    return f"{n / MB:,.1f} MB" if n >= MB else f"{n:,} 字节"


def _package_findings(workbook: RawWorkbook, report: Report) -> None:
    """What the package carries besides the form: never run or followed, always reported."""
    if workbook.has_macros:
        # An error, not a warning: no template of ours carries code, so a macro project (or an
        # Excel 4 macro sheet) was added after distribution. The checker never runs it (it
        # reads XML only), but whoever opens the file or its checked copy in Excel may be asked
        # to enable it, and a macro can rewrite the figures shown when the file is opened.
        parts = [p for p in workbook.parts if _is_macro_part(p)]
        report.add(
            Finding(
                "error",
                "read-macros",
                "工作簿含有宏（"
                + ("、".join(parts[:3]) or "宏表")
                + "）：下发的模板不含宏，宏可能在打开文件时改写显示的数字或执行恶意操作。"
                "检查程序没有运行它，此文件不能采纳。请在下发的 .xlsx 模板中填写，或在 Excel 中"
                "“另存为”Excel 工作簿（*.xlsx，不含宏）后重新提交；不要打开宏。",
                found="; ".join(parts[:3]),
            )
        )
    if workbook.external_links:
        links = workbook.external_links
        report.add(
            Finding(
                "error",
                "read-external-links",
                f"工作簿链接了其他文件（{len(links)} 个外部链接，如 {links[0]}）：表中的数可能取自"
                "检查人看不到的文件，打开时还会提示更新链接。请在 Excel 中“数据 → 编辑链接 → "
                "断开链接”（WPS：“数据 → 编辑链接”）把它们改为数值后保存，再提交。",
                found="; ".join(links[:3]),
            )
        )


def _is_macro_part(name: str) -> bool:
    low = name.lower()
    return low.endswith("vbaproject.bin") or low.startswith("xl/macrosheets/")
