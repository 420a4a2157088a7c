"""The 自检 panel: every check of the spec, live in the template, so the clerk sees each
problem while filling, long before the finance bureau's checker would.

Each check is the same expression tree the checker evaluates (``spec.checks``: the spec's own
checks, row checks, weight checks and required fields), compiled to a status formula on a first
sheet ``自检``, and to conditional formatting that marks the offending cell on the form while the
problem stands (:mod:`xltools.generate.marks`). The panel is a sheet of its own, after the
form, and prints nothing: its print area is one empty cell, so Ctrl+P and a PDF export give
the form alone.

Where the rows go and the top block of open problems are :mod:`.panel_layout`; the sheet is
written by :mod:`.panel_sheet`.

What does not depend on the values (rows, formula texts, links, marks) is planned once per
spec (:func:`plan_panel`); a bureau's workbook adds only the statuses, which are remembered by
the values each check reads (:class:`StatusCache`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from ..cellref import a1
from ..expr import Boolean, Call, Name, Node, Text, evaluate, to_formula, top_level
from ..expr.ast import walk
from ..spec.model import Check, Spec
from .layout import Cell, Layout
from .panel_layout import (
    FIRST_ROW,
    OK,
    OVERALL_CELL,
    SEVERITY_LABEL,
    TODO,
    top_formulas,
    top_values,
)

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

    @property
    def target(self) -> str:
        """The link as a HYPERLINK formula takes it: "#'表'!C5" ("" without a link)."""
        return "" if self.link is None else "#" + self.link[0].removeprefix("internal:")


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
    top: dict[tuple[int, int], str] = field(init=False)  # helper and top-block formulas

    def __post_init__(self) -> None:
        self.statuses = StatusCache(self.checks)
        self.top = top_formulas(len(self.rows)) if self.rows else {}

    def top_values(self, statuses: list[str]) -> dict[tuple[int, int], str | int]:
        if not self.rows:
            return {}
        rows = self.rows
        return top_values(
            [r.label for r in rows],
            [r.message for r in rows],
            ["" if r.link is None else r.link[1] for r in rows],
            statuses,
        )


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


def panel_cells(plan: PanelPlan, values: dict[str, Any]) -> dict[str, str | int]:
    """The panel's formula cells (each status, "B2" for the overall status, the top block
    and its helpers) -> their results."""
    statuses, overall = panel_texts(plan, values)
    cells: dict[str, str | int] = {
        a1(FIRST_ROW + i, 4): status for i, status in enumerate(statuses)
    }
    cells[a1(*OVERALL_CELL)] = overall
    cells.update({a1(*where): value for where, value in plan.top_values(statuses).items()})
    return cells


def _count(severity: str, last: int) -> str:
    """COUNTIFS over the panel: problems of one severity still standing."""
    label = SEVERITY_LABEL[severity]
    first, end = FIRST_ROW + 1, last + 1
    return f'COUNTIFS($B${first}:$B${end},"{label}",$E${first}:$E${end},"{TODO}")'
