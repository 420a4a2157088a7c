"""Render a spec's layout into a locked workbook with XlsxWriter.

Only input cells are unlocked; every derived value is a locked formula whose cached result is
the Python recomputation (so a file no application recalculated still shows true numbers);
every field is a workbook-level defined name; hidden sheets identify the template.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .. import __version__
from ..atomic import atomic_path
from ..engine import recompute
from ..expr import BLANK, ExcelError
from ..spec.model import Field, Spec
from .book import ProtectedWorkbook
from .layout import Cell, Layout, SheetLayout
from .marks import mark_cells
from .metadata import (
    FORMAT_MARKER,
    LIST_NAME_PREFIX,
    LISTS_SHEET,
    META_KEYS,
    META_SHEET,
    PANEL_LAYOUT,
    fingerprint,
    prefill_json,
)
from .panel_sheet import write_panel
from .plan import Plan, absolute, build_plan
from .styles import Styles


def cell_value(value: Any) -> Any:
    """A recomputed value as XlsxWriter takes it for a formula's cached result."""
    if value is BLANK or value is None:
        return ""
    if isinstance(value, ExcelError):
        return value.code
    return value


def generate_template(
    spec: Spec,
    output: Path,
    *,
    prefill: Mapping[str, Any] | None = None,
    bureau_id: str = "",
    bureau_name: str = "",
    issued_at: dt.datetime | None = None,
    layout: Layout | None = None,
    plan: Plan | None = None,
) -> str:
    """Write the template (pre-filled for one bureau when ``prefill`` is given) atomically to
    ``output``; returns the fingerprint stamped into it. A roster passes the ``plan`` it
    built once for the spec (:func:`build_plan`)."""
    prefill = dict(prefill or {})
    plan = plan or build_plan(spec, layout)
    issued = (issued_at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    stamp = fingerprint(
        spec.template, spec.version, spec.sha256, bureau_id, prefill, panel=PANEL_LAYOUT
    )
    with atomic_path(output) as temporary:
        workbook = ProtectedWorkbook(
            str(temporary),
            # in memory: no temporary file per part; the zip is written once, at close
            {"strings_to_numbers": False, "strings_to_formulas": False, "in_memory": True},
        )
        workbook.set_properties(
            {"title": spec.title, "subject": spec.template, "comments": f"xltools {__version__}"}
        )
        password = secrets.token_urlsafe(
            12
        )  # nobody keeps it: protection deters, the checker verifies
        _write(workbook, plan, prefill, password)
        meta = {
            "format": FORMAT_MARKER,
            "template": spec.template,
            "version": spec.version,
            "title": spec.title,
            "spec_sha256": spec.sha256,
            "issued_at": issued.isoformat(),
            "generator": f"xltools {__version__}",
            "bureau_id": bureau_id,
            "bureau_name": bureau_name,
            "fingerprint": stamp,
            "prefill": prefill_json(prefill) if prefill else "",
            "panel": str(PANEL_LAYOUT),
        }
        _write_meta(workbook, meta, password)
        workbook.close()
    return stamp


def _write(workbook: Workbook, plan: Plan, prefill: dict[str, Any], password: str) -> None:
    spec = plan.spec
    styles = Styles(workbook)
    values = recompute(spec, prefill)
    lists_used: dict[str, tuple[str, ...]] = {}
    worksheets: dict[str, Worksheet] = {}
    for sheet_plan in plan.sheets:
        worksheet = workbook.add_worksheet(sheet_plan.layout.name)
        worksheets[sheet_plan.layout.name] = worksheet
        _setup_sheet(worksheet, sheet_plan.layout)
        for cell in sheet_plan.cells:
            if isinstance(cell, Cell):  # a label, title, header or note
                style = styles.role(cell.role)
                if cell.merged:
                    worksheet.merge_range(
                        cell.row, cell.col, cell.last_row, cell.last_col, cell.text, style
                    )
                else:
                    worksheet.write_string(cell.row, cell.col, cell.text, style)
                continue
            field, at = cell.field, cell.cell
            editable = cell.validation is not None and field.id not in prefill
            style = styles.field(field, editable=editable)
            if at.merged:
                worksheet.merge_range(at.row, at.col, at.last_row, at.last_col, "", style)
            if cell.formula is not None:
                worksheet.write_formula(
                    at.row, at.col, cell.formula, style, cell_value(values[field.id])
                )
            else:
                _write_value(
                    worksheet, at.row, at.col, prefill.get(field.id, field.value), field, style
                )
            if editable:
                if cell.list_in_sheet and field.choice_list and field.choices:
                    lists_used[field.choice_list] = field.choices
                assert cell.validation is not None
                worksheet.data_validation(at.row, at.col, at.row, at.col, cell.validation)
            workbook.define_name(field.id, cell.name_ref)
        worksheet.protect(password, {"select_locked_cells": True, "select_unlocked_cells": True})
    for name, target in plan.range_names:
        workbook.define_name(name, target)
    mark_cells(workbook, worksheets, spec, plan.layout, plan.panel, prefilled=prefill.keys())
    # The form first and active: it is what opens, and what Ctrl+P prints (the active sheet).
    next(iter(worksheets.values())).activate()
    if spec.checks:
        write_panel(workbook, plan.panel, values, password)
    _write_lists(workbook, lists_used, password)


def _write_value(
    worksheet: Worksheet, row: int, col: int, value: Any, field: Field, style: Any
) -> None:
    if value is None or value is BLANK:
        worksheet.write_blank(row, col, None, style)
    elif isinstance(value, bool):
        worksheet.write_boolean(row, col, value, style)
    elif isinstance(value, int | float):
        worksheet.write_number(row, col, value, style)
    elif isinstance(value, dt.datetime | dt.date):
        when = (
            value
            if isinstance(value, dt.datetime)
            else dt.datetime(value.year, value.month, value.day)
        )
        worksheet.write_datetime(row, col, when, style)
    else:
        worksheet.write_string(row, col, str(value), style)


def _setup_sheet(worksheet: Worksheet, sheet: SheetLayout) -> None:
    for col, width in enumerate(sheet.column_widths):
        worksheet.set_column(col, col, width)
    for row, height in sheet.row_heights.items():
        worksheet.set_row(row, height)
    worksheet.set_paper(9)  # A4
    if sheet.landscape:
        worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    worksheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    worksheet.set_footer("&C第 &P 页，共 &N 页")
    worksheet.print_area(0, 0, max(sheet.rows - 1, 0), sheet.width - 1)
    if sheet.header_rows:
        worksheet.repeat_rows(*sheet.header_rows)
    worksheet.freeze_panes(1, 0)
    worksheet.hide_gridlines(2)


def _write_meta(workbook: Workbook, meta: dict[str, Any], password: str) -> None:
    sheet = workbook.add_worksheet(META_SHEET)
    for row, key in enumerate(META_KEYS):
        sheet.write_string(row, 0, key)
        value = meta.get(key, "")
        if isinstance(value, int):
            sheet.write_number(row, 1, value)
        else:
            sheet.write_string(row, 1, str(value))
    sheet.set_column(0, 1, 40)
    sheet.protect(password)
    sheet.very_hidden()


def _write_lists(workbook: Workbook, lists: dict[str, tuple[str, ...]], password: str) -> None:
    sheet = workbook.add_worksheet(LISTS_SHEET)
    for col, (name, choices) in enumerate(sorted(lists.items())):
        sheet.write_string(0, col, name)
        for row, choice in enumerate(choices, start=1):
            sheet.write_string(row, col, choice)
        workbook.define_name(
            LIST_NAME_PREFIX + name, absolute(LISTS_SHEET, 1, col, len(choices), col)
        )
    sheet.protect(password)
    sheet.very_hidden()
