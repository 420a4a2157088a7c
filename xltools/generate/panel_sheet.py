"""Writing the 自检 panel sheet: the status, the open problems, then every check.

Row heights come from :mod:`xltools.textfit` for every wrapped text: Excel and WPS do not grow
a row for wrapped text on their own, and a message cut off at the row's edge is a message the
clerk does not read. The top block's slots may show any check, so each is as tall as the
longest message of the spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..textfit import height_for, lines_needed, row_height
from .metadata import PANEL_SHEET
from .panel import ERROR_FILL, WARNING_FILL, PanelPlan, panel_texts
from .panel_layout import (
    ERROR_LABEL,
    FIRST_ROW,
    LIST_TITLE_ROW,
    MORE_ROW,
    NOTE_ROW,
    OK,
    OVERALL_CELL,
    PRINT_CELL,
    RANK_COL,
    SEVERITY_LABEL,
    TARGET_COL,
    TODO,
    TOP_FIRST,
    TOP_HEADER_ROW,
    TOP_SLOTS,
    more_text,
)
from .styles import FONT

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

HEADER = ("序号", "级别", "检查内容", "位置", "状态")
TOP_HEADER = ("序号", "级别", "待处理的问题（错误在前）", "位置", "清单序号")
WIDTHS = (6.0, 6.0, 60.0, 10.0, 10.0)  # A..E
MESSAGE_WIDTH = WIDTHS[2]
FULL_WIDTH = sum(WIDTHS)
FONT_PT, TITLE_PT, STATUS_PT = 10.0, 14.0, 16.0
NOTE = (
    "本表随填写自动更新，不打印，也无需修改。上方列出待处理的问题（最多 {slots} 项），"
    "点击“位置”前往修改；下方是全部 {count} 项检查，可点击左侧的“−”折叠。"
)


def write_panel(
    workbook: Workbook, plan: PanelPlan, values: dict[str, Any], password: str
) -> Worksheet:
    """Add the panel sheet (after the form sheets: the form is what opens and prints)."""
    sheet = workbook.add_worksheet(PANEL_SHEET)
    looks = _formats(workbook)
    for col, width in enumerate(WIDTHS):
        sheet.set_column(col, col, width)
    # helpers of the top block: hidden, the clerk has no use for them
    sheet.set_column(RANK_COL, TARGET_COL, 12, None, {"hidden": True})
    statuses, overall = panel_texts(plan, values)
    results = plan.top_values(statuses)

    sheet.merge_range(0, 0, 0, 4, "填报自检", looks["title"])
    sheet.set_row(0, height_for(1, TITLE_PT))
    sheet.write_string(1, 0, "状态", looks["bold"])
    sheet.merge_range(1, 1, 1, 4, "", looks["status"])
    sheet.write_formula(*OVERALL_CELL, plan.overall_formula, looks["status"], overall)
    sheet.set_row(1, height_for(1, STATUS_PT))
    note = NOTE.format(slots=TOP_SLOTS, count=len(plan.rows))
    sheet.merge_range(NOTE_ROW, 0, NOTE_ROW, 4, note, looks["plain"])
    sheet.set_row(NOTE_ROW, row_height(note, FULL_WIDTH, FONT_PT))
    for (row, col), formula in plan.top.items():
        if row < FIRST_ROW and col == RANK_COL:
            sheet.write_formula(row, col, formula, None, results[(row, col)])

    if plan.rows:
        _write_top(sheet, plan, results, looks)
    title = f"全部检查（共 {len(plan.rows)} 项）"
    sheet.merge_range(LIST_TITLE_ROW, 0, LIST_TITLE_ROW, 4, title, looks["bold"])
    for col, text in enumerate(HEADER):
        sheet.write_string(FIRST_ROW - 1, col, text, looks["header"])
    _write_list(sheet, plan, statuses, results, looks)

    sheet.conditional_format(
        *OVERALL_CELL, *OVERALL_CELL,
        {"type": "text", "criteria": "begins with", "value": "还有", "format": looks["todo_error"]},
    )  # fmt: skip
    # the title and the status stay in sight while the clerk scrolls the list
    sheet.freeze_panes(2, 0)
    # Never printed: a print area of one empty cell is an empty page, which LibreOffice skips
    # and Excel reports as nothing to print (the form, first and active, is what Ctrl+P gives).
    sheet.print_area(*PRINT_CELL, *PRINT_CELL)
    sheet.protect(password, {"select_locked_cells": True, "select_unlocked_cells": True})
    return sheet


def _formats(workbook: Workbook) -> dict[str, Format]:
    base = {"font_name": FONT, "font_size": FONT_PT, "valign": "vcenter", "text_wrap": True}
    cell = {**base, "border": 1}
    return {
        "plain": workbook.add_format(base),
        "title": workbook.add_format({**base, "bold": True, "font_size": TITLE_PT}),
        "bold": workbook.add_format({**base, "bold": True}),
        "status": workbook.add_format({**base, "bold": True, "font_size": STATUS_PT}),
        "header": workbook.add_format(
            {**cell, "bold": True, "bg_color": "#F2F2F2", "align": "center"}
        ),
        "cell": workbook.add_format(cell),
        "link": workbook.add_format({**cell, "font_color": "blue", "underline": 1}),
        "center": workbook.add_format({**cell, "align": "center"}),
        "todo_error": workbook.add_format({"bg_color": ERROR_FILL, "bold": True}),
        "todo_warning": workbook.add_format({"bg_color": WARNING_FILL, "bold": True}),
        "done": workbook.add_format({"font_color": "#808080"}),
    }


def _write_top(
    sheet: Worksheet,
    plan: PanelPlan,
    results: dict[tuple[int, int], str | int],
    looks: dict[str, Format],
) -> None:
    for col, text in enumerate(TOP_HEADER):
        sheet.write_string(TOP_HEADER_ROW, col, text, looks["header"])
    # any check may come to a slot: each is as tall as the longest message
    lines = max(lines_needed(r.message, MESSAGE_WIDTH, FONT_PT) for r in plan.rows)
    styles = {0: "center", 1: "center", 2: "cell", 3: "link", 4: "center"}
    for slot in range(TOP_SLOTS):
        row = TOP_FIRST + slot
        sheet.set_row(row, height_for(lines, FONT_PT))
        for col, look in styles.items():
            sheet.write_formula(row, col, plan.top[(row, col)], looks[look], results[(row, col)])
    first, last = TOP_FIRST + 1, TOP_FIRST + TOP_SLOTS
    for criteria, look in (
        (f'=$B{first}="{ERROR_LABEL}"', "todo_error"),
        (f'=AND($B{first}<>"",$B{first}<>"{ERROR_LABEL}")', "todo_warning"),
    ):
        sheet.conditional_format(
            TOP_FIRST, 1, last - 1, 1,
            {"type": "formula", "criteria": criteria, "format": looks[look]},
        )  # fmt: skip
    sheet.merge_range(MORE_ROW, 0, MORE_ROW, 4, "", looks["bold"])
    sheet.write_formula(MORE_ROW, 0, plan.top[(MORE_ROW, 0)], looks["bold"], results[(MORE_ROW, 0)])
    longest = more_text(len(plan.rows) + TOP_SLOTS)
    sheet.set_row(MORE_ROW, row_height(longest, FULL_WIDTH, FONT_PT))


def _write_list(
    sheet: Worksheet,
    plan: PanelPlan,
    statuses: list[str],
    results: dict[tuple[int, int], str | int],
    looks: dict[str, Format],
) -> None:
    # the list is one outline group under its header row: the clerk folds it with the "−"
    sheet.outline_settings(True, False, True, False)
    for index, (row_plan, status) in enumerate(zip(plan.rows, statuses, strict=True)):
        row = FIRST_ROW + index
        height = row_height(row_plan.message, MESSAGE_WIDTH, FONT_PT)
        sheet.set_row(row, height, None, {"level": 1})
        sheet.write_number(row, 0, index + 1, looks["cell"])
        sheet.write_string(row, 1, row_plan.label, looks["cell"])
        sheet.write_string(row, 2, row_plan.message, looks["cell"])
        if row_plan.link is not None:
            sheet.write_url(row, 3, row_plan.link[0], looks["link"], string=row_plan.link[1])
        else:
            sheet.write_string(row, 3, "", looks["cell"])
        sheet.write_formula(row, 4, row_plan.formula, looks["center"], status)
        sheet.write_formula(
            row, RANK_COL, plan.top[(row, RANK_COL)], None, results[(row, RANK_COL)]
        )
        if row_plan.target:
            sheet.write_string(row, TARGET_COL, row_plan.target)
    if not plan.rows:
        return
    # One rule per look over the whole list (not one per row): the same marks, and far
    # fewer rules for Excel and LibreOffice to keep.
    last = FIRST_ROW + len(plan.rows) - 1
    status_cell, label_cell = f"$E{FIRST_ROW + 1}", f"$B{FIRST_ROW + 1}"
    error_label = SEVERITY_LABEL["error"]
    for criteria, look in (
        (f'=AND({status_cell}="{TODO}",{label_cell}="{error_label}")', "todo_error"),
        (f'=AND({status_cell}="{TODO}",{label_cell}<>"{error_label}")', "todo_warning"),
    ):
        sheet.conditional_format(
            FIRST_ROW, 4, last, 4,
            {"type": "formula", "criteria": criteria, "format": looks[look]},
        )  # fmt: skip
    sheet.conditional_format(
        FIRST_ROW, 0, last, 3,
        {"type": "formula", "criteria": f'={status_cell}="{OK}"', "format": looks["done"]},
    )  # fmt: skip
