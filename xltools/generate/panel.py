"""The 自检 panel: every check of the spec, live in the template, so the clerk sees each
problem while filling, long before the finance bureau's checker would.

Each check is the same expression tree the checker evaluates (``spec.checks``: the spec's own
checks, row checks, weight checks and required fields), compiled to a status formula on a first
sheet ``自检``, and to conditional formatting that marks the offending cell on the form while the
problem stands (:mod:`xltools.generate.marks`). The panel is a sheet of its own, after the
form, and prints nothing: its print area is one empty cell, so Ctrl+P and a PDF export give
the form alone.

What does not depend on the values (rows, formula texts, links, marks) is planned once per
spec (:func:`plan_panel`); a bureau's workbook adds only the statuses, which are remembered by
the values each check reads (:class:`StatusCache`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ..cellref import a1
from ..expr import Boolean, Call, Name, Node, Text, evaluate, to_formula, top_level
from ..expr.ast import walk
from ..spec.model import Check, Spec
from .layout import Cell, Layout
from .metadata import PANEL_SHEET
from .styles import FONT

if TYPE_CHECKING:  # the checker plans the panel to compare it, without loading XlsxWriter
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

OK, TODO = "通过", "待处理"
FIRST_ROW: Final = 5  # 0-based row of the first check
OVERALL_CELL: Final = (1, 1)  # 0-based (row, col) of the overall status formula
PRINT_CELL: Final = (0, 6)  # G1, always empty: the panel's print area
HEADER = ("序号", "级别", "检查内容", "位置", "状态")
SEVERITY_LABEL: Final = {"error": "错误", "warning": "提醒", "info": "提示"}
ERROR_FILL, WARNING_FILL = "#FF7C80", "#FFD966"
MARKED: Final = ("error", "warning")  # severities whose cell is marked on the form


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


def anchor_at(check: Check, positions: dict[str, tuple[str, Cell]]) -> tuple[str, int, int] | None:
    """The sheet and cell a check points at: the first of its cells that is on the form."""
    for field_id in check.cells or ():
        if field_id in positions:
            sheet, cell = positions[field_id]
            return sheet, cell.row, cell.col
    return None


@dataclass(frozen=True)
class PanelRow:
    severity: str
    label: str  # 错误 / 提醒 / 提示
    message: str
    link: tuple[str, str] | None  # (internal URL, the cell it shows)
    formula: str  # the status formula, "=IF(IFERROR(…),"通过","待处理")"


@dataclass(frozen=True)
class MarkRule:
    sheet: str
    row: int
    col: int
    criteria: str
    severity: str
    check: int  # its index in the spec's checks
    quiet: bool = False  # a required field left empty: work to do, not an error


@dataclass
class PanelPlan:
    """Everything the panel and the form's marks hold that does not depend on the values:
    built once per spec; a bureau's workbook adds only the statuses."""

    checks: tuple[Check, ...]
    rows: tuple[PanelRow, ...]
    overall_formula: str
    marks: tuple[MarkRule, ...]
    statuses: StatusCache = field(init=False)

    def __post_init__(self) -> None:
        self.statuses = StatusCache(self.checks)


class StatusCache:
    """Check statuses, each remembered by the values of the fields its expression names.

    A check is a pure function of those values, and across a roster most of them name only
    fields no bureau pre-fills, so each is evaluated once instead of once per workbook."""

    LIMIT: Final = 200_000

    def __init__(self, checks: tuple[Check, ...]) -> None:
        # Each node is built once: the evaluator compiles a tree once per node object.
        self._nodes = [status_node(c) for c in checks]
        self._names = [
            tuple(sorted({n.name for n in walk(node) if isinstance(n, Name)}))
            for node in self._nodes
        ]
        self._seen: dict[tuple[int, tuple[tuple[type, str], ...]], str] = {}

    def __call__(self, values: dict[str, Any]) -> list[str]:
        if len(self._seen) > self.LIMIT:
            self._seen.clear()
        out = []
        for index, (node, names) in enumerate(zip(self._nodes, self._names, strict=True)):
            # type and repr: True == 1.0 and 0.0 == -0.0, but a check may tell them apart
            key = (index, tuple((type(v), repr(v)) for v in map(values.get, names)))
            status = self._seen.get(key)
            if status is None:
                status = self._seen[key] = str(top_level(evaluate(node, values)))
            out.append(status)
        return out


def plan_panel(spec: Spec, layout: Layout) -> PanelPlan:
    positions = layout.field_positions()
    rows, marks = [], []
    for index, check in enumerate(spec.checks):
        anchor = anchor_at(check, positions)
        link = None
        if anchor is not None:
            where = a1(anchor[1], anchor[2])
            quoted = "'" + anchor[0].replace("'", "''") + "'"
            link = (f"internal:{quoted}!{where}", where)
            if check.severity in MARKED:
                criteria = "=" + to_formula(problem_node(check), str)
                quiet = check.code == "value-required"
                marks.append(
                    MarkRule(
                        anchor[0], anchor[1], anchor[2], criteria, check.severity, index, quiet
                    )
                )
        rows.append(
            PanelRow(
                check.severity,
                SEVERITY_LABEL.get(check.severity, check.severity),
                check.message,
                link,
                "=" + to_formula(status_node(check), str),
            )
        )
    last = FIRST_ROW + max(len(spec.checks), 1) - 1
    errors, warnings = _count("error", last), _count("warning", last)
    overall = f'=IF({errors}>0,"还有 "&{errors}&" 个问题",IF({warnings}=0,"可以提交","可以提交（另有 "&{warnings}&" 条提醒，请核实）"))'
    return PanelPlan(tuple(spec.checks), tuple(rows), overall, tuple(marks))


def panel_texts(plan: PanelPlan, values: dict[str, Any]) -> tuple[list[str], str]:
    """What the panel's formulas evaluate to for ``values``: each check's status (通过 /
    待处理), in panel order, and the overall status."""
    statuses = plan.statuses(values)
    counts = {"error": 0, "warning": 0}
    for row_plan, status in zip(plan.rows, statuses, strict=True):
        if status == TODO and row_plan.severity in counts:
            counts[row_plan.severity] += 1
    return statuses, overall_text(counts["error"], counts["warning"])


def panel_cells(plan: PanelPlan, values: dict[str, Any]) -> dict[str, str]:
    """The panel's formula cells ("E6", and "B2" for the overall status) -> their results."""
    statuses, overall = panel_texts(plan, values)
    cells = {a1(FIRST_ROW + i, 4): status for i, status in enumerate(statuses)}
    cells[a1(*OVERALL_CELL)] = overall
    return cells


def write_panel(
    workbook: Workbook, plan: PanelPlan, values: dict[str, Any], password: str
) -> Worksheet:
    """Add the panel sheet (after the form sheets: the form is what opens and prints)."""
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
    statuses, overall = panel_texts(plan, values)
    for index, (row_plan, status) in enumerate(zip(plan.rows, statuses, strict=True)):
        row = FIRST_ROW + index
        sheet.write_number(row, 0, index + 1, cell)
        sheet.write_string(row, 1, row_plan.label, cell)
        sheet.write_string(row, 2, row_plan.message, cell)
        if row_plan.link is not None:
            sheet.write_url(row, 3, row_plan.link[0], link, string=row_plan.link[1])
        else:
            sheet.write_string(row, 3, "", cell)
        sheet.write_formula(row, 4, row_plan.formula, status_fmt, status)
    if plan.rows:
        # One rule per look over the whole list (not one per row): the same marks, and far
        # fewer rules for Excel and LibreOffice to keep.
        last = FIRST_ROW + len(plan.rows) - 1
        status_cell, label_cell = f"$E{FIRST_ROW + 1}", f"$B{FIRST_ROW + 1}"
        error_label = SEVERITY_LABEL["error"]
        for criteria, look in (
            (f'=AND({status_cell}="{TODO}",{label_cell}="{error_label}")', todo_error),
            (f'=AND({status_cell}="{TODO}",{label_cell}<>"{error_label}")', todo_warning),
        ):
            sheet.conditional_format(
                FIRST_ROW, 4, last, 4, {"type": "formula", "criteria": criteria, "format": look}
            )
        sheet.conditional_format(
            FIRST_ROW, 0, last, 3,
            {"type": "formula", "criteria": f'={status_cell}="{OK}"', "format": done},
        )  # fmt: skip
    sheet.write_string(1, 0, "状态", bold)
    sheet.merge_range(1, 1, 1, 4, "", bold)
    sheet.write_formula(*OVERALL_CELL, plan.overall_formula, bold, overall)
    sheet.conditional_format(
        1,
        1,
        1,
        1,
        {"type": "text", "criteria": "begins with", "value": "还有", "format": todo_error},
    )
    sheet.freeze_panes(FIRST_ROW, 0)
    # Never printed: a print area of one empty cell is an empty page, which LibreOffice skips
    # and Excel reports as nothing to print (the form, first and active, is what Ctrl+P gives).
    sheet.print_area(*PRINT_CELL, *PRINT_CELL)
    sheet.protect(password, {"select_locked_cells": True, "select_unlocked_cells": True})
    return sheet


def _count(severity: str, last: int) -> str:
    """COUNTIFS over the panel: problems of one severity still standing."""
    label = SEVERITY_LABEL[severity]
    first, end = FIRST_ROW + 1, last + 1
    return f'COUNTIFS($B${first}:$B${end},"{label}",$E${first}:$E${end},"{TODO}")'
