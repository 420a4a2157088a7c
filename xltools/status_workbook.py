"""The ``xltools status -o 进度.xlsx`` workbook: a first screen an officer can hand on (title,
date, counts, who to chase), then the bureaus and the files, printable on A4."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import atomic_path
from .status import ACCEPTED, NOT_RETURNED, OFF_ROSTER, SUPERSEDED, TO_CORRECT, StatusReport
from .textfit import row_height

if TYPE_CHECKING:  # imported for real when the workbook is written
    from xlsxwriter.worksheet import Worksheet

_BUREAU_COLUMNS = (
    ("单位编号", 12),
    ("单位", 26),
    ("状态", 11),
    ("原因", 60),
    ("最新的文件", 36),
    ("收到文件数", 10),
)
_FILE_COLUMNS = (("文件", 48), ("状态", 11), ("单位编号", 12), ("单位", 24), ("原因", 60))
_FILLS = {ACCEPTED: "#E2EFDA", TO_CORRECT: "#FCE4D6", NOT_RETURNED: "#FFF2CC"}


def write_status_workbook(report: StatusReport, target: Path) -> None:
    import xlsxwriter

    with atomic_path(target) as temporary:
        book = xlsxwriter.Workbook(str(temporary))
        title = book.add_format({"bold": True, "font_size": 16})
        header = book.add_format(
            {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True, "valign": "top"}
        )
        cell = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
        status_formats = {
            s: book.add_format({"border": 1, "valign": "top", "bg_color": c})
            for s, c in _FILLS.items()
        }
        sheet = book.add_worksheet("填报进度")
        _setup(sheet, _BUREAU_COLUMNS, header_row=6, landscape=True)
        sheet.write(0, 0, "绩效自评表填报进度", title)
        sheet.set_row(0, 24)
        sheet.write(1, 0, f"统计时间：{report.when}")
        sheet.write(2, 0, report.line)
        sheet.write(3, 0, _next_step(report))
        for col, (label, _) in enumerate(_BUREAU_COLUMNS):
            sheet.write(5, col, label, header)
        sheet.set_row(5, _height(tuple(c for c, _ in _BUREAU_COLUMNS), _BUREAU_COLUMNS))
        order = {TO_CORRECT: 0, NOT_RETURNED: 1, ACCEPTED: 2}
        for row, bureau in enumerate(
            sorted(report.bureaus, key=lambda b: order[b.status]), start=6
        ):
            values: tuple[object, ...] = (
                bureau.bureau_id,
                bureau.name,
                bureau.status,
                bureau.reason,
                Path(bureau.latest_file).name,
                len(bureau.files),
            )
            for col, value in enumerate(values):
                style = status_formats.get(bureau.status, cell) if col == 2 else cell
                sheet.write(row, col, value, style)
            sheet.set_row(row, _height(values, _BUREAU_COLUMNS))
        files = book.add_worksheet("收到的文件")
        _setup(files, _FILE_COLUMNS, header_row=1, landscape=True)
        for col, (label, _) in enumerate(_FILE_COLUMNS):
            files.write(0, col, label, header)
        files.set_row(0, _height(tuple(c for c, _ in _FILE_COLUMNS), _FILE_COLUMNS))
        for row, item in enumerate(report.files, start=1):
            values = (Path(item.file).name, item.status, item.bureau_id, item.unit, item.reason)
            for col, value in enumerate(values):
                files.write(row, col, value, cell)
            files.set_row(row, _height(values, _FILE_COLUMNS))
        book.close()


def _next_step(report: StatusReport) -> str:
    chase = report.count(NOT_RETURNED)
    fix = report.count(TO_CORRECT)
    if not chase and not fix:
        return "下一步：全部单位已采纳，可以汇总（xltools merge）。"
    steps = []
    if fix:
        steps.append(f"请 {fix} 个单位按原因修改后重新报送")
    if chase:
        steps.append(f"催报 {chase} 个未交单位")
    extra = report.count_files(OFF_ROSTER)
    if extra:
        steps.append(f"核对 {extra} 个名册外的文件")
    superseded = report.count_files(SUPERSEDED)
    tail = f"（被替代的旧文件 {superseded} 个，无需处理）" if superseded else ""
    return "下一步：" + "；".join(steps) + "。" + tail


def _height(values: tuple[object, ...], columns: tuple[tuple[str, int], ...]) -> float:
    return max(row_height(str(v), width) for v, (_, width) in zip(values, columns, strict=True))


def _setup(
    sheet: Worksheet, columns: tuple[tuple[str, int], ...], header_row: int, landscape: bool
) -> None:
    for col, (_, width) in enumerate(columns):
        sheet.set_column(col, col, width)
    sheet.set_paper(9)  # A4
    if landscape:
        sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(header_row - 1)
    sheet.set_footer("&C第 &P 页，共 &N 页")
    sheet.freeze_panes(header_row, 0)
