"""What a spec's workbook writes, worked out once per spec.

The layout, every label, formula text, validation, defined name, the 自检 panel's rows and the
form's marks are the same in every bureau's copy; a plan holds them ready to write, so that a
roster of thousands pays for them once. A workbook adds only what depends on the bureau: its
pre-filled values, which inputs stay editable, and the recomputed cached results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell

from ..expr import to_formula
from ..spec.model import Field, Spec
from .layout import Cell, Layout, SheetLayout, layout_spec
from .panel import PanelPlan, plan_panel
from .validation import needs_list_sheet, validation_for


def quote_sheet(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def absolute(
    sheet: str, row: int, col: int, last_row: int | None = None, last_col: int | None = None
) -> str:
    ref = xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)
    if last_row is not None and last_col is not None and (last_row, last_col) != (row, col):
        ref += ":" + xl_rowcol_to_cell(last_row, last_col, row_abs=True, col_abs=True)
    return f"={quote_sheet(sheet)}!{ref}"


@dataclass(frozen=True)
class FieldCell:
    """A field's cell with everything about it that no bureau changes."""

    cell: Cell
    field: Field
    formula: str | None  # "=…" for computed fields
    validation: dict[str, Any] | None  # XlsxWriter options, for input fields left editable
    list_in_sheet: bool  # its dropdown list lives on the hidden list sheet
    name_ref: str  # the defined name's target


@dataclass(frozen=True)
class SheetPlan:
    layout: SheetLayout
    cells: tuple[Cell | FieldCell, ...]  # in layout order: labels as cells, fields planned


@dataclass(frozen=True)
class Plan:
    spec: Spec
    layout: Layout
    sheets: tuple[SheetPlan, ...]
    range_names: tuple[tuple[str, str], ...]  # (field id, target) of fields spanning members
    panel: PanelPlan


def build_plan(spec: Spec, layout: Layout | None = None) -> Plan:
    layout = layout or layout_spec(spec)
    sheets = []
    for sheet in layout.sheets:
        cells: list[Cell | FieldCell] = []
        for cell in sheet.cells:
            if cell.role != "field":
                cells.append(cell)
                continue
            field = spec.fields[cell.field]
            in_sheet = needs_list_sheet(field)
            cells.append(
                FieldCell(
                    cell,
                    field,
                    None if field.formula is None else "=" + to_formula(field.formula, str),
                    validation_for(field, in_sheet) if field.input else None,
                    in_sheet,
                    absolute(sheet.name, cell.row, cell.col),
                )
            )
        sheets.append(SheetPlan(sheet, tuple(cells)))
    positions = layout.field_positions()
    ranges = []
    for field in spec.fields.values():
        if field.members:
            first, last = positions[field.members[0]], positions[field.members[-1]]
            ranges.append(
                (
                    field.id,
                    absolute(first[0], first[1].row, first[1].col, last[1].row, last[1].col),
                )
            )
    return Plan(spec, layout, tuple(sheets), tuple(ranges), plan_panel(spec, layout))
