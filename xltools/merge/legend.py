"""字段说明: the summary workbook's columns as the analyst outputs name them, and the
templates' titles with their ids. The sheets people read show Chinese headers and titles
only; whoever joins them with the CSV, Parquet or SQLite tables (English keys, template ids)
looks the names up here, in the same workbook."""

from __future__ import annotations

from typing import Any, Final

from .safe import write_cell
from .sheet_setup import RowHeights, page_setup
from .spool import Spool, Table

SHEET: Final = "字段说明"
WIDTHS: Final = (12.0, 26.0, 26.0, 44.0)


def legend_sheet(workbook: Any, spool: Spool, tables: list[Table]) -> None:
    worksheet = workbook.add_worksheet(SHEET)
    for col, width in enumerate(WIDTHS):
        worksheet.set_column(col, col, width)
    page_setup(worksheet, landscape=False)
    worksheet.freeze_panes(1, 0)
    head = workbook.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "bottom": 1, "text_wrap": True, "valign": "top"}
    )
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    heights = RowHeights(list(WIDTHS), [True] * len(WIDTHS))
    row = 0

    def line(values: tuple[Any, ...], style: Any) -> None:
        nonlocal row
        height = heights(values)
        if height is not None:
            worksheet.set_row(row, height)
        for col, value in enumerate(values):
            write_cell(worksheet, row, col, value, style)
        row += 1

    line(("工作表", "列", "分析文件中的列名", "说明"), head)
    for table in tables:
        for column in table.columns:
            notes = []
            if column.hidden:
                notes.append("工作簿中隐藏（供程序和技术支持使用），取消隐藏即可查看")
            if column.sheet_sql is not None:
                notes.append("工作簿中显示模板名称，分析文件中是模板编号（见下表）")
            line((table.sheet, column.header, f"{table.key}.{column.key}", "；".join(notes)), wrap)
    row += 1
    line(("", "模板编号", "模板名称", ""), head)
    for template, title in spool.connection.execute(
        "SELECT template, MIN(COALESCE(title, '')) FROM files WHERE template IS NOT NULL"
        " AND template != '' GROUP BY template ORDER BY template"
    ):
        line(("模板", template, title, ""), wrap)
