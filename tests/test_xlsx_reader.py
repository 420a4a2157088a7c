"""xltools.xlsx.reader: the fast one-pass reader the checker uses on returned workbooks.

1. On real files — a generated template, the same filled (``xltools fill``), and both saved again
   by LibreOffice — every cell, name, state, protection flag, validation and merged range must
   agree with openpyxl, the slow reference reader.
2. On files written by hand in the shapes Excel and WPS use (shared formulas, x14 validations,
   rich and phonetic strings, Strict namespaces, …).
3. On damaged and hostile files every failure is a WorkbookReadError with its own code, fast and
   without allocating what the file pretends to hold.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import struct
import time
import tracemalloc
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from openpyxl.cell.cell import MergedCell
from openpyxl.formula.translate import Translator
from openpyxl.utils.datetime import to_excel

from xltools.fill import fill_workbook
from xltools.generate import generate_template
from xltools.libreoffice import find_soffice, recalculate
from xltools.spec import load_spec
from xltools.xlsx import (
    DEFAULT_LIMITS,
    Limits,
    RawWorkbook,
    WorkbookReadError,
    read_workbook,
    split_reference,
    translate_formula,
)

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "project_expense_2023.yaml"
EXAMPLE = ROOT / "examples" / "project_expense_2023.yaml"
SHEET = "项目支出绩效自评表"

# --------------------------------------------------------------------------------------------
# Real workbooks
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("xlsx_reader")
    spec = load_spec(SPEC)
    template = work / "template.xlsx"
    issued = dt.datetime(2024, 3, 15, 9, 30, tzinfo=dt.UTC)
    generate_template(spec, template, issued_at=issued)
    with EXAMPLE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    filled = work / "filled.xlsx"
    assert fill_workbook(template, spec, data, filled) == []
    return {"template": template, "filled": filled}


@pytest.fixture(scope="module")
def libreoffice_files(real_files: dict[str, Path]) -> dict[str, Path]:
    # Module-scoped, so it runs before conftest's per-test marker check: apply the same rule.
    if find_soffice() is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is not installed but CI is set", pytrace=False)
        pytest.skip("LibreOffice (soffice) not found")
    out = real_files["template"].parent / "libreoffice"
    template, filled = recalculate([real_files["template"], real_files["filled"]], out)
    return {"template": template, "filled": filled}


def _openpyxl_value(cell: Any) -> Any:
    value = cell.value
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        return float(to_excel(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _openpyxl_formula(cell: Any) -> str | None:
    value = cell.value
    if cell.data_type == "f":
        text = value if isinstance(value, str) else value.text  # ArrayFormula
        return str(text)[1:]
    return None


def _split_sqref(sqref: str) -> tuple[str, ...]:
    return tuple(sorted(sqref.split()))


def compare_with_openpyxl(path: Path) -> RawWorkbook:
    """Assert that read_workbook and openpyxl see the same workbook; return ours."""
    raw = read_workbook(path)
    assert read_workbook(path.read_bytes()) == raw  # a path and its bytes read the same
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)

    assert [sheet.name for sheet in raw.sheets] == formulas.sheetnames
    security = formulas.security
    assert raw.structure_locked == bool(security is not None and security.lockStructure)
    expected_names = {name.lower(): dn.attr_text for name, dn in formulas.defined_names.items()}
    assert raw.names == expected_names

    for sheet in raw.sheets:
        ws_f = formulas[sheet.name]
        ws_v = values[sheet.name]
        assert sheet.state == ws_f.sheet_state
        assert sheet.protected == bool(ws_f.protection.sheet)
        assert sorted(sheet.merged) == sorted(str(r) for r in ws_f.merged_cells.ranges)
        expected_dv = sorted(
            (_split_sqref(str(dv.sqref)), dv.type or "none", dv.formula1 or "")
            for dv in ws_f.data_validations.dataValidation
        )
        found_dv = sorted((_split_sqref(s), t, f) for s, t, f in sheet.validations)
        assert found_dv == expected_dv
        local = {
            k: v
            for k, v in raw.local_names.get(sheet.name, {}).items()
            if k not in ("_xlnm.print_area", "_xlnm.print_titles")
        }
        assert local == {k.lower(): dn.attr_text for k, dn in ws_f.defined_names.items()}

        # openpyxl adds a MergedCell for each covered cell of a merged range, in the file or not
        present = {c.coordinate for c in ws_f._cells.values() if not isinstance(c, MergedCell)}
        covered = {c.coordinate for c in ws_f._cells.values() if isinstance(c, MergedCell)}
        assert present <= set(sheet.cells) <= present | covered, sheet.name
        for ref in covered - set(sheet.cells):
            assert ws_v[ref].value is None
            assert bool(ws_f[ref].protection.locked) == raw.is_locked(None)
        if sheet.cells:
            assert sheet.max_row == max(ws_f[ref].row for ref in sheet.cells)
            assert sheet.max_col == max(ws_f[ref].column for ref in sheet.cells)
        else:
            assert (sheet.max_row, sheet.max_col) == (0, 0)
        for ref, cell in sheet.cells.items():
            f_cell = ws_f[ref]
            v_cell = ws_v[ref]
            where = f"{sheet.name}!{ref}"
            expected = _openpyxl_value(v_cell)
            if cell.value == "" and cell.kind == "s" and cell.formula is not None:
                assert expected is None, where  # openpyxl reads an empty text result as None
            else:
                assert cell.value == expected, where
                assert type(cell.value) is type(expected), where
            kinds = {"n": "n", "d": "n", "s": "s", "b": "b", "e": "e"}
            if cell.value is None:
                assert cell.kind == "blank", where
            elif v_cell.data_type in kinds:
                assert cell.kind == kinds[v_cell.data_type], where
            assert cell.formula == _openpyxl_formula(f_cell), where
            assert raw.is_locked(cell) == bool(f_cell.protection.locked), where
    return raw


def test_generated_template_matches_openpyxl(real_files: dict[str, Path]) -> None:
    raw = compare_with_openpyxl(real_files["template"])
    states = {sheet.name: sheet.state for sheet in raw.sheets}
    assert states[SHEET] == "visible"
    assert states["_lists"] == states["_xltools"] == "veryHidden"
    assert raw.structure_locked
    assert all(raw.sheet(name).protected for name in (SHEET, "_lists", "_xltools"))  # type: ignore[union-attr]
    assert not raw.has_macros and raw.external_links == []
    # names resolve to the cells they name; formulas, locked headers, open inputs
    assert raw.resolve("FUNDS_TOTAL_INITIAL") == (SHEET, "C5")
    assert raw.resolve("_list_level") == ("_lists", "A2:A4")
    total = raw.cell(SHEET, "$C$5")
    assert total is not None and total.formula is not None and total.formula.startswith("SUM(")
    assert raw.is_locked(total)
    project = raw.resolve("project_name")
    assert project is not None
    assert not raw.is_locked(raw.cell(*project))
    form = raw.sheet(SHEET)
    assert form is not None and raw.cell(SHEET, "A1") == form.cells["A1"]
    assert raw.sheet("_LISTS") is raw.sheet("_lists") is not None
    assert raw.cell("no such sheet", "A1") is None and raw.resolve("nope") is None


def test_filled_workbook_matches_openpyxl(real_files: dict[str, Path]) -> None:
    raw = compare_with_openpyxl(real_files["filled"])
    project = raw.resolve("project_name")
    assert project is not None
    cell = raw.cell(*project)
    assert cell is not None and cell.kind == "s" and cell.value
    assert raw.structure_locked
    # fill writes each formula's cached result, as the recomputation gives it
    total = raw.cell(SHEET, "C5")
    assert total is not None and total.formula is not None and total.kind == "n"
    parts = [
        raw.cell(*raw.resolve(f"funds_{k}_initial") or ("", ""))
        for k in ("current", "carry", "other")
    ]
    assert total.value == sum(float(c.value or 0) for c in parts if c is not None) > 0


@pytest.mark.libreoffice
def test_libreoffice_template_matches_openpyxl(libreoffice_files: dict[str, Path]) -> None:
    raw = compare_with_openpyxl(libreoffice_files["template"])
    # What LibreOffice 7.4 changes on save (see the report in bench/bench_reader.py):
    states = {sheet.name: sheet.state for sheet in raw.sheets}
    assert states["_lists"] == states["_xltools"] == "hidden"  # veryHidden is lost
    assert not raw.structure_locked  # <workbookProtection/> without lockStructure
    assert all(raw.sheet(name).protected for name in (SHEET, "_lists", "_xltools"))  # type: ignore[union-attr]
    meta = raw.sheet("_xltools")
    assert meta is not None
    assert "A8" in meta.cells and "B8" not in meta.cells  # bureau_id "", an empty string, gone
    assert raw.resolve("funds_total_initial") == (SHEET, "C5")  # unquoted sheet name
    rate = raw.cell(SHEET, "K5")
    assert rate is not None and rate.formula is not None
    assert (rate.value, rate.kind) == ("", "s")  # ="" result written as t="str"


@pytest.mark.libreoffice
def test_libreoffice_filled_matches_openpyxl(libreoffice_files: dict[str, Path]) -> None:
    raw = compare_with_openpyxl(libreoffice_files["filled"])
    total = raw.cell(SHEET, "C5")
    assert total is not None and total.kind == "n" and isinstance(total.value, float)


# --------------------------------------------------------------------------------------------
# Hand-written packages in the shapes other writers use
# --------------------------------------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
SHEET_TYPE = f"{REL}/worksheet"

CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="{TYPES}">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/worksheets/sheet2.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
<Override PartName="/xl/styles.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""

ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="{PKG}"><Relationship Id="rId1"
 Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"""

WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="{PKG}">
<Relationship Id="rId1" Type="{SHEET_TYPE}" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{SHEET_TYPE}" Target="/xl/worksheets/sheet2.xml"/>
<Relationship Id="rId3" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>
<Relationship Id="rId4" Type="{REL}/styles" Target="styles.xml"/>
</Relationships>"""

WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{MAIN}" xmlns:r="{REL}">
<workbookProtection lockStructure="true"/>
<sheets><sheet name="表 1" sheetId="1" r:id="rId1"/>
<sheet name="It's" sheetId="2" state="hidden" r:id="rId2"/></sheets>
<definedNames>
<definedName name="Amount">'表 1'!$B$2</definedName>
<definedName name="quoted">'It''s'!$A$1:$A$3</definedName>
<definedName name="amount">'表 1'!$Z$9</definedName>
<definedName name="local" localSheetId="1">'It''s'!$B$1</definedName>
<definedName name="_xlnm.Print_Area" localSheetId="0">'表 1'!$A$1:$D$9</definedName>
<definedName name="formula">SUM('表 1'!$B$2:$B$3)*2</definedName>
</definedNames></workbook>"""

SHARED_STRINGS = f"""<?xml version="1.0" encoding="UTF-8"?>
<sst xmlns="{MAIN}" count="4" uniqueCount="4">
<si><t>plain</t></si>
<si><r><rPr><b/></rPr><t>rich </t></r><r><t xml:space="preserve">text </t></r></si>
<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>
<si><t>line_x000D_break _x005F_x0041_</t></si>
</sst>"""

STYLES = f"""<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="{MAIN}">
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0">
<protection locked="0"/></xf></cellStyleXfs>
<cellXfs count="4">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyProtection="1">
<protection locked="0"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"><protection locked="false"
 hidden="true"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"><protection hidden="1"/></xf>
</cellXfs></styleSheet>"""

SHEET1 = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{MAIN}" xmlns:r="{REL}"
 xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"
 xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
 xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
 xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" mc:Ignorable="x14ac">
<dimension ref="A1:F9"/>
<sheetData>
<row r="1" spans="1:6">
 <c r="A1" t="s"><v>0</v></c><c r="B1" t="s" s="1"><v>1</v></c><c r="C1" t="s"><v>2</v></c>
 <c r="D1" t="s"><v>3</v></c><c r="E1" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c>
 <c r="F1" t="b"><v>1</v></c>
</row>
<row r="2">
 <c r="A2"><v>1</v></c><c r="B2" s="2"><v>2.5</v></c>
 <c r="C2"><f t="shared" ref="C2:C5" si="0">A2*2+$A$2+A$2+$A2+SUM(A2:B2)+Sheet2!A2+'表 1'!B2&amp;"A2"</f><v>7</v></c>
 <c r="D2"><f t="shared" ref="D2:E3" si="1">SUM($A:A)+LOG10(A2)+ROWS(2:2)</f><v>1</v></c>
 <c r="E2"><f t="shared" si="1"/><v>1</v></c>
 <c r="F2" t="e"><f>1/0</f><v>#DIV/0!</v></c>
</row>
<row r="3">
 <c r="A3"><v>-3E-2</v></c><c r="C3"><f t="shared" si="0"/><v>0</v></c>
 <c r="D3"><f t="shared" si="1"/><v>1</v></c><c r="E3"><f t="shared" si="1"/><v>1</v></c>
 <c r="F3" t="str"><f>"x"&amp;A1</f><v>xplain</v></c>
</row>
<row r="4">
 <c r="A4" t="b"><v>0</v></c><c r="C4"><f t="shared" si="0"/><v>0</v></c>
 <c r="D4" t="e"><v>#N/A</v></c><c r="E4" s="3"/><c r="F4" t="str"><f>""</f><v></v></c>
</row>
<row r="5"><c r="C5"><f t="shared" si="0"/><v>0</v></c><c r="D5" t="inlineStr"><is><t/></is></c></row>
<row r="9"><c r="A9"><f t="array" ref="A9:B9">A2:B2*2</f><v>2</v></c><c r="B9"><v>5</v></c></row>
</sheetData>
<sheetProtection sheet="true" objects="1"/>
<mergeCells count="2"><mergeCell ref="E5:F5"/><mergeCell ref="A7:B8"/></mergeCells>
<dataValidations count="2">
<dataValidation type="list" allowBlank="1" sqref="B2 B3:B4"><formula1>"a,b"</formula1></dataValidation>
<dataValidation sqref="A1"/>
</dataValidations>
<extLst><ext uri="{{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}}">
<x14:dataValidations count="1"><x14:dataValidation type="list" allowBlank="1">
<x14:formula1><xm:f>'It''s'!$A$1:$A$3</xm:f></x14:formula1><xm:sqref>C7:C8</xm:sqref>
</x14:dataValidation></x14:dataValidations></ext></extLst>
</worksheet>"""

SHEET2 = f"""<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="{MAIN}"><sheetData>
<row><c><v>1</v></c><c t="d"><v>2024-03-15T00:00:00</v></c></row>
<row><c r="B2"><v>3</v></c><c><v>4</v></c></row>
</sheetData><sheetProtection sheet="0"/></worksheet>"""


def hand_parts() -> dict[str, str | bytes]:
    return {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/sharedStrings.xml": SHARED_STRINGS,
        "xl/styles.xml": STYLES,
        "xl/worksheets/sheet1.xml": SHEET1,
        "xl/worksheets/sheet2.xml": SHEET2,
    }


def package(parts: dict[str, str | bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The zip of ``parts``, byte for byte the same on every run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 3, 15, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, content.encode("utf-8") if isinstance(content, str) else content)
    return buffer.getvalue()


def test_hand_written_package() -> None:
    raw = read_workbook(package(hand_parts()))
    first, second = raw.sheets
    assert (first.name, first.state, second.name, second.state) == (
        "表 1",
        "visible",
        "It's",
        "hidden",
    )
    cells = {ref: (c.value, c.kind) for ref, c in first.cells.items()}
    assert cells["A1"] == ("plain", "s")
    assert cells["B1"] == ("rich text ", "s")
    assert cells["C1"] == ("漢字", "s")  # phonetic reading left out
    assert cells["D1"] == ("line\rbreak _x0041_", "s")  # _xHHHH_ decoded, _x005F_ is "_"
    assert cells["E1"] == ("inline", "s")
    assert cells["F1"] == (True, "b") and cells["A4"] == (False, "b")
    assert cells["A2"] == (1.0, "n") and cells["B2"] == (2.5, "n") and cells["A3"] == (-0.03, "n")
    assert cells["F2"] == ("#DIV/0!", "e") and cells["D4"] == ("#N/A", "e")
    assert cells["F3"] == ("xplain", "s")
    assert cells["F4"] == ("", "s")  # a formula's empty text result
    assert cells["D5"] == ("", "s")  # an empty inline string
    assert cells["E4"] == (None, "blank")
    assert first.cells["F2"].formula == "1/0" and first.cells["A9"].formula == "A2:B2*2"
    assert first.cells["B9"].formula is None  # inside the array, not its anchor
    assert first.protected and not second.protected
    assert first.merged == ["E5:F5", "A7:B8"]
    assert first.validations == [
        ("B2 B3:B4", "list", '"a,b"'),
        ("A1", "none", ""),
        ("C7:C8", "list", "'It''s'!$A$1:$A$3"),
    ]
    assert (first.max_row, first.max_col) == (9, 6)
    # cells without r=: positions follow the row and column counters
    assert {ref: c.value for ref, c in second.cells.items()} == {
        "A1": 1.0,
        "B1": 45366.0,  # t="d": the ISO date's serial number
        "B2": 3.0,
        "C2": 4.0,
    }
    assert (second.max_row, second.max_col) == (2, 3)
    # styles: locked unless protection says locked="0"/"false"; unknown style indexes are locked
    assert raw.locked_styles == [True, False, False, True]
    assert raw.is_locked(first.cells["A1"]) and not raw.is_locked(first.cells["B1"])
    assert raw.is_locked(None)
    assert raw.structure_locked
    # names: lowercased, first definition kept, locals apart, resolve() unquotes
    assert raw.names == {
        "amount": "'表 1'!$B$2",
        "quoted": "'It''s'!$A$1:$A$3",
        "formula": "SUM('表 1'!$B$2:$B$3)*2",
    }
    assert raw.local_names == {
        "It's": {"local": "'It''s'!$B$1"},
        "表 1": {"_xlnm.print_area": "'表 1'!$A$1:$D$9"},
    }
    assert raw.resolve("AMOUNT") == ("表 1", "B2")
    assert raw.resolve("quoted") == ("It's", "A1:A3")
    assert raw.resolve("formula") is None
    assert raw.parts[0] == "[Content_Types].xml"


@pytest.mark.filterwarnings("ignore:Workbook contains no default style")
@pytest.mark.filterwarnings("ignore:Data Validation extension is not supported")
def test_shared_formulas_are_translated_like_excel(tmp_path: Path) -> None:
    raw = read_workbook(package(hand_parts()))
    cells = raw.sheets[0].cells
    master = cells["C2"].formula
    assert master == "A2*2+$A$2+A$2+$A2+SUM(A2:B2)+Sheet2!A2+'表 1'!B2&\"A2\""
    assert cells["C3"].formula == "A3*2+$A$2+A$2+$A3+SUM(A3:B3)+Sheet2!A3+'表 1'!B3&\"A2\""
    assert cells["C5"].formula == "A5*2+$A$2+A$2+$A5+SUM(A5:B5)+Sheet2!A5+'表 1'!B5&\"A2\""
    assert cells["E2"].formula == "SUM($A:B)+LOG10(B2)+ROWS(2:2)"
    assert cells["D3"].formula == "SUM($A:A)+LOG10(A3)+ROWS(3:3)"
    assert cells["E3"].formula == "SUM($A:B)+LOG10(B3)+ROWS(3:3)"
    # openpyxl's translator agrees on every dependent
    path = tmp_path / "shared.xlsx"
    path.write_bytes(package(hand_parts()))
    formulas = openpyxl.load_workbook(path)["表 1"]
    for ref in ("C3", "C4", "C5", "E2", "D3", "E3"):
        assert "=" + str(cells[ref].formula) == formulas[ref].value, ref


@pytest.mark.parametrize(
    ("formula", "rows", "cols", "expected"),
    [
        ("A1+B2", 1, 1, "B2+C3"),
        ("$A$1+$A1+A$1", 2, 2, "$A$1+$A3+C$1"),
        ("SUM(A1:B2)", 0, 1, "SUM(B1:C2)"),
        ('"A1"&A1', 1, 0, '"A1"&A2'),
        ("'Sheet A1'!A1+Sheet1!A1", 1, 0, "'Sheet A1'!A2+Sheet1!A2"),
        ("LOG10(A1)+ATAN2(A1,B1)", 0, 1, "LOG10(B1)+ATAN2(B1,C1)"),
        ("XFE1+my_A1+A1B", 1, 1, "XFE1+my_A1+A1B"),  # names, not references
        ("A:A+1:1+$B:$B+$2:$2", 1, 1, "B:B+2:2+$B:$B+$2:$2"),
        ("XFD1+A1048576", 1, 1, "#REF!+#REF!"),
        ("Table1[[#This Row],[A1]]+A1", 1, 0, "Table1[[#This Row],[A1]]+A2"),
        ("[1]Sheet1!A1+#REF!+1E5+1.5", 1, 0, "[1]Sheet1!A2+#REF!+1E5+1.5"),
        ("金额A1+A1", 1, 0, "金额A1+A2"),
        ("A1", 0, 0, "A1"),
    ],
)
def test_translate_formula(formula: str, rows: int, cols: int, expected: str) -> None:
    assert translate_formula(formula, rows, cols) == expected


def test_translate_formula_agrees_with_openpyxl() -> None:
    formulas = ["A1*2+$B$1", "SUM($A1:B$2)", 'IF(A1>0,C3,"D4")', "Sheet2!A1:B2", "A:B", "3:4"]
    for formula in formulas:
        for rows, cols in ((0, 1), (1, 0), (3, 2)):
            expected = Translator("=" + formula, "A1").translate_formula(
                f"{openpyxl.utils.get_column_letter(1 + cols)}{1 + rows}"
            )
            assert "=" + translate_formula(formula, rows, cols) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'项目支出绩效自评表'!$C$5", ("项目支出绩效自评表", "C5")),
        ("项目支出绩效自评表!$B$10:$B$17", ("项目支出绩效自评表", "B10:B17")),
        ("'It''s'!a1", ("It's", "A1")),
        ("Sheet1!$13:$13", ("Sheet1", "13:13")),
        ("=Sheet1!$A:$A", ("Sheet1", "A:A")),
        ("Sheet1!$A$1,Sheet1!$B$2", None),
        ("[1]Sheet1!$A$1", None),
        ("#REF!", None),
        ("SUM(Sheet1!A1)", None),
    ],
)
def test_split_reference(text: str, expected: tuple[str, str] | None) -> None:
    assert split_reference(text) == expected


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("2024-10-17T00:00:00", 45582.0, "n"),  # as Excel's Strict Open XML writes a date
        ("2024-10-17", 45582.0, "n"),  # openpyxl's iso_dates
        ("2024-10-17T18:00:00Z", 45582.75, "n"),
        ("1900-02-28", 59.0, "n"),  # before Excel's 29 February 1900: one less
        ("1900-03-01", 61.0, "n"),
        ("12:00:00", 0.5, "n"),  # a time alone: a fraction of a day
        ("1899-01-01", "1899-01-01", "s"),  # no date Excel can show: the text
        ("17/10/2024", "17/10/2024", "s"),
    ],
)
def test_iso_date_cells_read_as_serial_numbers(text: str, value: object, kind: str) -> None:
    parts = hand_parts()
    parts["xl/worksheets/sheet2.xml"] = (
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="d"><v>{text}</v></c>'
        "</row></sheetData></worksheet>"
    )
    cell = read_workbook(package(parts)).sheets[1].cells["A1"]
    assert (cell.value, cell.kind) == (value, kind)


def test_strict_namespace_and_workbook_found_through_package_rels() -> None:
    strict_main = "http://purl.oclc.org/ooxml/spreadsheetml/main"
    strict_rel = "http://purl.oclc.org/ooxml/officeDocument/relationships"
    parts: dict[str, str | bytes] = {
        "_rels/.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="r1" '
        f'Type="{strict_rel}/officeDocument" Target="/book/main.xml"/></Relationships>',
        "book/main.xml": f'<workbook xmlns="{strict_main}" xmlns:r="{strict_rel}"><sheets>'
        '<sheet name="S" sheetId="1" state="veryHidden" r:id="a"/></sheets></workbook>',
        "book/_rels/main.xml.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="a" '
        f'Type="{strict_rel}/worksheet" Target="s/one.xml"/></Relationships>',
        "book/s/one.xml": f'<worksheet xmlns="{strict_main}"><sheetData><row r="3">'
        '<c r="b3"><v>7</v></c></row></sheetData></worksheet>',
    }
    raw = read_workbook(package(parts))
    assert raw.sheets[0].state == "veryHidden"
    assert raw.cell("S", "B3") == raw.sheets[0].cells["B3"]
    assert raw.sheets[0].cells["B3"].value == 7.0
    assert raw.locked_styles == [] and raw.is_locked(raw.sheets[0].cells["B3"])


def test_macros_and_external_links_are_reported() -> None:
    parts = hand_parts()
    parts["xl/vbaProject.bin"] = b"\x00" * 16
    parts["xl/externalLinks/externalLink1.xml"] = "<externalLink/>"
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = "<Relationships/>"
    raw = read_workbook(package(parts))
    assert raw.has_macros
    assert raw.external_links == ["xl/externalLinks/externalLink1.xml"]


# --------------------------------------------------------------------------------------------
# Damaged and hostile files
# --------------------------------------------------------------------------------------------


def code_of(source: Path | bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    with pytest.raises(WorkbookReadError) as caught:
        read_workbook(source, limits)
    error = caught.value
    assert error.code.startswith("read-") and error.message
    assert any("\u4e00" <= char <= "\u9fff" for char in error.message)  # Chinese for people
    return error.code


@pytest.fixture(scope="module")
def template_bytes(real_files: dict[str, Path]) -> bytes:
    return real_files["template"].read_bytes()


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert code_of(path) == "read-empty-file"
    assert code_of(b"") == "read-empty-file"


def test_missing_file_is_an_io_error(tmp_path: Path) -> None:
    assert code_of(tmp_path / "nowhere.xlsx") == "read-io-error"


def test_random_bytes() -> None:
    noise = random.Random(20240315).randbytes(4096)
    assert code_of(noise) == "read-not-a-zip"
    assert code_of(b"name,amount\n\xe9\xa1\xb9\xe7\x9b\xae,1\n") == "read-not-a-zip"


def test_truncated_zip(template_bytes: bytes) -> None:
    for keep in (len(template_bytes) // 2, len(template_bytes) - 10, 100):
        assert code_of(template_bytes[:keep]) == "read-truncated-zip"


def test_corrupt_part_fails_its_crc(template_bytes: bytes) -> None:
    archive = zipfile.ZipFile(io.BytesIO(template_bytes))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(template_bytes)
    damaged[start + info.compress_size // 2] ^= 0xFF
    assert code_of(bytes(damaged)) in ("read-corrupt-zip", "read-xml-malformed")


def test_missing_workbook_part() -> None:
    parts = hand_parts()
    del parts["xl/workbook.xml"]
    assert code_of(package(parts)) == "read-missing-part"
    parts = hand_parts()
    del parts["_rels/.rels"]
    del parts["xl/workbook.xml"]
    parts["xl/workbook.bin"] = b"\x00"
    with pytest.raises(WorkbookReadError, match="xlsb"):
        read_workbook(package(parts))


def test_missing_sheet_part_and_missing_relationship() -> None:
    parts = hand_parts()
    del parts["xl/worksheets/sheet2.xml"]
    assert code_of(package(parts)) == "read-missing-part"
    parts = hand_parts()
    parts["xl/_rels/workbook.xml.rels"] = WORKBOOK_RELS.replace('Id="rId2"', 'Id="rId9"')
    assert code_of(package(parts)) == "read-missing-part"
    parts = hand_parts()
    del parts["xl/_rels/workbook.xml.rels"]
    assert code_of(package(parts)) == "read-missing-part"


def _stream_bomb(path: Path, inflated: int, head: bytes = b"", filler: bytes = b"\x00") -> None:
    """A real package whose first sheet is ``head`` and then ``inflated`` bytes of ``filler``,
    written streaming so that the test never holds it in memory."""
    name = "xl/worksheets/sheet1.xml"
    parts = hand_parts()
    del parts[name]
    block = filler * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, content in parts.items():
            archive.writestr(part, content)
        with archive.open(name, "w", force_zip64=True) as stream:
            stream.write(head)
            for _ in range(inflated // len(block)):
                stream.write(block)


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 MB of zeros compressed to ~200 KB."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    _stream_bomb(path, 200 * (1 << 20))
    return path


@pytest.fixture(scope="module")
def xml_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 MB of well-formed XML (a sheet that is all blanks): parses until a limit stops it."""
    path = tmp_path_factory.mktemp("bomb") / "xml_bomb.xlsx"
    _stream_bomb(path, 200 * (1 << 20), f'<worksheet xmlns="{MAIN}">'.encode(), b" ")
    return path


def _refused_quickly(source: Path | bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        code = code_of(source, limits)
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 100 * (1 << 20)
    return code


def test_zip_bomb_is_refused_before_inflating(zip_bomb: Path) -> None:
    assert zip_bomb.stat().st_size < 1 << 20  # 200 MB of zeros in well under a megabyte
    assert _refused_quickly(zip_bomb) == "read-zip-bomb"
    # below the size limits, the ratio alone gives it away
    assert _refused_quickly(zip_bomb, Limits(max_part_inflated_bytes=1 << 30)) == "read-zip-bomb"


def _central_record(data: bytes, name: str) -> int:
    """Offset of ``name``'s central-directory record."""
    position = zipfile.ZipFile(io.BytesIO(data)).start_dir
    while data[position : position + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46 : position + 46 + name_length] == name.encode():
            return position
        position += 46 + name_length + extra_length + comment_length
    raise AssertionError(f"{name} not in the central directory")


def test_zip_bomb_whose_declared_size_lies(zip_bomb: Path) -> None:
    """The central directory claims the part inflates to 100 KB (ratio and size pass). zipfile
    never yields more than the declared size, so the CRC check then fails."""
    name = "xl/worksheets/sheet1.xml"
    data = bytearray(zip_bomb.read_bytes())
    record = _central_record(bytes(data), name)
    name_length, extra_length = struct.unpack_from("<HH", data, record + 28)
    position = record + 46 + name_length
    while position < record + 46 + name_length + extra_length:
        tag, size = struct.unpack_from("<HH", data, position)
        if tag == 0x0001:  # the ZIP64 extra field: uncompressed size comes first
            struct.pack_into("<Q", data, position + 4, 100 * 1024)
        position += 4 + size
    struct.pack_into("<I", data, record + 24, 100 * 1024)  # the 32-bit size field
    liar = bytes(data)
    assert zipfile.ZipFile(io.BytesIO(liar)).getinfo(name).file_size == 100 * 1024
    assert _refused_quickly(liar) in ("read-zip-bomb", "read-corrupt-zip")


def test_actual_inflated_bytes_are_counted(xml_bomb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Second line of defence: with the declared-size checks switched off, the running count
    of inflated bytes stops the bomb as soon as it passes a limit."""
    from xltools.xlsx import reader

    assert _refused_quickly(xml_bomb) == "read-zip-bomb"  # declared sizes, first line
    monkeypatch.setattr(reader._Reader, "check_declared", lambda self, infos: None)
    for limits in (
        Limits(max_part_inflated_bytes=8 << 20, max_ratio=1e9),
        Limits(max_total_inflated_bytes=8 << 20, max_ratio=1e9),
        Limits(ratio_min_bytes=8 << 20),
    ):
        assert _refused_quickly(xml_bomb, limits) == "read-zip-bomb"


def test_unsupported_compression_is_refused() -> None:
    assert code_of(package(hand_parts(), zipfile.ZIP_BZIP2)) == "read-corrupt-zip"


def test_too_many_parts_and_cells_and_bytes(template_bytes: bytes) -> None:
    assert code_of(template_bytes, Limits(max_parts=5)) == "read-too-large"
    assert code_of(template_bytes, Limits(max_cells_per_sheet=100)) == "read-too-large"
    assert code_of(template_bytes, Limits(max_file_bytes=1000)) == "read-too-large"
    assert code_of(template_bytes, Limits(max_sheets=2)) == "read-too-large"
    with pytest.raises(ValueError):
        Limits(max_parts=-1)


BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>"""


def test_billion_laughs_in_shared_strings() -> None:
    parts = hand_parts()
    parts["xl/sharedStrings.xml"] = BILLION_LAUGHS
    with pytest.raises(WorkbookReadError) as caught:
        read_workbook(package(parts))
    assert caught.value.code == "read-xml-unsafe"
    assert type(caught.value.__cause__).__module__.startswith("defusedxml")


def test_external_entity_in_a_sheet(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me", encoding="utf-8")
    parts = hand_parts()
    parts["xl/worksheets/sheet2.xml"] = (
        f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;'
        "</t></is></c></row></sheetData></worksheet>"
    )
    assert code_of(package(parts)) == "read-xml-unsafe"
    # a parameter entity, and a DTD hidden after a comment
    parts["xl/worksheets/sheet2.xml"] = (
        f'<!-- x --><!DOCTYPE w [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>'
        f'<worksheet xmlns="{MAIN}"/>'
    )
    assert code_of(package(parts)) == "read-xml-unsafe"


def test_utf16_part_with_a_dtd_is_still_refused() -> None:
    parts = hand_parts()
    parts["xl/styles.xml"] = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE s [<!ENTITY a "b">]>'
        f'<styleSheet xmlns="{MAIN}"/>'
    ).encode("utf-16")
    assert code_of(package(parts)) == "read-xml-unsafe"


def test_duplicate_or_empty_sheet_names_are_malformed() -> None:
    parts = hand_parts()
    parts["xl/workbook.xml"] = WORKBOOK.replace('name="It\'s"', 'name="表 1"')
    assert code_of(package(parts)) == "read-xml-malformed"
    parts["xl/workbook.xml"] = WORKBOOK.replace('name="It\'s"', 'name=""')
    assert code_of(package(parts)) == "read-xml-malformed"


def test_percent_encoded_relationship_targets() -> None:
    parts = hand_parts()
    parts["xl/worksheets/sheet 2.xml"] = parts.pop("xl/worksheets/sheet2.xml")
    parts["xl/_rels/workbook.xml.rels"] = WORKBOOK_RELS.replace(
        "/xl/worksheets/sheet2.xml", "/xl/worksheets/sheet%202.xml"
    )
    raw = read_workbook(package(parts))
    assert raw.sheets[1].cells["B2"].value == 3.0


def test_undefined_entity_and_broken_xml_are_malformed() -> None:
    parts = hand_parts()
    parts["xl/worksheets/sheet2.xml"] = f'<worksheet xmlns="{MAIN}"><sheetData>&nope;'
    assert code_of(package(parts)) == "read-xml-malformed"
    parts["xl/worksheets/sheet2.xml"] = SHEET2[: len(SHEET2) // 2]
    assert code_of(package(parts)) == "read-xml-malformed"


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="A1"><v>abc</v></c>',
        '<c r="A1"><v>nan</v></c>',
        '<c r="A1" t="s"><v>99</v></c>',
        '<c r="A1" t="s"><v>-1</v></c>',
        '<c r="A1" t="b"><v>2</v></c>',
        '<c r="A1" t="x"><v>1</v></c>',
        '<c r="A1" s="-1"/>',
        '<c r="1A"/>',
        '<c r="XFE1"/>',
        '<c r="A1048577"/>',
        '<c r="A1"/><c r="A1"/>',
        '<c r="A1"><f t="shared" si="7"/></c>',
    ],
)
def test_invalid_cells_are_malformed(cell: str) -> None:
    parts = hand_parts()
    parts["xl/worksheets/sheet2.xml"] = (
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{cell}</row></sheetData></worksheet>'
    )
    assert code_of(package(parts)) == "read-xml-malformed"


def _ole(*names: str) -> bytes:
    """An OLE2 compound file header followed by a directory sector naming ``names``."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = b"".join(
        (name.encode("utf-16-le") + b"\x00\x00").ljust(64, b"\x00") + b"\x00" * 64 for name in names
    )
    return header + directory.ljust(512, b"\x00")


def test_legacy_xls() -> None:
    assert code_of(_ole("Root Entry", "Workbook", "\x05SummaryInformation")) == "read-legacy-xls"


def test_password_protected_xlsx_is_an_ole_container() -> None:
    encrypted = _ole("Root Entry", "EncryptionInfo", "EncryptedPackage", "\x06DataSpaces")
    assert code_of(encrypted) == "read-encrypted"


def test_zip_encrypted_part() -> None:
    data = bytearray(package(hand_parts(), zipfile.ZIP_STORED))
    # set the "encrypted" flag on every entry, local and central
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.find(signature)
        while position >= 0:
            data[position + offset] |= 0x01
            position = data.find(signature, position + 4)
    assert code_of(bytes(data)) == "read-encrypted"


def test_duplicate_part_names_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in hand_parts().items():
            archive.writestr(name, content)
        with pytest.warns(UserWarning):
            archive.writestr("XL/workbook.xml".lower(), WORKBOOK)
    assert code_of(buffer.getvalue()) == "read-corrupt-zip"


def _mutations(data: bytes, seed: int, count: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    for _ in range(count):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            position = rng.randrange(len(mutated))
            mutated[position] = rng.randrange(256)
        yield bytes(mutated)


def _outcome(source: bytes) -> str:
    """ "ok" or the error code: any other exception escapes and fails the test."""
    try:
        read_workbook(source)
    except WorkbookReadError as error:
        return error.code
    return "ok"


def test_damaged_bytes_never_raise_anything_else(template_bytes: bytes) -> None:
    outcomes = Counter(_outcome(mutated) for mutated in _mutations(template_bytes, 1, 300))
    assert outcomes["read-corrupt-zip"] > 0 and set(outcomes) > {"read-corrupt-zip"}


def test_damaged_xml_never_raises_anything_else() -> None:
    rng = random.Random(2)
    names = [n for n in hand_parts() if n.startswith("xl/")]
    insertions = ["<", "&", '"', "</c>", "<c>", "\x00", "é", ' t="s"', ' s="99"', "<v>x</v>"]
    outcomes: Counter[str] = Counter()
    for _ in range(300):
        parts = hand_parts()
        name = rng.choice(names)
        text = parts[name]
        assert isinstance(text, str)
        position = rng.randrange(len(text))
        action = rng.randrange(3)
        if action == 0:
            text = text[:position]
        elif action == 1:
            text = text[:position] + rng.choice(insertions) + text[position:]
        else:
            text = text[:position] + text[position + rng.randint(1, 20) :]
        parts[name] = text
        outcomes[_outcome(package(parts))] += 1
    assert outcomes["read-xml-malformed"] > 0 and outcomes["ok"] > 0
