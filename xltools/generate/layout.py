"""Where every label and field of a spec stands on its sheets: the paper form, as cells.

The layout is pure data computed from the spec alone, so the generator renders it and the
checker can recompute it to know what every locked cell of a returned workbook should hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..spec.model import (
    Block,
    FieldsBlock,
    IndicatorBlock,
    IndicatorGroup,
    ListBlock,
    NoteBlock,
    Sheet,
    Spec,
    TableBlock,
)
from ..textfit import display_width, height_for, lines_needed

Role = Literal["title", "section", "header", "label", "field", "note"]

MIN_WIDTH = 6
ROW_HEIGHT = 20  # points, one line of text
HEADER_HEIGHT = 36
FONT_PT = 10.0  # the form's font size (styles.py)


@dataclass(frozen=True)
class Cell:
    row: int  # 0-based
    col: int
    role: Role
    text: str = ""  # labels, titles, notes
    field: str = ""  # for role "field": the field id
    last_row: int = -1  # merged area, inclusive; -1: a single cell
    last_col: int = -1

    @property
    def merged(self) -> bool:
        return self.last_row >= 0

    @property
    def bottom(self) -> int:
        return max(self.row, self.last_row)

    @property
    def right(self) -> int:
        return max(self.col, self.last_col)


@dataclass
class SheetLayout:
    name: str
    width: int
    cells: list[Cell] = field(default_factory=list)
    row_heights: dict[int, float] = field(default_factory=dict)
    column_widths: list[float] = field(default_factory=list)
    header_rows: tuple[int, int] | None = None  # rows repeated on each printed page
    freeze_row: int = 0
    landscape: bool = False

    def place(
        self,
        row: int,
        col: int,
        last_col: int,
        role: Role,
        *,
        text: str = "",
        field: str = "",
        rows: int = 1,
    ) -> Cell:
        last_row = row + rows - 1
        merged = last_col > col or last_row > row
        cell = Cell(
            row, col, role, text, field, last_row if merged else -1, last_col if merged else -1
        )
        self.cells.append(cell)
        return cell

    @property
    def rows(self) -> int:
        return max((c.bottom for c in self.cells), default=-1) + 1

    def field_cells(self) -> dict[str, Cell]:
        return {c.field: c for c in self.cells if c.role == "field"}


@dataclass
class Layout:
    sheets: list[SheetLayout]

    def field_positions(self) -> dict[str, tuple[str, Cell]]:
        """Field id -> (sheet name, its cell)."""
        return {f: (s.name, c) for s in self.sheets for f, c in s.field_cells().items()}


def spans(count: int, width: int, first_extra: bool = True) -> list[tuple[int, int]]:
    """Split ``width`` columns into ``count`` consecutive (first, last) spans."""
    base, extra = divmod(width, count)
    result, start = [], 0
    for index in range(count):
        size = base + (1 if (index < extra if first_extra else index >= count - extra) else 0)
        result.append((start, start + size - 1))
        start += size
    return result


def block_width(block: Block) -> int:
    if isinstance(block, FieldsBlock):
        return 2 * block.columns
    if isinstance(block, TableBlock):
        return 1 + len(block.columns)
    if isinstance(block, ListBlock):
        return len(block.columns)
    if isinstance(block, IndicatorBlock):
        return len(block.levels) + len(block.columns)
    return 1


def layout_spec(spec: Spec) -> Layout:
    return Layout([_layout_sheet(spec, sheet) for sheet in spec.sheets])


def _layout_sheet(spec: Spec, sheet: Sheet) -> SheetLayout:
    width = max([MIN_WIDTH, *(block_width(b) for b in sheet.blocks)])
    out = SheetLayout(sheet.name, width, landscape=sheet.landscape)
    out.column_widths = [12.0] * width
    row = 0
    title = sheet.title or spec.title
    out.place(row, 0, width - 1, "title", text=title)
    out.row_heights[row] = 32
    row += 1
    for block in sheet.blocks:
        if isinstance(block, FieldsBlock):
            row = _fields(spec, out, block, row)
        elif isinstance(block, TableBlock):
            row = _table(out, block, row)
        elif isinstance(block, ListBlock):
            row = _list(out, block, row)
        elif isinstance(block, IndicatorBlock):
            row = _indicators(out, block, row)
        elif isinstance(block, NoteBlock):
            out.place(row, 0, width - 1, "note", text=block.text)
            out.row_heights[row] = ROW_HEIGHT * max(1, block.text.count("\n") + 1)
            row += 1
    out.freeze_row = 2 if out.header_rows is None else out.header_rows[1] + 1
    _fit_columns(spec, out)
    _fit_rows(spec, out)
    return out


def _fit_columns(spec: Spec, sheet: SheetLayout) -> None:
    """Wide enough for single-column labels and headers; wider (within bounds) for columns
    that hold long fixed texts such as 评分标准, so they wrap into fewer lines."""
    for cell in sheet.cells:
        if cell.right != cell.col:
            continue
        text = cell.text if cell.role in ("label", "header") else ""
        if cell.role == "field" and isinstance(spec.fields[cell.field].value, str):
            text = str(spec.fields[cell.field].value)
        if not text:
            continue
        longest = max(display_width(part) for part in text.split("\n"))
        wanted = min(longest / 1.6 + 2, 18) if longest < 40 else min(12 + longest / 12, 28)
        sheet.column_widths[cell.col] = max(sheet.column_widths[cell.col], wanted)


def _fit_rows(spec: Spec, sheet: SheetLayout) -> None:
    """Tall enough for the longest wrapped text a one-row cell holds (labels, fixed values,
    notes across the sheet), as :mod:`xltools.textfit` estimates it for every sheet we write."""
    for cell in sheet.cells:
        if cell.bottom != cell.row or cell.role in ("title", "section"):
            continue
        text = cell.text
        if cell.role == "field":
            value = spec.fields[cell.field].value
            text = value if isinstance(value, str) else ""
        if not text:
            continue
        width = sum(sheet.column_widths[c] for c in range(cell.col, cell.right + 1))
        lines = lines_needed(text, width, FONT_PT)
        if lines > 1:
            sheet.row_heights[cell.row] = max(
                sheet.row_heights.get(cell.row, ROW_HEIGHT), height_for(lines, FONT_PT)
            )


def _section(out: SheetLayout, title: str | None, row: int) -> int:
    if title:
        out.place(row, 0, out.width - 1, "section", text=title)
        return row + 1
    return row


def _fields(spec: Spec, out: SheetLayout, block: FieldsBlock, row: int) -> int:
    row = _section(out, block.title, row)
    segments = spans(block.columns, out.width)
    slot = 0
    for field_id in block.fields:
        field = spec.fields[field_id]
        if field.lines > 1:  # a long text takes a row of its own, full width
            if slot:
                row, slot = row + 1, 0
            out.place(row, 0, 0, "label", text=field.label)
            out.place(row, 1, out.width - 1, "field", field=field_id)
            out.row_heights[row] = ROW_HEIGHT * field.lines
            row += 1
            continue
        first, last = segments[slot]
        out.place(row, first, first, "label", text=field.label)
        out.place(row, first + 1, max(first + 1, last), "field", field=field_id)
        slot += 1
        if slot == block.columns:
            row, slot = row + 1, 0
    return row + (1 if slot else 0)


def _table(out: SheetLayout, block: TableBlock, row: int) -> int:
    segments = spans(len(block.columns) + 1, out.width)
    first, last = segments[0]
    out.place(row, first, last, "header", text=block.corner or block.title or "")
    for (c_first, c_last), column in zip(segments[1:], block.columns, strict=True):
        out.place(row, c_first, c_last, "header", text=column.label)
    out.row_heights[row] = HEADER_HEIGHT
    row += 1
    for table_row in block.rows:
        out.place(row, first, last, "label", text=table_row.label)
        for (c_first, c_last), column in zip(segments[1:], block.columns, strict=True):
            field_id = block.cells.get((table_row.key, column.key))
            if field_id:
                out.place(row, c_first, c_last, "field", field=field_id)
            else:
                out.place(row, c_first, c_last, "label")
        row += 1
    return row


def _list(out: SheetLayout, block: ListBlock, row: int) -> int:
    row = _section(out, block.title, row)
    segments = spans(len(block.columns), out.width, first_extra=False)
    for (first, last), column in zip(segments, block.columns, strict=True):
        out.place(row, first, last, "header", text=column.label)
    out.row_heights[row] = HEADER_HEIGHT
    row += 1
    for list_row in block.rows:
        for (first, last), column in zip(segments, block.columns, strict=True):
            out.place(row, first, last, "field", field=list_row[column.key])
        row += 1
    if block.totals:
        for index, ((first, last), column) in enumerate(zip(segments, block.columns, strict=True)):
            if column.key in block.totals:
                out.place(row, first, last, "field", field=block.totals[column.key])
            else:
                out.place(row, first, last, "label", text=block.total_label if index == 0 else "")
        row += 1
    return row


def _indicators(out: SheetLayout, block: IndicatorBlock, row: int) -> int:
    row = _section(out, block.title, row)
    levels = len(block.levels)
    # Level columns first, one column each; the row columns share what is left.
    value_spans = [
        (levels + a, levels + b)
        for a, b in spans(len(block.columns), out.width - levels, first_extra=False)
    ]
    header = row
    for index, label in enumerate(block.levels):
        out.place(row, index, index, "header", text=label)
    for (first, last), column in zip(value_spans, block.columns, strict=True):
        out.place(row, first, last, "header", text=column.label)
    out.row_heights[row] = HEADER_HEIGHT
    out.header_rows = (header, header)
    row += 1
    keys = [c.key for c in block.columns]

    def subtotal(text: str, totals: dict[str, str], at: int, depth: int) -> None:
        """A 小计 / 合计 row: its label up to the first summed column, then each summed column's
        field; the cells between them merged, blank."""
        summed = [i for i, key in enumerate(keys) if key in totals]
        label_end = (value_spans[summed[0]][0] if summed else out.width) - 1
        out.place(at, depth, label_end, "label", text=text)
        blank: list[tuple[int, int]] = []
        for (first, last), key in zip(value_spans, keys, strict=True):
            if last <= label_end:
                continue
            if key in totals:
                if blank:
                    out.place(at, blank[0][0], blank[-1][1], "label")
                    blank = []
                out.place(at, first, last, "field", field=totals[key])
            else:
                blank.append((first, last))
        if blank:
            out.place(at, blank[0][0], blank[-1][1], "label")

    def group(node: IndicatorGroup, depth: int, at: int) -> int:
        start = at
        before = block.subtotal_position == "before"
        # A group whose rows stand above the last level spans the level columns left over.
        right = levels - 1 if node.rows and not node.children else depth
        if node.totals and before:
            subtotal(block.subtotal_label, node.totals, at, right + 1)
            at += 1
        for row_fields in node.rows:
            for (first, last), key in zip(value_spans, keys, strict=True):
                out.place(at, first, last, "field", field=row_fields[key])
            at += 1
        for child in node.children:
            at = group(child, depth + 1, at)
        if node.totals and not before:
            subtotal(block.subtotal_label, node.totals, at, right + 1)
            at += 1
        label = node.label + (f"（{_points(node.weight)}分）" if node.weight is not None else "")
        if at > start:
            out.place(start, depth, right, "label", text=label, rows=at - start)
        return at

    if block.total_position == "before":
        subtotal(block.total_label, block.totals, row, 0)
        row += 1
    for top in block.groups:
        row = group(top, 0, row)
    if block.total_position == "before":
        return row
    subtotal(block.total_label, block.totals, row, 0)
    return row + 1


def _points(weight: float) -> str:
    return str(int(weight)) if float(weight).is_integer() else str(weight)
