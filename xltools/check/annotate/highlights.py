"""Highlights: the fill on each offending cell in its own sheet (cells and rows inserted when
absent, ``<dimension>`` and row ``spans`` widened), the ``<legacyDrawing>`` for the notes, and
``tabSelected`` cleared."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ..report import Finding, Report
from .report_sheet import _SheetInfo
from .styles import _Styles
from .text import _parse_cell, _ref
from .xmlsplice import MAIN_NS, _Doc, _Editor, _Node, _parse

#: Solid fills (ARGB) of offending cells in their own sheets. The templates' input cells are
#: light yellow (FFF2CC), so a warning is a full yellow.
HIGHLIGHT_FILL = {"error": "FFFF7C80", "warning": "FFFFFF00"}

# CT_Worksheet children up to and including <drawing>: <legacyDrawing> goes right after the last
# of these that is present (and so before legacyDrawingHF, drawingHF, picture, oleObjects,
# controls — often wrapped in mc:AlternateContent —, webPublishItems, tableParts, extLst).
_BEFORE_LEGACY_DRAWING_NAMES = """
sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection
protectedRanges scenarios autoFilter sortState dataConsolidate customSheetViews mergeCells phoneticPr
conditionalFormatting dataValidations hyperlinks printOptions pageMargins pageSetup headerFooter rowBreaks
colBreaks customProperties cellWatches ignoredErrors smartTags drawing
"""
_BEFORE_LEGACY_DRAWING = frozenset(_BEFORE_LEGACY_DRAWING_NAMES.split())


# ---------------------------------------------------------------------------------------------
# Highlights


@dataclass
class _Target:
    row: int
    col: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def severity(self) -> str:
        return "error" if any(f.severity == "error" for f in self.findings) else "warning"


def _targets(report: Report, sheets: dict[str, _SheetInfo]) -> dict[str, dict[str, _Target]]:
    """Per sheet, the cells to highlight (error/warning findings), each with all its findings."""
    found: dict[str, dict[str, _Target]] = {}
    for finding in report.sorted_findings():
        if finding.severity not in ("error", "warning") or not finding.sheet:
            continue
        info = sheets.get(finding.sheet)
        where = _parse_cell(finding.cell)
        if info is None or not info.worksheet or where is None:
            continue
        found.setdefault(finding.sheet, {}).setdefault(_ref(*where), _Target(*where))
    for finding in report.sorted_findings():  # notes list every finding on the cell
        where = _parse_cell(finding.cell)
        if where is not None and _ref(*where) in found.get(finding.sheet, {}):
            found[finding.sheet][_ref(*where)].findings.append(finding)
    return found


def _implied(
    nodes: Iterable[_Node], parse: Callable[[str], int | None]
) -> Iterator[tuple[int, _Node]]:
    """Nodes with their index (row number / column) from ``r=``, or implied: previous + 1."""
    previous = 0
    for node in nodes:
        value = parse(node.attrs.get("r", ""))
        previous = value if value is not None else previous + 1
        yield previous, node


def _row_number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _cell_col(text: str) -> int | None:
    where = _parse_cell(text)
    return where[1] if where else None


def _widen_span(spans: str, first: int, last: int) -> str | None:
    match = re.fullmatch(r"(\d+):(\d+)", spans.strip())
    if not match:
        return None
    low, high = int(match.group(1)), int(match.group(2))
    if low <= first and last <= high:
        return None
    return f"{min(low, first)}:{max(high, last)}"


def _widen_dimension(ref: str, cells: Iterable[tuple[int, int]]) -> str | None:
    bits = ref.split(":")
    corners = [_parse_cell(b) for b in bits]
    if not 1 <= len(bits) <= 2 or any(c is None for c in corners):
        return None
    rows = [c[0] for c in corners if c] + [r for r, _ in cells]
    cols = [c[1] for c in corners if c] + [c for _, c in cells]
    first, last = _ref(min(rows), min(cols)), _ref(max(rows), max(cols))
    new = first if first == last else f"{first}:{last}"
    return None if new == ref.replace("$", "") else new


def _edit_sheet(
    part: str,
    data: bytes,
    styles: _Styles | None,
    targets: dict[str, _Target],
    legacy_rid: str | None,
) -> bytes:
    """Clear ``tabSelected``; give the target cells highlighted styles (inserting missing cells
    and rows); add ``<legacyDrawing>``. Values, formulas and cached results are not touched."""
    doc = _parse(data, part)
    editor = _Editor(data)
    root = doc.root
    views = root.kid("sheetViews")
    for view in views.kids("sheetView") if views is not None else ():
        if view.attrs.get("tabSelected", "0").strip().lower() in ("1", "true"):
            editor.set_attrs(doc, view, {"tabSelected": None})
    if targets and styles is not None:
        _highlight(doc, editor, styles, targets)
    if legacy_rid is not None:
        before = [c for c in root.children if c.ns == MAIN_NS and c.name in _BEFORE_LEGACY_DRAWING]
        if not before:
            raise ValueError(f"{part}: worksheet without <sheetData>")
        editor.insert(
            before[-1].end, f'<{root.qname("legacyDrawing")} {doc.rel_attr()}="{legacy_rid}"/>'
        )
    return editor.result()


def _highlight(doc: _Doc, editor: _Editor, styles: _Styles, targets: dict[str, _Target]) -> None:
    root = doc.root
    sheet_data = root.kid("sheetData")
    if sheet_data is None:
        raise ValueError("worksheet without <sheetData>")
    q = root.qname
    col_styles: list[tuple[int, int, int]] = []
    cols = root.kid("cols")
    for col in cols.kids("col") if cols is not None else ():
        try:
            col_styles.append(
                (int(col.attrs["min"]), int(col.attrs["max"]), int(col.attrs.get("style", "0")))
            )
        except (KeyError, ValueError):
            continue

    def column_style(column: int) -> int:
        return next((s for low, high, s in col_styles if low <= column <= high), 0)

    def style_of(text: str) -> int:
        return int(text) if text.strip().isdigit() else 0

    wanted: dict[int, list[_Target]] = {}
    for target in targets.values():
        wanted.setdefault(target.row, []).append(target)
    rows = list(_implied(sheet_data.kids("row"), _row_number))
    present = {number: node for number, node in rows}
    new_rows: dict[int, list[str]] = {}
    for row_number, row_targets in sorted(wanted.items()):
        row_targets.sort(key=lambda t: t.col)
        row = present.get(row_number)
        row_style = None
        if row is not None and row.attrs.get("customFormat", "0") in ("1", "true"):
            row_style = style_of(row.attrs.get("s", "0"))
        cells = dict(_implied(row.kids("c") if row is not None else (), _cell_col))
        inserted: list[tuple[int, str]] = []
        for target in row_targets:
            rgb = HIGHLIGHT_FILL[target.severity]
            cell = cells.get(target.col)
            if cell is not None:
                new_style = styles.highlight(style_of(cell.attrs.get("s", "0")), rgb)
                editor.set_attrs(doc, cell, {"s": str(new_style)})
                continue
            base = row_style if row_style is not None else column_style(target.col)
            new_style = styles.highlight(base, rgb)
            ref = _ref(row_number, target.col)
            inserted.append((target.col, f'<{q("c")} r="{ref}" s="{new_style}"/>'))
        if row is None:
            new_rows[row_number] = [xml for _, xml in inserted]
            continue
        if not inserted:
            continue
        spans = _widen_span(row.attrs.get("spans", ""), inserted[0][0], inserted[-1][0])
        if spans:
            editor.set_attrs(doc, row, {"spans": spans})
        ordered = sorted(cells.items())
        for column, xml in inserted:
            after = next((node for c, node in ordered if c > column), None)
            if after is not None:
                editor.insert(after.start, xml)
            else:
                editor.append_children(doc, row, xml)
    for row_number, cells_xml in sorted(new_rows.items()):
        after = next((node for number, node in rows if number > row_number), None)
        xml = f'<{q("row")} r="{row_number}">{"".join(cells_xml)}</{q("row")}>'
        if after is not None:
            editor.insert(after.start, xml)
        else:
            editor.append_children(doc, sheet_data, xml)
    dimension = root.kid("dimension")
    if dimension is not None:
        wider = _widen_dimension(
            dimension.attrs.get("ref", ""), [(t.row, t.col) for t in targets.values()]
        )
        if wider:
            editor.set_attrs(doc, dimension, {"ref": wider})
