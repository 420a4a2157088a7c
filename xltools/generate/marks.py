"""The form's conditional formats: what the clerk sees on the form itself, and what prints.

* A required cell left empty gets a quiet mark (a dashed amber border, no fill) until filled:
  an empty field is work to do, not an error.
* Any other check marks its cell red (error) or amber (warning) while it fails — but only
  once the clerk has typed something it reads: a blank form is not wrong, only unfilled, and
  must not print solid red.
* The grade (and the total it bands) shows nothing until something it reads is typed, so a
  blank form does not print 评价等次 不合格.
* An indicator's target and actual are shown as percents (0.95 as 95.00%) in a row whose unit
  is ``%``: the cell holds the fraction the rules compute with.

Only the looks change: the 自检 panel's statuses are the checker's, blank or not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Final

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..expr import Name
from ..expr.ast import walk
from ..spec.model import IndicatorBlock, IndicatorGroup, Spec
from .layout import Layout
from .panel import ERROR_FILL, WARNING_FILL, PanelPlan

QUIET_BORDER: Final = "#F4B183"  # the required-and-empty mark: visible, not alarming
PERCENT_FORMAT: Final = "0.00%"
HIDDEN_FORMAT: Final = ";;;"  # shows nothing, whatever the value
COUNTA_ARGS: Final = 200  # Excel takes 255 arguments a call


def inputs_read(spec: Spec, names: Iterable[str]) -> tuple[str, ...]:
    """The input fields ``names`` read, through every computed and range field between."""
    found: dict[str, None] = {}
    seen: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in seen or name not in spec.fields:
            continue
        seen.add(name)
        field = spec.fields[name]
        if field.formula is not None:
            stack.extend(n.name for n in walk(field.formula) if isinstance(n, Name))
        elif field.members is not None:
            stack.extend(field.members)
        elif field.input:
            found[name] = None
    return tuple(sorted(found))


def typed(inputs: Sequence[str]) -> str:
    """A formula that is TRUE once any of ``inputs`` (defined names) holds something."""
    parts = [
        f"COUNTA({','.join(inputs[i : i + COUNTA_ARGS])})>0"
        for i in range(0, len(inputs), COUNTA_ARGS)
    ]
    return parts[0] if len(parts) == 1 else f"OR({','.join(parts)})"


def guarded(criteria: str, inputs: Sequence[str]) -> str:
    """``criteria`` ("=…") and, when the check reads inputs, only once one is filled."""
    if not inputs:
        return criteria
    return f"=AND({typed(inputs)},{criteria.removeprefix('=')})"


def mark_cells(
    workbook: Workbook,
    worksheets: dict[str, Worksheet],
    spec: Spec,
    layout: Layout,
    plan: PanelPlan,
    prefilled: Collection[str] = (),
) -> None:
    """Every conditional format of the form (see the module's docstring). ``prefilled``:
    inputs the distribution wrote, which say nothing about whether the clerk began."""
    formats = {
        "error": workbook.add_format({"bg_color": ERROR_FILL}),
        "warning": workbook.add_format({"bg_color": WARNING_FILL}),
        "quiet": workbook.add_format({"border": 3, "border_color": QUIET_BORDER}),
    }
    for mark in plan.marks:
        if mark.quiet:
            look, criteria = "quiet", mark.criteria
        else:
            check = plan.checks[mark.check]
            reads = [f for f in inputs_read(spec, _names(check.expr)) if f not in prefilled]
            look, criteria = mark.severity, guarded(mark.criteria, reads)
        worksheets[mark.sheet].conditional_format(
            mark.row, mark.col, mark.row, mark.col,
            {"type": "formula", "criteria": criteria, "format": formats[look]},
        )  # fmt: skip
    positions = layout.field_positions()
    hidden = workbook.add_format({"num_format": HIDDEN_FORMAT})
    for field_id in blank_until_typed(spec):
        reads = [f for f in inputs_read(spec, [field_id]) if f not in prefilled]
        if not reads or field_id not in positions:
            continue
        sheet, cell = positions[field_id]
        worksheets[sheet].conditional_format(
            cell.row, cell.col, cell.row, cell.col,
            {"type": "formula", "criteria": f"=NOT({typed(reads)})", "format": hidden},
        )  # fmt: skip
    percent = workbook.add_format({"num_format": PERCENT_FORMAT})
    for unit, shown in percent_rows(spec):
        for field_id in shown:
            if field_id not in positions:
                continue
            sheet, cell = positions[field_id]
            worksheets[sheet].conditional_format(
                cell.row, cell.col, cell.row, cell.col,
                {"type": "formula", "criteria": f'={unit}="%"', "format": percent},
            )  # fmt: skip


def _names(node: object) -> list[str]:
    return [n.name for n in walk(node) if isinstance(n, Name)]  # type: ignore[arg-type]


def blank_until_typed(spec: Spec) -> list[str]:
    """The grade fields and the score each bands: shown once the clerk typed what they read."""
    shown: list[str] = []
    for field in spec.fields.values():
        if field.formula is not None and (field.formula_source or "") == "rule:grade":
            shown.append(field.id)
            shown.extend(n for n in _names(field.formula) if n in spec.fields)
    return list(dict.fromkeys(shown))


def percent_rows(spec: Spec) -> list[tuple[str, tuple[str, ...]]]:
    """(unit field, (target, actual)) of every indicator row with a unit column."""
    rows: list[tuple[str, tuple[str, ...]]] = []
    for sheet in spec.sheets:
        for block in sheet.blocks:
            if isinstance(block, IndicatorBlock):
                for group in block.groups:
                    rows.extend(_unit_rows(group))
    return rows


def _unit_rows(group: IndicatorGroup) -> list[tuple[str, tuple[str, ...]]]:
    found = []
    for row in group.leaf_rows():
        if "unit" in row:
            shown = tuple(row[k] for k in ("target", "standard", "actual") if k in row)
            found.append((row["unit"], shown))
    return found
