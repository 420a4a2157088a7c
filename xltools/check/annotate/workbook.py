"""The workbook edit that puts it together: the report sheet first and active, highlights and
notes on each sheet, styles and content types saved."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from ..report import Report
from .highlights import _edit_sheet, _targets
from .notes import _comments_xml, _may_add_notes, _used_vml_blocks, _vml_xml
from .package import CT_COMMENTS, CT_RELS, CT_VML, CT_WORKSHEET, _ContentTypes, _Package, _rels_path
from .report_sheet import CHECK_SHEET, _ReportSheet, _SheetInfo
from .styles import _Styles
from .text import _attr, _esc, _quote_sheet
from .xmlsplice import MAIN_NS, REL_NS, REL_TYPE, _Doc, _Editor, _Node, _parse

# ---------------------------------------------------------------------------------------------
# Workbook


class StrictPackage(ValueError):
    """A Strict Open XML package: the reader reads it, but the copy's parts are written in
    the transitional namespaces, and one package must not mix the two."""

    def __init__(self) -> None:
        super().__init__(
            "此文件是 “Strict Open XML 电子表格” 格式，本工具不能在这种格式上写出检查后的副本"
            "（检查结果不受影响）。如需副本：在 Excel 中打开此文件，点 文件 → 另存为，保存类型选 "
            "“Excel 工作簿(*.xlsx)”（不要选 “Strict Open XML 电子表格”），保存后再检查。"
        )


def _workbook_part(package: _Package) -> str:
    for rel in package.rels(""):
        if rel.type.endswith("/officeDocument") and not rel.external:
            if rel.type != REL_TYPE + "/officeDocument":
                raise StrictPackage()
            return rel.target
    raise ValueError("not an xlsx package: no officeDocument relationship")


def _unique_sheet_name(existing: Iterable[str]) -> str:
    taken = {name.casefold() for name in existing}
    if CHECK_SHEET.casefold() not in taken:
        return CHECK_SHEET
    n = 2
    while f"{CHECK_SHEET}({n})".casefold() in taken:
        n += 1
    return f"{CHECK_SHEET}({n})"


def _print_titles(wb: _Doc, editor: _Editor, names: _Node | None, sheet: str, row: int) -> None:
    """The report sheet's table header printed atop every page: a sheet-local
    ``_xlnm.Print_Titles`` (the report sheet is first, so ``localSheetId="0"``)."""
    q = wb.root.qname
    name = (
        f'<{q("definedName")} name="_xlnm.Print_Titles" localSheetId="0">'
        f"{_esc(_quote_sheet(sheet))}!${row}:${row}</{q('definedName')}>"
    )
    if names is not None:
        editor.append_children(wb, names, name)
        return
    # definedNames follows sheets, functionGroups and externalReferences (CT_Workbook order)
    before = [n for n in wb.root.children if n.ns == MAIN_NS and n.name in _BEFORE_NAMES]
    editor.insert(before[-1].end, f"<{q('definedNames')}>{name}</{q('definedNames')}>")


_BEFORE_NAMES = (
    "fileVersion",
    "fileSharing",
    "workbookPr",
    "workbookProtection",
    "bookViews",
    "sheets",
    "functionGroups",
    "externalReferences",
)


def _annotate(parts: dict[str, bytes], report: Report) -> _Package:
    package = _Package(parts)
    types = _ContentTypes(package)
    workbook = _workbook_part(package)
    if workbook not in parts:
        raise ValueError(f"not an xlsx package: {workbook} is missing")
    wb = _parse(parts[workbook], workbook)
    if wb.root.ns != MAIN_NS:
        raise StrictPackage()
    rels = {rel.id: rel for rel in package.rels(workbook)}
    sheets_node = wb.root.kid("sheets")
    if sheets_node is None:
        raise ValueError(f"{workbook}: no <sheets>")
    sheet_nodes = list(sheets_node.kids("sheet"))
    sheets: dict[str, _SheetInfo] = {}
    for node in sheet_nodes:
        rel = rels.get(node.attrs.get(f"{{{REL_NS}}}id", ""))
        part = rel.target if rel is not None and not rel.external else ""
        sheets[node.attrs.get("name", "")] = _SheetInfo(
            node.attrs.get("name", ""),
            part if part in parts else "",
            node.attrs.get("state", "visible"),
            rel is not None and rel.type == REL_TYPE + "/worksheet" and part in parts,
        )
    style_part = next((r.target for r in rels.values() if r.type == REL_TYPE + "/styles"), "")
    if not style_part or style_part not in parts:
        raise ValueError("the workbook has no styles part (xl/styles.xml)")
    styles = _Styles(style_part, parts[style_part])

    # 1. The report sheet.
    report_part = package.unique(
        posixpath.join(posixpath.dirname(workbook), "worksheets/sheet_xltools_check{}.xml"), ""
    )
    report_name = _unique_sheet_name(sheets)
    report_sheet = _ReportSheet(styles, report, sheets)
    report_xml = report_sheet.xml()
    package.put(report_part, report_xml.encode("utf-8"))
    types.ensure(report_part, CT_WORKSHEET)
    (report_rid,) = package.add_rels(workbook, [(REL_TYPE + "/worksheet", report_part)])

    editor = _Editor(wb.data)
    ids = [int(n.attrs["sheetId"]) for n in sheet_nodes if n.attrs.get("sheetId", "").isdigit()]
    sheet_xml = (
        f'<{sheets_node.qname("sheet")} name="{_attr(report_name)}" '
        f'sheetId="{max(ids, default=0) + 1}" {wb.rel_attr()}="{report_rid}"/>'
    )
    if sheet_nodes:
        editor.insert(sheet_nodes[0].start, sheet_xml)
    else:
        editor.append_children(wb, sheets_node, sheet_xml)
    book_views = wb.root.kid("bookViews")
    views = list(book_views.kids("workbookView")) if book_views is not None else []
    for view in views:
        changes: dict[str, str | None] = {"activeTab": "0"}
        if "firstSheet" in view.attrs:
            changes["firstSheet"] = "0"  # so the active (first) tab is in view
        editor.set_attrs(wb, view, changes)
    if not views:
        q = wb.root.qname
        if book_views is None:
            editor.insert(
                sheets_node.start,
                f'<{q("bookViews")}><{q("workbookView")} activeTab="0"/></{q("bookViews")}>',
            )
        else:
            editor.append_children(wb, book_views, f'<{q("workbookView")} activeTab="0"/>')
    names = wb.root.kid("definedNames")
    for name in names.kids("definedName") if names is not None else ():
        local = name.attrs.get("localSheetId", "")
        if local.strip().isdigit():
            editor.set_attrs(wb, name, {"localSheetId": str(int(local) + 1)})
    _print_titles(wb, editor, names, report_name, report_sheet.header_row)
    package.put(workbook, editor.result())

    # 2./3. Highlights and notes; every other sheet loses tabSelected.
    targets = _targets(report, sheets)
    next_block = _used_vml_blocks(package) + 1
    for info in sheets.values():
        if not info.part:
            continue
        sheet_targets = targets.get(info.name, {}) if info.worksheet else {}
        data = parts[info.part]
        if not sheet_targets and b"tabSelected" not in data:
            continue
        legacy_rid = None
        if sheet_targets and _may_add_notes(package, info.part, data):
            ordered = sorted(sheet_targets.values(), key=lambda t: (t.row, t.col))
            comments = package.unique("xl/comments_xltools_{}.xml")
            package.put(comments, _comments_xml(ordered).encode("utf-8"))
            vml = package.unique("xl/drawings/vmlDrawing_xltools_{}.vml")
            package.put(vml, _vml_xml(ordered, next_block).encode("utf-8"))
            next_block += len(ordered) // 1024 + 1
            types.ensure(comments, CT_COMMENTS)
            types.ensure(vml, CT_VML)
            _, legacy_rid = package.add_rels(
                info.part,
                [(REL_TYPE + "/comments", comments), (REL_TYPE + "/vmlDrawing", vml)],
            )
            rels_part = _rels_path(info.part)
            if rels_part in package.added:
                types.ensure(rels_part, CT_RELS)
        package.put(info.part, _edit_sheet(info.part, data, styles, sheet_targets, legacy_rid))

    styles.save(package)
    types.save()
    return package
