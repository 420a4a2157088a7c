"""What ``fill`` writes into a template: the input values, and the cached result of every
formula as the recomputation gives it (form sheets and the 自检 panel).

The result is what :func:`xltools.generate.generate_template` would have written for the same
values, so a viewer that does not recalculate shows true numbers and ``check`` finds the shown
results equal to its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .engine import excel_serial, from_serial, recompute
from .expr import BLANK, ExcelError
from .generate.metadata import PANEL_SHEET
from .identity import IdentityCache
from .spec.model import Spec
from .splice import CellValue, Edit, SpliceResult
from .xlsx.reader import RawWorkbook

Place = tuple[str, str]  # (sheet, "C5")


def _panel_plan(spec: Spec) -> Any:
    from .generate.layout import layout_spec
    from .generate.panel import plan_panel

    return plan_panel(spec, layout_spec(spec))


_PANEL_PLANS: IdentityCache[Spec, Any] = IdentityCache(_panel_plan, limit=64)


class Abandon(Exception):
    """The fill cannot be completed as promised; ``problems`` say why."""

    def __init__(self, problems: list[Any]) -> None:
        super().__init__(problems)
        self.problems = problems


def cached(value: Any) -> CellValue:
    """A recomputed value as a formula's cached result (as the generator writes it)."""
    if value is BLANK or value is None:
        return ""
    if isinstance(value, ExcelError):
        return value.code
    if isinstance(value, tuple):  # a range field has no formula of its own
        return ""
    return value


def constant(value: Any) -> CellValue:
    """A filled value as the cell stores it: dates as serial numbers."""
    if isinstance(value, dt.date):
        return excel_serial(value)
    if value is BLANK:
        return None
    return value


def present_inputs(spec: Spec, workbook: RawWorkbook) -> dict[str, Any]:
    """The input values the template already holds (pre-filled for a bureau, or filled
    before): the recomputation starts from them."""
    found: dict[str, Any] = {}
    for field in spec.inputs():
        place = workbook.resolve(field.id)
        cell = None if place is None else workbook.cell(*place)
        if cell is None or cell.value is None or cell.value == "":
            continue
        value: Any = cell.value
        if field.type == "date" and isinstance(value, float) and 0 < value < 2958466:
            value = from_serial(value)
        found[field.id] = value
    return found


def filled_edits(
    spec: Spec, workbook: RawWorkbook, values: Mapping[str, Any], places: Mapping[str, Place]
) -> dict[str, dict[str, Edit]]:
    """{sheet: {cell: Edit}}: the new inputs at ``places``, and every formula's result."""
    from .generate.panel import panel_cells

    edits: dict[str, dict[str, Edit]] = {}
    for field_id, (sheet, ref) in places.items():
        edits.setdefault(sheet, {})[ref] = Edit(constant(values[field_id]))
    results = recompute(spec, {**present_inputs(spec, workbook), **values})
    for field in spec.computed():
        place = workbook.resolve(field.id)
        if place is not None and ":" not in place[1]:
            edits.setdefault(place[0], {})[place[1]] = Edit(cached(results[field.id]), True)
    if spec.checks and workbook.sheet(PANEL_SHEET) is not None:
        panel = edits.setdefault(PANEL_SHEET, {})
        for ref, text in panel_cells(_PANEL_PLANS(spec), results).items():
            panel[ref] = Edit(text, formula=True)
    return edits


def template_changed(result: SpliceResult) -> list[Any]:
    """The splice's surprises as refusals (the template is not as the generator wrote it)."""
    from .fill import FillError

    problems = []
    for sheet, ref in result.missing:
        problems.append(
            FillError(
                f"{sheet}!{ref}",
                "fill-template-changed",
                f"模板的工作表 “{sheet}” 中没有单元格 {ref}：模板可能被改动，请使用下发的原模板",
            )
        )
    for sheet, ref in result.not_formulas:
        problems.append(
            FillError(
                f"{sheet}!{ref}",
                "fill-template-changed",
                f"模板的 “{sheet}”!{ref} 应是公式，却不是：模板可能被改动，请使用下发的原模板",
            )
        )
    for sheet, ref in result.unknown_formulas:
        problems.append(
            FillError(
                f"{sheet}!{ref}",
                "fill-unknown-formula",
                f"模板的 “{sheet}”!{ref} 有规范之外的公式，无法写出它的结果：请使用下发的原模板",
            )
        )
    return problems
