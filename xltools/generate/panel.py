"""The 自检 panel: every check of the spec, live in the template, so the clerk sees each
problem while filling, long before the finance bureau's checker would.

Each check is the same expression tree the checker evaluates (``spec.checks``: the spec's own
checks, row checks, weight checks and required fields), compiled to a status formula on a first
sheet ``自检``, and to conditional formatting that marks the offending cell on the form while the
problem stands. The panel is a sheet of its own, so it is never part of the form's printout.
"""

from __future__ import annotations

from typing import Any, Final

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..expr import Boolean, Call, Node, Text, evaluate, to_formula, top_level
from ..spec.model import Check, Spec
from .layout import Layout
from .metadata import PANEL_SHEET
from .styles import FONT

OK, TODO = "通过", "待处理"
FIRST_ROW: Final = 5  # 0-based row of the first check
HEADER = ("序号", "级别", "检查内容", "位置", "状态")
SEVERITY_LABEL: Final = {"error": "错误", "warning": "提醒", "info": "提示"}
ERROR_FILL, WARNING_FILL = "#FF7C80", "#FFD966"


def status_node(check: Check) -> Node:
    """``IF(IFERROR(check, FALSE), "通过", "待处理")``: a check that cannot be evaluated is a
    problem too."""
    return Call("IF", (Call("IFERROR", (check.expr, Boolean(False))), Text(OK), Text(TODO)))


def problem_node(check: Check) -> Node:
    return Call("NOT", (Call("IFERROR", (check.expr, Boolean(False))),))


def check_status(check: Check, values: dict[str, Any]) -> str:
    return str(top_level(evaluate(status_node(check), values)))


def overall_text(errors: int, warnings: int) -> str:
    if errors:
        return f"还有 {errors} 个问题"
    return "可以提交" if not warnings else f"可以提交（另有 {warnings} 条提醒，请核实）"


def _anchor(spec: Spec, check: Check, layout: Layout) -> tuple[str, int, int] | None:
    positions = layout.field_positions()
    for field_id in check.cells or ():
        if field_id in positions:
            sheet, cell = positions[field_id]
            return sheet, cell.row, cell.col
    return None


def write_panel(
    workbook: Workbook, spec: Spec, layout: Layout, values: dict[str, Any], password: str
) -> Worksheet:
    """Add the panel sheet (call before the form sheets are added, so it comes first)."""
    sheet = workbook.add_worksheet(PANEL_SHEET)
    base = {"font_name": FONT, "font_size": 10, "valign": "vcenter", "text_wrap": True}
    title = workbook.add_format({**base, "bold": True, "font_size": 14})
    bold = workbook.add_format({**base, "bold": True})
    header = workbook.add_format(
        {**base, "bold": True, "border": 1, "bg_color": "#F2F2F2", "align": "center"}
    )
    cell = workbook.add_format({**base, "border": 1})
    link = workbook.add_format({**base, "border": 1, "font_color": "blue", "underline": 1})
    status_fmt = workbook.add_format({**base, "border": 1, "align": "center"})
    todo_error = workbook.add_format({"bg_color": ERROR_FILL, "bold": True})
    todo_warning = workbook.add_format({"bg_color": WARNING_FILL, "bold": True})
    done = workbook.add_format({"font_color": "#808080"})
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 6)
    sheet.set_column(2, 2, 60)
    sheet.set_column(3, 3, 10)
    sheet.set_column(4, 4, 10)
    sheet.merge_range(0, 0, 0, 4, "填报自检", title)
    sheet.write_string(
        2, 0, "本表随填写自动更新，不打印，也无需修改；“待处理”的项目请点击位置前往修改。", cell
    )
    sheet.merge_range(
        2,
        0,
        2,
        4,
        "本表随填写自动更新，不打印，也无需修改；“待处理”的项目请点击位置前往修改。",
        workbook.add_format(base),
    )
    for col, text in enumerate(HEADER):
        sheet.write_string(FIRST_ROW - 1, col, text, header)
    statuses = {"error": 0, "warning": 0}
    last = FIRST_ROW + max(len(spec.checks), 1) - 1
    for index, check in enumerate(spec.checks):
        row = FIRST_ROW + index
        status = check_status(check, values)
        if status == TODO and check.severity in statuses:
            statuses[check.severity] += 1
        sheet.write_number(row, 0, index + 1, cell)
        sheet.write_string(row, 1, SEVERITY_LABEL.get(check.severity, check.severity), cell)
        sheet.write_string(row, 2, check.message, cell)
        anchor = _anchor(spec, check, layout)
        if anchor is not None:
            where = xl_rowcol_to_cell(anchor[1], anchor[2])
            quoted = "'" + anchor[0].replace("'", "''") + "'"
            sheet.write_url(row, 3, f"internal:{quoted}!{where}", link, string=where)
        else:
            sheet.write_string(row, 3, "", cell)
        sheet.write_formula(row, 4, "=" + to_formula(status_node(check), str), status_fmt, status)
        fill = todo_error if check.severity == "error" else todo_warning
        sheet.conditional_format(
            row, 4, row, 4, {"type": "cell", "criteria": "==", "value": f'"{TODO}"', "format": fill}
        )
        sheet.conditional_format(
            row, 0, row, 3, {"type": "formula", "criteria": f'=$E${row + 1}="{OK}"', "format": done}
        )
    errors = _count(spec, "error", last)
    warnings = _count(spec, "warning", last)
    formula = f'=IF({errors}>0,"还有 "&{errors}&" 个问题",IF({warnings}=0,"可以提交","可以提交（另有 "&{warnings}&" 条提醒，请核实）"))'
    sheet.write_string(1, 0, "状态", bold)
    sheet.merge_range(1, 1, 1, 4, "", bold)
    sheet.write_formula(1, 1, formula, bold, overall_text(statuses["error"], statuses["warning"]))
    sheet.conditional_format(
        1,
        1,
        1,
        1,
        {"type": "text", "criteria": "begins with", "value": "还有", "format": todo_error},
    )
    sheet.freeze_panes(FIRST_ROW, 0)
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(FIRST_ROW - 1)
    sheet.protect(password, {"select_locked_cells": True, "select_unlocked_cells": True})
    return sheet


def _count(spec: Spec, severity: str, last: int) -> str:
    """COUNTIFS over the panel: problems of one severity still standing."""
    label = SEVERITY_LABEL[severity]
    first, end = FIRST_ROW + 1, last + 1
    return f'COUNTIFS($B${first}:$B${end},"{label}",$E${first}:$E${end},"{TODO}")'


def mark_cells(
    workbook: Workbook, worksheets: dict[str, Worksheet], spec: Spec, layout: Layout
) -> None:
    """Conditional formatting on the form: the cell a check points at turns red (error) or
    amber (warning) while its check fails."""
    formats = {
        "error": workbook.add_format({"bg_color": ERROR_FILL}),
        "warning": workbook.add_format({"bg_color": WARNING_FILL}),
    }
    for check in spec.checks:
        anchor = _anchor(spec, check, layout)
        if anchor is None or check.severity not in formats:
            continue
        sheet, row, col = anchor
        worksheets[sheet].conditional_format(
            row, col, row, col,
            {"type": "formula", "criteria": "=" + to_formula(problem_node(check), str), "format": formats[check.severity]},
        )  # fmt: skip
