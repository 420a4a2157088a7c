"""Text that does not fit its cell, measured from the file itself: column widths, row heights,
merged ranges and fonts as saved, against the text (issue 17, part 3).

A wrapped text needs as many lines as `xltools.textfit` estimates for its width; its rows
must be tall enough for them. A text that does not wrap must fit its width, or spill only
into empty cells to its right inside the sheet's used columns (as Excel draws it).

A formula is drawn as its result, so a formula cell is measured by the result the file caches
(what the generator or ``fill`` wrote, or what LibreOffice computed when it saved). Cells in
hidden columns or rows are not drawn at all and are not measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from xltools.textfit import DEFAULT_FONT_PT, display_width, lines_needed

DEFAULT_WIDTH = 8.43  # Excel's, when a column has no width of its own
DEFAULT_HEIGHT = 15.0


@dataclass(frozen=True)
class Overflow:
    sheet: str
    cell: str
    text: str
    needed: str
    room: str

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}: needs {self.needed}, has {self.room}: {self.text[:40]!r}"


def lines_that_fit(height: float, font_pt: float) -> int:
    return max(1, math.floor((height + 1.0) / (font_pt * 1.25)))


def overflowing_cells(path: Path, sheets: list[str] | None = None) -> list[Overflow]:
    book = openpyxl.load_workbook(path)  # styles, widths and heights, formulas as text
    shown = openpyxl.load_workbook(path, data_only=True)  # each formula's cached result
    found: list[Overflow] = []
    for ws in book.worksheets:
        if ws.sheet_state != "visible" or (sheets is not None and ws.title not in sheets):
            continue
        found += _sheet_overflows(ws, shown[ws.title])
    return found


def _hidden(ws: Worksheet) -> tuple[set[int], set[int]]:
    """(hidden rows, hidden columns), 1-based."""
    rows = {r for r, d in ws.row_dimensions.items() if d.hidden}
    cols: set[int] = set()
    for d in ws.column_dimensions.values():
        if d.hidden and d.min and d.max:
            cols.update(range(d.min, d.max + 1))
    return rows, cols


def _sheet_overflows(ws: Worksheet, results: Worksheet) -> list[Overflow]:
    def col_width(col: int) -> float:
        dim = ws.column_dimensions.get(get_column_letter(col))
        # openpyxl groups equal columns under the first letter of the group (min..max)
        if dim is None or dim.width is None or not dim.customWidth and dim.width == 13:
            for d in ws.column_dimensions.values():
                if d.min and d.max and d.min <= col <= d.max and d.width:
                    return float(d.width)
            return DEFAULT_WIDTH
        return float(dim.width)

    def row_height(row: int) -> float:
        dim = ws.row_dimensions.get(row)
        return float(dim.height) if dim is not None and dim.height else DEFAULT_HEIGHT

    spans: dict[tuple[int, int], tuple[int, int]] = {}
    covered: set[tuple[int, int]] = set()
    for rng in ws.merged_cells.ranges:
        spans[(rng.min_row, rng.min_col)] = (rng.max_row, rng.max_col)
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    covered.add((r, c))
    last_col = ws.max_column
    hidden_rows, hidden_cols = _hidden(ws)
    found = []
    for row in ws.iter_rows():
        for cell in row:
            value = cell.value
            at_row, at_col = int(cell.row or 0), int(cell.column or 0)
            if isinstance(value, str) and value.startswith("="):
                value = results.cell(row=at_row, column=at_col).value
            if not isinstance(value, str) or not value.strip():
                continue
            if (at_row, at_col) in covered:
                continue
            if at_row in hidden_rows or at_col in hidden_cols:
                continue
            bottom, right = spans.get((at_row, at_col), (at_row, at_col))
            width = sum(col_width(c) for c in range(at_col, right + 1))
            height = sum(row_height(r) for r in range(at_row, bottom + 1))
            font_pt = float(cell.font.sz or DEFAULT_FONT_PT) if cell.font else DEFAULT_FONT_PT
            if cell.alignment is not None and cell.alignment.wrap_text:
                need = lines_needed(value, width, font_pt)
                fit = lines_that_fit(height, font_pt)
                if need > fit:
                    found.append(
                        Overflow(ws.title, cell.coordinate, value, f"{need} lines", f"{fit}")
                    )
                continue
            longest = max(display_width(part, font_pt) for part in value.split("\n"))
            if "\n" in value.strip() and lines_that_fit(height, font_pt) < value.count("\n") + 1:
                found.append(Overflow(ws.title, cell.coordinate, value, "lines", "1"))
                continue
            room = width
            col = right + 1
            while room < longest and col <= last_col and _empty(ws, at_row, col, covered):
                room += col_width(col)
                col += 1
            if room < longest - 0.5:
                found.append(
                    Overflow(ws.title, cell.coordinate, value, f"{longest:.0f}", f"{room:.0f}")
                )
    return found


def _empty(ws: object, row: int, col: int, covered: set[tuple[int, int]]) -> bool:
    if (row, col) in covered:
        return False
    value = ws.cell(row=row, column=col).value  # type: ignore[attr-defined]
    return value is None or value == ""
