"""The checked copy keeps the returned workbook as it was and adds the 校验结果 sheet, highlights
and notes — written by editing the xlsx package, never by an openpyxl load+save."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import openpyxl
import pytest
import xlsxwriter
from openpyxl.comments import Comment
from overflow import overflowing_cells

from xltools.check.annotate import CHECK_SHEET, HIGHLIGHT_FILL, ROW_FILL, write_checked_copy
from xltools.check.report import SEVERITY_LABEL, Finding, Report
from xltools.fill import fill_workbook
from xltools.generate import generate_template
from xltools.libreoffice import recalculate
from xltools.spec import load_spec
from xltools.workbook import describe_workbook, open_workbook

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "project_expense_2023.yaml"
SHEET = "项目支出绩效自评表"
M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
INPUTS = {
    "project_name": "农村饮水安全巩固提升工程",
    "department": "水利局",
    "funds_current_initial": 100,
    "funds_current_budget": 120,
    "funds_current_spent": 90,
    "funds_carry_budget": 10,
    "funds_carry_spent": 5,
}
# The order of CT_Worksheet's children (ECMA-376 Part 1, 18.3.1.99).
_WORKSHEET_ORDER = """sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr
sheetProtection protectedRanges scenarios autoFilter sortState dataConsolidate customSheetViews
mergeCells phoneticPr conditionalFormatting dataValidations hyperlinks printOptions pageMargins
pageSetup headerFooter rowBreaks colBreaks customProperties cellWatches ignoredErrors smartTags
drawing legacyDrawing legacyDrawingHF drawingHF picture oleObjects controls webPublishItems
tableParts extLst"""
WORKSHEET_ORDER = _WORKSHEET_ORDER.split()


# --------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The blank template (XlsxWriter, with cached results) and a filled copy (``fill``: the
    package edited, cached results recomputed)."""
    work = tmp_path_factory.mktemp("annotate")
    spec = load_spec(SPEC)
    template = work / "template.xlsx"
    generate_template(spec, template)
    filled = work / "filled.xlsx"
    assert fill_workbook(template, spec, INPUTS, filled) == []
    return {"template": template, "filled": filled}


@pytest.fixture(scope="module")
def recalculated(books: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The filled workbook as LibreOffice saves it: real cached formula results."""
    (path,) = recalculate([books["filled"]], tmp_path_factory.mktemp("recalculated"))
    return path


def _refs(path: Path) -> dict[str, str]:
    names = describe_workbook(open_workbook(path)).names
    return {field: ref.coordinate for field, ref in names.items()}


def _report(path: Path) -> Report:
    refs = _refs(path)
    assert refs["funds_current_spent"] == "G6" and refs["funds_total_spent"] == "G5"
    report = Report(
        file="filled.xlsx",
        template="project_expense_2023",
        version=1,
        title="2023年度项目支出绩效自评表",
        bureau_name="某某县水利局",
        total=86.5,
        grade="良",
    )
    report.add(
        Finding(
            "error",
            "value-out-of-range",
            '全年执行数 <90> 与 "预算数" & 结转不符',
            sheet=SHEET,
            cell=refs["funds_current_spent"],
            field="funds_current_spent",
            label="其中：当年财政拨款·全年执行数",
            expected="≤ 120",
            found="90",
        )
    )
    report.add(  # a formula cell: its formula and cached result must survive the highlight
        Finding("error", "sum-mismatch", "合计与明细不符", sheet=SHEET, cell="G5", found="=G6+G7")
    )
    report.add(  # a cell absent from the XML, in an existing row
        Finding(
            "warning", "missing-reason", '=HYPERLINK("http://x","点我")', sheet=SHEET, cell="H3"
        )
    )
    report.add(  # a cell absent from the XML, in a row absent from the XML
        Finding("warning", "stray-value", "+ 表外单元格 -1 @A1", sheet=SHEET, cell="M50")
    )
    report.add(Finding("info", "file-note", "@提示：本表由 xltools 校验"))
    return report


def _check(source: Path, tmp_path: Path, report: Report | None = None) -> tuple[Path, Report]:
    report = report or _report(source)
    target = tmp_path / "out" / (source.stem + ".checked.xlsx")
    before = source.read_bytes()
    write_checked_copy(source, target, report)
    assert source.read_bytes() == before, "the source must never be modified"
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name], "temp file left"
    return target, report


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _sheet_part(path: Path, sheet: str) -> str:
    parts = _parts(path)
    workbook = ET.fromstring(parts["xl/workbook.xml"])
    rels = ET.fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    for node in workbook.iter(f"{M}sheet"):
        if node.get("name") == sheet:
            target = targets[node.get(R_ID)]
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    raise KeyError(sheet)


def _cells(xml: bytes) -> dict[str, dict[str, Any]]:
    """Every cell of a worksheet part: attributes, formula (text and attributes), cached value,
    inline string."""
    cells = {}
    for c in ET.fromstring(xml).iter(f"{M}c"):
        f, v, inline = c.find(f"{M}f"), c.find(f"{M}v"), c.find(f"{M}is")
        cells[c.get("r", "")] = {
            "attrs": dict(c.attrib),
            "f": None if f is None else (f.text, dict(f.attrib)),
            "v": None if v is None else v.text,
            "is": None if inline is None else ET.tostring(inline),
        }
    return cells


def _source(name: str, books: dict[str, Path], request: pytest.FixtureRequest) -> Path:
    if name == "recalculated":
        return request.getfixturevalue("recalculated")
    return books[name]


PARAMS = [
    "template",
    "filled",
    pytest.param("recalculated", marks=pytest.mark.libreoffice),
]


# ------------------------------------------------------------------ the original is kept


@pytest.mark.parametrize("name", PARAMS)
def test_only_the_needed_parts_change(
    name: str, books: dict[str, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source = _source(name, books, request)
    target, _ = _check(source, tmp_path)
    old, new = _parts(source), _parts(target)
    sheet = _sheet_part(source, SHEET)
    changed = {p for p in old if old[p] != new.get(p)}
    # A sheet that was the selected tab loses tabSelected (the 校验结果 sheet is selected now).
    selected = {
        p
        for p in old
        if p.startswith("xl/worksheets/sheet") and re.search(rb'tabSelected="(1|true)"', old[p])
    }
    assert (
        changed
        == {
            "[Content_Types].xml",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            sheet,
        }
        | selected
    )
    assert set(new) - set(old) == {
        "xl/worksheets/sheet_xltools_check.xml",
        "xl/comments_xltools_1.xml",
        "xl/drawings/vmlDrawing_xltools_1.vml",
        f"xl/worksheets/_rels/{Path(sheet).name}.rels",
    }
    assert set(old) <= set(new)
    # Part order is kept; new parts come last.
    assert list(new)[: len(old)] == list(old)


@pytest.mark.parametrize("name", PARAMS)
def test_cells_keep_values_formulas_and_cached_results(
    name: str, books: dict[str, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source = _source(name, books, request)
    target, _ = _check(source, tmp_path)
    part = _sheet_part(source, SHEET)
    old, new = _cells(_parts(source)[part]), _cells(_parts(target)[part])
    highlighted = {"G6", "G5", "H3", "M50"}
    assert set(new) - set(old) == {"H3", "M50"}, "only the absent highlighted cells are added"
    for ref in ("H3", "M50"):
        assert set(new[ref]["attrs"]) == {"r", "s"} and new[ref]["v"] is None
    for ref, cell in old.items():
        mine = new[ref]
        assert mine["f"] == cell["f"] and mine["v"] == cell["v"] and mine["is"] == cell["is"], ref
        attrs, mine_attrs = dict(cell["attrs"]), dict(mine["attrs"])
        if ref in highlighted:
            assert mine_attrs.pop("s") != attrs.pop("s", "0"), ref
        assert mine_attrs == attrs, ref
    assert old["G5"]["f"] is not None and old["G5"]["v"] not in (None, "")  # a cached result

    for data_only in (False, True):
        a = openpyxl.load_workbook(source, data_only=data_only)
        b = openpyxl.load_workbook(target, data_only=data_only)
        assert b.sheetnames[1:] == a.sheetnames
        for ws in a.worksheets:
            for row in ws.iter_rows():
                for original in row:
                    copy = b[ws.title][original.coordinate]
                    assert copy.value == original.value, original.coordinate
    if name == "recalculated":
        values = openpyxl.load_workbook(target, data_only=True)[SHEET]
        assert values["G6"].value == 90 and values["G5"].value == 95  # 90 + 5 carried over


@pytest.mark.parametrize("name", PARAMS)
def test_changed_parts_differ_only_where_intended(
    name: str, books: dict[str, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Undo the intended edits on the copy's workbook and sheet parts: what is left must be
    the original (so x14 extensions, validations, protection, page setup … are all kept)."""
    source = _source(name, books, request)
    target, _ = _check(source, tmp_path)
    old_parts, new_parts = _parts(source), _parts(target)

    old_wb = ET.fromstring(old_parts["xl/workbook.xml"])
    new_wb = ET.fromstring(new_parts["xl/workbook.xml"])
    sheets = new_wb.find(f"{M}sheets")
    assert sheets is not None and sheets[0].get("name") == CHECK_SHEET
    sheets.remove(sheets[0])
    # The report sheet's print titles: its table header repeats on every printed page.
    names = new_wb.find(f"{M}definedNames")
    assert names is not None
    (titles,) = [
        n for n in names if n.get("name") == "_xlnm.Print_Titles" and n.get("localSheetId") == "0"
    ]
    assert titles.text == f"'{CHECK_SHEET}'!$12:$12"
    names.remove(titles)
    if not len(names) and old_wb.find(f"{M}definedNames") is None:
        new_wb.remove(names)
    for tree, shift in ((old_wb, 0), (new_wb, 1)):
        for view in tree.iter(f"{M}workbookView"):
            view.attrib.pop("activeTab", None)
            view.attrib.pop("firstSheet", None)
        for defined in tree.iter(f"{M}definedName"):
            if "localSheetId" in defined.attrib:
                defined.set("localSheetId", str(int(defined.get("localSheetId", "")) - shift))
    assert ET.tostring(new_wb) == ET.tostring(old_wb)

    part = _sheet_part(source, SHEET)
    old_ws = ET.fromstring(old_parts[part])
    new_ws = ET.fromstring(new_parts[part])
    (legacy,) = new_ws.iter(f"{M}legacyDrawing")
    new_ws.remove(legacy)
    for tree in (old_ws, new_ws):
        for view in tree.iter(f"{M}sheetView"):
            view.attrib.pop("tabSelected", None)
        for dimension in tree.iter(f"{M}dimension"):
            dimension.attrib.pop("ref", None)
        for cell in tree.iter(f"{M}c"):
            if cell.get("r") in ("G6", "G5"):
                cell.attrib.pop("s", None)
    sheet_data = new_ws.find(f"{M}sheetData")
    assert sheet_data is not None
    for row in list(sheet_data):
        for cell in list(row):
            if cell.get("r") in ("H3", "M50"):
                row.remove(cell)
        if len(row) == 0 and row.get("r") == "50":
            sheet_data.remove(row)
    assert ET.tostring(new_ws) == ET.tostring(old_ws)


@pytest.mark.parametrize("name", PARAMS)
def test_styles_are_appended_never_changed(
    name: str, books: dict[str, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source = _source(name, books, request)
    target, _ = _check(source, tmp_path)
    old = ET.fromstring(_parts(source)["xl/styles.xml"])
    new = ET.fromstring(_parts(target)["xl/styles.xml"])
    for old_node, new_node in zip(old, new, strict=True):
        assert old_node.tag == new_node.tag
        if old_node.tag[len(M) :] in ("fonts", "fills", "borders", "cellXfs"):
            kept = list(new_node)[: len(old_node)]
            assert [ET.tostring(n) for n in kept] == [ET.tostring(n) for n in old_node]
            assert len(new_node) > len(old_node)
            assert new_node.get("count") == str(len(new_node))
        else:
            assert ET.tostring(new_node) == ET.tostring(old_node)


@pytest.mark.parametrize("name", PARAMS)
def test_names_protection_validations_and_states_are_kept(
    name: str, books: dict[str, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source = _source(name, books, request)
    target, _ = _check(source, tmp_path)
    a, b = openpyxl.load_workbook(source), openpyxl.load_workbook(target)
    assert {n: d.attr_text for n, d in b.defined_names.items()} == {
        n: d.attr_text for n, d in a.defined_names.items()
    }
    assert a.security is None or b.security.lockStructure == a.security.lockStructure
    for ws in a.worksheets:
        mine = b[ws.title]
        assert mine.sheet_state == ws.sheet_state
        assert {n: d.attr_text for n, d in mine.defined_names.items()} == {
            n: d.attr_text for n, d in ws.defined_names.items()
        }
        assert mine.print_area == ws.print_area and mine.print_title_rows == ws.print_title_rows
        assert mine.protection.sheet == ws.protection.sheet
        assert mine.protection.password == ws.protection.password
        assert repr(mine.data_validations.dataValidation) == repr(
            ws.data_validations.dataValidation
        )
        assert mine.merged_cells.ranges == ws.merged_cells.ranges
    # Sheet-local names index the sheet order: shifted by one, past the new first sheet.
    old_wb = ET.fromstring(_parts(source)["xl/workbook.xml"])
    new_wb = ET.fromstring(_parts(target)["xl/workbook.xml"])
    old_local = sorted(
        (n.get("name"), int(n.get("localSheetId", "")))
        for n in old_wb.iter(f"{M}definedName")
        if n.get("localSheetId") is not None
    )
    new_local = sorted(
        (n.get("name"), int(n.get("localSheetId", "")))
        for n in new_wb.iter(f"{M}definedName")
        if n.get("localSheetId") is not None
    )
    # …plus the report sheet's own print titles, on sheet 0.
    expected_local = sorted([*((n, i + 1) for n, i in old_local), ("_xlnm.Print_Titles", 0)])
    assert old_local and new_local == expected_local


# ------------------------------------------------------------------ what is added


@pytest.mark.parametrize("name", PARAMS)
def test_report_sheet_is_first_active_and_lists_the_findings(
    name: str, books: dict[str, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source = _source(name, books, request)
    target, report = _check(source, tmp_path)
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames[0] == CHECK_SHEET
    assert wb.active is not None and wb.active.title == CHECK_SHEET
    # Only the new sheet is selected: no grouped tabs.
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [CHECK_SHEET]
    ws = wb[CHECK_SHEET]
    # The first screen: title, verdict with counts, next step, then the facts, all Chinese.
    assert ws["A1"].value == "校验结果：2023年度项目支出绩效自评表"
    assert ws["A2"].value == "结论：不通过（错误 2 个，警告 2 个，提示 1 个）"
    assert ws["A2"].fill.fgColor.rgb == ROW_FILL["error"]
    assert str(ws["A3"].value).startswith("下一步：按下表逐项改正 2 个错误")
    summary = {row[0]: row[1] for row in ws.iter_rows(min_row=5, max_row=10, values_only=True)}
    checked_at = summary.pop("检查时间")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", str(checked_at))
    assert summary == {
        "文件": "filled.xlsx",
        "模板": "2023年度项目支出绩效自评表（第 1 版）",
        "单位": "某某县水利局",
        "重算总分": 86.5,
        "评价等次": "良",
    }
    header = next(r for r in range(1, 30) if ws.cell(r, 1).value == "级别")
    assert [c.value for c in ws[header]] == [
        "级别",
        "工作表",
        "单元格",
        "字段",
        "说明",
        "应为",
        "实为",
        "代码",
        "字段编号",
    ]
    # Codes and field ids are for support: kept, in hidden columns, never printed.
    assert ws.column_dimensions["H"].hidden and ws.column_dimensions["I"].hidden
    assert not any(ws.column_dimensions[c].hidden for c in "ABCDEFG")
    assert ws.freeze_panes == f"A{header + 1}"
    rows = list(ws.iter_rows(min_row=header + 1, values_only=True))
    expected = [
        (
            SEVERITY_LABEL[f.severity],
            f.sheet or None,
            f.cell or None,
            f.label or None,
            f.message,
            f.expected or None,
            f.found or None,
            f.code,
            f.field or None,
        )
        for f in report.sorted_findings()
    ]
    assert rows == expected
    # Report text is data: the messages starting with = + @ are strings, not formulas.
    messages = [ws.cell(r, 5) for r in range(header + 1, header + 1 + len(rows))]
    assert all(c.data_type == "s" for c in messages)
    assert '=HYPERLINK("http://x","点我")' in [c.value for c in messages]
    assert ws.auto_filter.ref == f"A{header}:I{header + len(rows)}"
    for r, finding in enumerate(report.sorted_findings(), start=header + 1):
        cell = ws.cell(r, 3)
        if finding.cell:
            assert cell.hyperlink is not None
            assert cell.hyperlink.location == f"'{SHEET}'!{finding.cell}"
            assert cell.hyperlink.target is None  # internal: no relationship
        else:
            assert cell.hyperlink is None
        assert ws.cell(r, 5).fill.fgColor.rgb == ROW_FILL[finding.severity]
    assert ws.column_dimensions["E"].width == 52
    assert overflowing_cells(target, [CHECK_SHEET]) == []


@pytest.mark.parametrize("name", PARAMS)
def test_offending_cells_are_highlighted_with_a_note(
    name: str, books: dict[str, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source = _source(name, books, request)
    target, _ = _check(source, tmp_path)
    a, b = openpyxl.load_workbook(source)[SHEET], openpyxl.load_workbook(target)[SHEET]
    for ref, severity, message in (
        ("G6", "error", '全年执行数 <90> 与 "预算数" & 结转不符'),
        ("G5", "error", "合计与明细不符"),
        ("H3", "warning", '=HYPERLINK("http://x","点我")'),
        ("M50", "warning", "+ 表外单元格 -1 @A1"),
    ):
        cell = b[ref]
        assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == HIGHLIGHT_FILL[severity]
        assert cell.comment is not None and message in cell.comment.text, ref
        if ref in ("G6", "G5"):  # the original format is kept, only the fill changes
            old = a[ref]
            assert cell.number_format == old.number_format
            for aspect in ("font", "border", "alignment", "protection"):
                assert repr(getattr(cell, aspect)) == repr(getattr(old, aspect)), (ref, aspect)
    assert "应为：≤ 120；实为：90" in b["G6"].comment.text
    assert b["G6"].protection.locked is False and b["G5"].protection.locked is True
    assert b["B2"].comment is None and repr(b["B2"].fill) == repr(a["B2"].fill)

    # legacyDrawing sits where CT_Worksheet wants it; the cells and rows are in order.
    root = ET.fromstring(_parts(target)[_sheet_part(source, SHEET)])
    tags = [child.tag[len(M) :] for child in root if child.tag.startswith(M)]
    assert "legacyDrawing" in tags
    assert [WORKSHEET_ORDER.index(t) for t in tags] == sorted(
        WORKSHEET_ORDER.index(t) for t in tags
    )
    rows = [int(r.get("r", "")) for r in root.iter(f"{M}row")]
    assert rows == sorted(rows) and 50 in rows
    third = next(r for r in root.iter(f"{M}row") if r.get("r") == "3")
    assert [c.get("r") for c in third][-1] == "H3"


def test_a_passing_report_and_no_findings(books: dict[str, Path], tmp_path: Path) -> None:
    report = Report(file="ok.xlsx", template="project_expense_2023", version=1, total=95.0)
    report.add(Finding("info", "note", "仅提示"))
    target, _ = _check(books["template"], tmp_path, report)
    wb = openpyxl.load_workbook(target)
    ws = wb[CHECK_SHEET]
    assert ws["A2"].value == "结论：通过（错误 0 个，警告 0 个，提示 1 个）"
    assert ws["A3"].value == "下一步：无需修改，可以提交。"
    # No highlighted cell: the form's sheet only loses its tab selection, nothing else.
    assert "xl/comments_xltools_1.xml" not in _parts(target)
    old = _parts(books["template"])["xl/worksheets/sheet1.xml"]
    new = _parts(target)["xl/worksheets/sheet1.xml"]
    assert new == old.replace(b' tabSelected="1"', b"", 1)


def test_text_is_escaped_and_cleaned(books: dict[str, Path], tmp_path: Path) -> None:
    report = Report(file='a<b>&"c".xlsx')
    report.add(
        Finding(
            "error",
            "x",
            "控制\x01字符\x0b与\ud800代理 </t></is> ]]> 第二行\n第三行",
            sheet=SHEET,
            cell="$B$2",
        )
    )
    target, _ = _check(books["template"], tmp_path, report)
    ws = openpyxl.load_workbook(target)[CHECK_SHEET]
    assert ws["A5"].value == "文件" and ws["B5"].value == 'a<b>&"c".xlsx'
    assert ws["A2"].value == "结论：不通过（错误 1 个，警告 0 个，提示 0 个）"
    assert ws["E13"].value == "控制字符与代理 </t></is> ]]> 第二行\n第三行"
    assert ws["C13"].hyperlink.location == f"'{SHEET}'!$B$2"
    assert "控制字符" in openpyxl.load_workbook(target)[SHEET]["B2"].comment.text


def test_refuses_to_overwrite_the_source(books: dict[str, Path], tmp_path: Path) -> None:
    source = tmp_path / "book.xlsx"
    source.write_bytes(books["template"].read_bytes())
    before = source.read_bytes()
    with pytest.raises(ValueError, match="overwrite"):
        write_checked_copy(source, source, _report(source))
    with pytest.raises(ValueError, match="overwrite"):
        write_checked_copy(source, tmp_path / "." / "book.xlsx", _report(source))
    assert source.read_bytes() == before
    not_xlsx = tmp_path / "x.xlsx"
    not_xlsx.write_text("hello")
    with pytest.raises(ValueError):
        write_checked_copy(not_xlsx, tmp_path / "y.xlsx", Report(file="x.xlsx"))
    assert not (tmp_path / "y.xlsx").exists()


def test_sheet_with_existing_comments_is_highlighted_but_keeps_its_notes(
    books: dict[str, Path], tmp_path: Path
) -> None:
    wb = openpyxl.load_workbook(books["filled"])
    wb[SHEET]["B3"].comment = Comment("单位自己的批注", "单位")
    source = tmp_path / "commented.xlsx"
    wb.save(source)
    target, _ = _check(source, tmp_path)
    parts = _parts(target)
    assert not any("xltools" in p for p in parts if p.endswith((".vml", "comments_xltools_1.xml")))
    b = openpyxl.load_workbook(target)[SHEET]
    assert b["B3"].comment is not None and b["B3"].comment.text == "单位自己的批注"
    assert b["G6"].comment is None
    assert b["G6"].fill.fgColor.rgb == HIGHLIGHT_FILL["error"]
    assert b["H3"].fill.fgColor.rgb == HIGHLIGHT_FILL["warning"]


def test_checking_a_checked_copy_again(books: dict[str, Path], tmp_path: Path) -> None:
    """A unit may send the checked copy back: names and parts stay unique, nothing breaks."""
    first, report = _check(books["template"], tmp_path / "1")
    second = tmp_path / "2" / "again.xlsx"
    write_checked_copy(first, second, report)
    wb = openpyxl.load_workbook(second)
    assert wb.sheetnames[:2] == [f"{CHECK_SHEET}(2)", CHECK_SHEET]
    assert wb.active is not None and wb.active.title == f"{CHECK_SHEET}(2)"
    assert "xl/worksheets/sheet_xltools_check2.xml" in _parts(second)
    assert wb[SHEET]["G6"].comment is not None  # the first run's notes, kept
    assert wb[SHEET]["G6"].fill.fgColor.rgb == HIGHLIGHT_FILL["error"]


def test_cells_are_inserted_in_row_and_column_order(tmp_path: Path) -> None:
    source = tmp_path / "small.xlsx"
    book = xlsxwriter.Workbook(str(source))
    sheet = book.add_worksheet("Data")
    sheet.write("A1", "a")
    sheet.write("C1", "c")
    sheet.write_formula("A3", "=1+1", None, 2)
    sheet.write("A5", "e")
    book.close()
    report = Report(file="small.xlsx")
    for cell in ("B1", "D1", "B2", "B3", "B4", "A9"):
        report.add(Finding("warning", "w", f"at {cell}", sheet="Data", cell=cell))
    report.add(Finding("error", "e", "missing sheet", sheet="Nope", cell="A1"))
    report.add(Finding("error", "e", "a range", sheet="Data", cell="A1:B2"))
    target, _ = _check(source, tmp_path, report)
    root = ET.fromstring(_parts(target)["xl/worksheets/sheet1.xml"])
    layout = [
        (row.get("r"), [c.get("r") for c in row.iter(f"{M}c")]) for row in root.iter(f"{M}row")
    ]
    assert layout == [
        ("1", ["A1", "B1", "C1", "D1"]),
        ("2", ["B2"]),
        ("3", ["A3", "B3"]),
        ("4", ["B4"]),
        ("5", ["A5"]),
        ("9", ["A9"]),
    ]
    assert root.find(f"{M}dimension").get("ref") == "A1:D9"  # type: ignore[union-attr]
    ws = openpyxl.load_workbook(target)["Data"]
    assert ws["A3"].value == "=1+1" and ws["C1"].value == "c"
    for cell in ("B1", "D1", "B2", "B3", "B4", "A9"):
        assert ws[cell].fill.fgColor.rgb == HIGHLIGHT_FILL["warning"]
        assert ws[cell].comment is not None and f"at {cell}" in ws[cell].comment.text
    report_ws = openpyxl.load_workbook(target)[CHECK_SHEET]
    links = {c.value: c.hyperlink for row in report_ws.iter_rows(min_row=13) for c in row[2:3]}
    assert links["A1:B2"] is not None and links["A1:B2"].location == "'Data'!A1:B2"
    nope = next(row for row in report_ws.iter_rows(min_row=13) if row[1].value == "Nope")
    assert nope[2].value == "A1" and nope[2].hyperlink is None  # no such sheet: no link


def _png() -> bytes:
    """A 1×1 PNG, to give a sheet a drawing part."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")
def test_sheet_with_drawing_links_and_x14_extensions(tmp_path: Path) -> None:
    source = tmp_path / "rich.xlsx"
    book = xlsxwriter.Workbook(str(source))
    sheet = book.add_worksheet("Data")
    for row in range(5):
        sheet.write_number(row, 0, row * 10)
    sheet.conditional_format("A1:A5", {"type": "data_bar", "data_bar_2010": True})
    sheet.write_url("C1", "https://example.org/", string="外部链接")
    sheet.insert_image("E2", "dot.png", {"image_data": io.BytesIO(_png())})
    sheet.set_header("&C第 &P 页")
    book.close()
    old = _parts(source)
    assert b"<extLst>" in old["xl/worksheets/sheet1.xml"]
    report = Report(file="rich.xlsx")
    report.add(Finding("error", "e", "太大", sheet="Data", cell="A5"))
    target, _ = _check(source, tmp_path, report)
    new = _parts(target)

    xml = new["xl/worksheets/sheet1.xml"]
    ext = old["xl/worksheets/sheet1.xml"].rsplit(b"<extLst>", 1)[1]
    assert xml.endswith(ext), "the x14 extension list is kept byte for byte, and stays last"
    root = ET.fromstring(xml)
    tags = [child.tag[len(M) :] for child in root]
    assert tags[-3:] == ["drawing", "legacyDrawing", "extLst"]
    assert [WORKSHEET_ORDER.index(t) for t in tags] == sorted(
        WORKSHEET_ORDER.index(t) for t in tags
    )

    rels_old = ET.fromstring(old["xl/worksheets/_rels/sheet1.xml.rels"])
    rels_new = ET.fromstring(new["xl/worksheets/_rels/sheet1.xml.rels"])
    assert [ET.tostring(r) for r in rels_new][: len(rels_old)] == [ET.tostring(r) for r in rels_old]
    ids = [r.get("Id") for r in rels_new]
    assert len(ids) == len(set(ids)) == len(rels_old) + 2
    legacy = root.find(f"{M}legacyDrawing")
    assert legacy is not None
    vml = next(r for r in rels_new if r.get("Id") == legacy.get(R_ID))
    assert vml.get("Target") == "../drawings/vmlDrawing_xltools_1.vml"

    ws = openpyxl.load_workbook(target)["Data"]
    assert ws["A5"].value == 40 and ws["A5"].fill.fgColor.rgb == HIGHLIGHT_FILL["error"]
    assert ws["A5"].comment is not None and "太大" in ws["A5"].comment.text
    assert ws["C1"].hyperlink is not None and ws["C1"].hyperlink.target == "https://example.org/"
    # The drawing, its image and everything else not named here are copied byte for byte.
    assert {"xl/drawings/drawing1.xml", "xl/media/image1.png"} <= set(old)
    changed = {p for p in old if new[p] != old[p]}
    assert changed == {
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/worksheets/sheet1.xml",
        "xl/worksheets/_rels/sheet1.xml.rels",
    }


# ------------------------------------------------------------------ LibreOffice


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["filled", "recalculated"])
def test_libreoffice_opens_the_checked_copy(
    name: str, books: dict[str, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source = _source(name, books, request)
    target, report = _check(source, tmp_path)
    (saved,) = recalculate([target], tmp_path / "lo")
    wb = openpyxl.load_workbook(saved, data_only=True)
    assert wb.sheetnames[0] == CHECK_SHEET
    assert wb.active is not None and wb.active.title == CHECK_SHEET
    ws = wb[SHEET]
    assert ws["B2"].value == INPUTS["project_name"]
    assert ws["G6"].value == 90 and ws["G5"].value == 95
    assert ws["G6"].comment is not None and "预算数" in ws["G6"].comment.text
    assert ws["G6"].fill.fgColor.rgb == HIGHLIGHT_FILL["error"]
    texts = [c.value for row in wb[CHECK_SHEET].iter_rows() for c in row]
    assert all(f.message in texts for f in report.findings)
    info = describe_workbook(open_workbook(saved))
    assert info.names["funds_current_spent"].coordinate == "G6"
