"""Printing (issue 18, part 3): the form sheet opens first and is the print area; the 自检
panel never prints; required cells are marked quietly until filled (red only for real
problems); a blank form shows no grade; percents display as percents everywhere.

The package XML says what Excel and WPS do (they print the active sheet); LibreOffice renders
say what it prints (all sheets, empty pages skipped), down to the colour of the pixels."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from check_fixtures import ROOT, example_data, sheet_parts, xml_part
from conftest import _require_soffice

from xltools.fill import fill_workbook, flatten
from xltools.generate import generate_template
from xltools.generate.marks import HIDDEN_FORMAT, PERCENT_FORMAT, percent_rows
from xltools.generate.metadata import META_SHEET, PANEL_SHEET
from xltools.generate.panel import ERROR_FILL
from xltools.merge import Outputs, merge
from xltools.spec import Spec, load_spec

SPEC_2023 = ROOT / "specs" / "project_expense_2023.yaml"
TEMPLATES = sorted((ROOT / "templates").glob("*.xlsx"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.stem)
def test_the_form_is_first_active_and_the_print_area(template: Path) -> None:
    book = xml_part(template, "xl/workbook.xml")
    names = re.findall(r'<sheet name="([^"]+)"', book)
    assert names[0] not in (PANEL_SHEET, META_SHEET), names
    assert PANEL_SHEET in names and names.index(PANEL_SHEET) > 0
    # activeTab absent = 0: the first sheet, the form, opens and is what Ctrl+P prints
    active = re.search(r'activeTab="(\d+)"', book)
    assert active is None or active.group(1) == "0"
    assert re.search(rf'<sheet name="{META_SHEET}"[^>]*state="veryHidden"', book)
    parts = sheet_parts(template)
    selected = [n for n, part in parts.items() if 'tabSelected="1"' in xml_part(template, part)]
    assert selected == [names[0]]  # the panel is never printed along with it
    areas = dict(
        re.findall(r'<definedName name="_xlnm.Print_Area" localSheetId="(\d+)">([^<]+)<', book)
    )
    form_area = areas["0"]
    assert form_area.startswith(f"'{names[0]}'!$A$1:") or form_area.startswith(f"{names[0]}!$A$1:")
    panel_area = areas[str(names.index(PANEL_SHEET))]
    assert panel_area.endswith("!$G$1"), panel_area  # one empty cell: nothing to print


def _dxfs(path: Path) -> list[str]:
    styles = xml_part(path, "xl/styles.xml")
    block = re.search(r"<dxfs[^>]*>(.*)</dxfs>", styles, re.S)
    assert block is not None
    return re.findall(r"<dxf>(.*?)</dxf>", block.group(1), re.S)


def _rules(path: Path, sheet: str) -> list[tuple[int, str, str]]:
    """(dxfId, first formula, sqref) of every conditional format rule of ``sheet``."""
    xml = xml_part(path, sheet_parts(path)[sheet])
    found = []
    for sqref, body in re.findall(
        r'<conditionalFormatting sqref="([^"]+)">(.*?)</conditionalFormatting>', xml, re.S
    ):
        for dxf, formula in re.findall(
            r'dxfId="(\d+)"[^>]*>\s*<formula>(.*?)</formula>', body, re.S
        ):
            found.append((int(dxf), formula, sqref))
    return found


def test_required_marks_are_quiet_and_real_problems_wait_for_input() -> None:
    template = ROOT / "templates" / "project_expense_2023_v1.xlsx"
    spec = load_spec(SPEC_2023)
    dxfs = _dxfs(template)
    rules = _rules(template, spec.sheets[0].name)
    required = [
        r for r in rules if "LEN(project_name)&gt;0" in r[1] or "LEN(project_name)>0" in r[1]
    ]
    assert required, "the required mark of 项目名称"
    look = dxfs[required[0][0]]
    assert "<fill>" not in look and "<border>" in look and "dashed" in look
    red = [r for r in rules if ERROR_FILL.lstrip("#") in dxfs[r[0]]]
    assert red and all(
        "COUNTA(" in formula for _, formula, _ in red if "value-required" not in formula
    )
    weight = next(r for r in red if "ind_output_weight" in r[1])
    assert "COUNTA(" in weight[1] and "ind_output_quantity_1_weight" in weight[1]


def test_grade_and_total_blank_until_filled_and_percents_as_percents() -> None:
    template = ROOT / "templates" / "project_expense_2023_v1.xlsx"
    spec = load_spec(SPEC_2023)
    dxfs = _dxfs(template)
    rules = _rules(template, spec.sheets[0].name)
    workbook = openpyxl.load_workbook(template)
    grade_cell = next(iter(workbook.defined_names["grade"].destinations))[1].replace("$", "")
    hidden = [r for r in rules if r[2] == grade_cell and HIDDEN_FORMAT in dxfs[r[0]]]
    assert hidden and hidden[0][1].startswith("NOT(")
    target_ref = next(iter(workbook.defined_names["ind_output_quality_1_target"].destinations))[1]
    shown = [r for r in rules if r[2] == target_ref.replace("$", "")]
    assert any(PERCENT_FORMAT in dxfs[d] and formula == 'ind_output_quality_1_unit="%"'
               for d, formula, _ in shown)  # fmt: skip
    assert len(percent_rows(spec)) >= 10


# ---- what LibreOffice prints ----------------------------------------------------------------


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def _red_pixels(pdf: Path, out: Path) -> int:
    """Pixels of the form's error fill on every page, rendered at 40 dpi."""
    subprocess.run(["pdftoppm", "-r", "40", str(pdf), str(out / "page")], check=True)
    target = tuple(int(ERROR_FILL[i : i + 2], 16) for i in (1, 3, 5))
    count = 0
    for page in sorted(out.glob("page*.ppm")):
        data = page.read_bytes()
        header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
        assert header is not None
        pixels = data[header.end() :]
        for i in range(0, len(pixels) - 2, 3):
            if all(abs(pixels[i + k] - target[k]) <= 6 for k in range(3)):
                count += 1
    return count


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    _require_soffice()
    if not (shutil.which("pdftotext") and shutil.which("pdftoppm")):
        pytest.skip("pdftotext/pdftoppm (poppler-utils) not installed")
    from xltools.libreoffice import recalculate, render_pdf

    folder = tmp_path_factory.mktemp("printing")
    spec: Spec = load_spec(SPEC_2023)
    blank = folder / "blank.xlsx"
    generate_template(spec, blank)
    data = flatten(example_data())
    careless = dict(data, ind_output_quantity_1_actual="全覆盖", funds_current_spent=130)
    careless.pop("phone")
    filled, bad = folder / "filled.xlsx", folder / "careless.xlsx"
    assert fill_workbook(blank, spec, data, filled) == []
    assert fill_workbook(blank, spec, careless, bad) == []
    recalculated = recalculate([filled, bad], folder / "recalculated")
    pdfs = {}
    for key, path in (("blank", blank), ("filled", recalculated[0]), ("careless", recalculated[1])):
        pdfs[key] = render_pdf(path, folder / key)
    return pdfs


@pytest.mark.libreoffice
def test_libreoffice_prints_the_form_alone(rendered: dict[str, Path]) -> None:
    for key, pdf in rendered.items():
        pages = _pages(pdf)
        assert "项目支出绩效自评表" in pages[0].replace(" ", ""), key
        whole = "".join(pages)
        assert "填报自检" not in whole and "检查内容" not in whole, key  # the panel never prints


@pytest.mark.libreoffice
def test_a_blank_form_prints_without_red_or_a_grade(
    rendered: dict[str, Path], tmp_path: Path
) -> None:
    whole = "".join(_pages(rendered["blank"]))
    assert "不合格" not in whole
    (tmp_path / "blank").mkdir()
    assert _red_pixels(rendered["blank"], tmp_path / "blank") == 0
    (tmp_path / "careless").mkdir()
    assert _red_pixels(rendered["careless"], tmp_path / "careless") > 0  # real problems stay red


@pytest.mark.libreoffice
def test_a_filled_form_prints_percents_and_its_grade(rendered: dict[str, Path]) -> None:
    whole = "".join(_pages(rendered["filled"]))
    assert "95.00%" in whole and "96.00%" in whole  # 质量指标 target and actual, unit %
    assert "优秀" in whole
    assert not re.search(r"(?<![\d.])0\.95(?![\d%])", whole)


# ---- the summary workbook -------------------------------------------------------------------


def test_summary_shows_percent_targets_as_percents(tmp_path: Path) -> None:
    spec = load_spec(SPEC_2023)
    template = tmp_path / "t.xlsx"
    generate_template(spec, template)
    filled = tmp_path / "in" / "a.xlsx"
    filled.parent.mkdir()
    assert fill_workbook(template, spec, flatten(example_data()), filled) == []
    summary = tmp_path / "summary.xlsx"
    with merge([filled], specs_dir=ROOT / "specs", outputs=Outputs(xlsx=summary), workers=1):
        pass
    sheet = openpyxl.load_workbook(summary)["指标明细"]
    headers = [c.value for c in sheet[1]]
    unit_col = headers.index("计量单位") + 1
    target_col = headers.index("年度指标值") + 1
    letter = openpyxl.utils.get_column_letter
    rules = [
        (
            str(r.sqref),
            rule.formula[0],
            rule.dxf.numFmt.formatCode if rule.dxf and rule.dxf.numFmt else "",
        )
        for r in sheet.conditional_formatting
        for rule in r.rules
    ]
    unit_ref = f'${letter(unit_col)}2="%"'
    assert any(
        sqref.startswith(f"{letter(target_col)}2:") and formula == unit_ref and code == "0.00%"
        for sqref, formula, code in rules
    ), rules
    percent_rows_ = [
        row for row in sheet.iter_rows(min_row=2, values_only=True) if row[unit_col - 1] == "%"
    ]
    assert percent_rows_ and percent_rows_[0][target_col - 1] == pytest.approx(0.95)
