"""校验结果 and the summary workbook read and print well (issue 17, part 2): a first screen with
title, date, the counts and the next step; Chinese names, not ids, wherever people read; A4
print setup with repeated headers and page numbers on every sheet; no text that overflows
its cell (tests/overflow.py, measured from the saved file).

The package XML says what Excel and WPS print; LibreOffice renders (PDF, then PNG pages by
``xltools render --png``) say what comes out: page 1 carries the status, and a sheet printed
on several pages repeats its header on each."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from check_fixtures import sheet_parts, xml_part
from click.testing import CliRunner
from overflow import overflowing_cells

from xltools.check.annotate import CHECK_SHEET, write_checked_copy
from xltools.check.report import Finding, Report, Severity
from xltools.cli import main
from xltools.demo import run_demo
from xltools.generate import generate_template
from xltools.registry import PACKAGE_SPECS
from xltools.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "project_expense_2023.yaml"
FORM = "项目支出绩效自评表"
TEMPLATE_IDS = sorted(p.stem for p in PACKAGE_SPECS.glob("*.yaml"))
LONG = (
    "以万元计的指标值超过本项目全年预算数：同一笔资金前后不一致，请核实指标值或资金数；"
    "如确有其他资金来源，请在“偏差原因分析及改进措施”中写明来源、金额和依据，"
    "并由项目负责人签字确认后重新提交。"
)


def _print_titles(path: Path) -> dict[int, str]:
    book = xml_part(path, "xl/workbook.xml")
    return {
        int(local): value
        for local, value in re.findall(
            r'<definedName name="_xlnm.Print_Titles" localSheetId="(\d+)">([^<]+)</definedName>',
            book,
        )
    }


def _assert_prints_on_a4_with_page_numbers(path: Path, sheet_part: str) -> None:
    xml = xml_part(path, sheet_part)
    assert re.search(r'<pageSetup [^>]*paperSize="9"', xml), sheet_part
    assert '<pageSetUpPr fitToPage="1"/>' in xml, sheet_part  # one page wide
    footer = re.search(r"<oddFooter>([^<]*)</oddFooter>", xml)
    assert footer is not None and "&amp;P" in footer.group(1) and "&amp;N" in footer.group(1)


# ---------------------------------------------------------------- the checked copy


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    """A checked copy with many findings, long messages, long labels and multi-line text:
    enough to fill more than one printed page."""
    work = tmp_path_factory.mktemp("checked")
    template = work / "template.xlsx"
    generate_template(load_spec(SPEC), template)
    report = Report(
        file="某某县水利局_农村饮水安全巩固提升工程_2023年度项目支出绩效自评表.xlsx",
        template="project_expense_2023",
        version=1,
        title="2023年度项目支出绩效自评表",
        bureau_name="某某县水利局",
        total=72.5,
        grade="中",
    )
    for n in range(60):
        severity: Severity = ("error", "warning", "info")[n % 3]
        report.add(
            Finding(
                severity,
                f"check-money_target_within_budget_{n}",
                LONG if n % 2 else f"第 {n} 项：合计与明细不符\n第二行说明\n第三行说明",
                sheet=FORM,
                cell=f"H{100 + n}",  # below the form: no merged range to warn of
                field=f"ind_output_quantity_{n}_target",
                label=f"绩效指标/产出指标/数量指标/{n}/年度指标值（以万元计的资金类指标）",
                expected="95%",
                found=f"单位：万元；年度指标值：{184.58 + n}；年度资金总额·全年预算数：124.01",
            )
        )
    target = work / "returned.checked.xlsx"
    write_checked_copy(template, target, report)
    return target, report


def test_checked_copy_first_screen_is_chinese_and_says_what_to_do(
    checked: tuple[Path, Report],
) -> None:
    target, report = checked
    ws = openpyxl.load_workbook(target)[CHECK_SHEET]
    screen = [str(ws.cell(r, c).value or "") for r in range(1, 12) for c in (1, 2)]
    text = "\n".join(screen)
    assert ws["A1"].value == "校验结果：2023年度项目支出绩效自评表"
    assert ws["A2"].value == "结论：不通过（错误 20 个，警告 20 个，提示 20 个）"
    assert str(ws["A3"].value).startswith("下一步：按下表逐项改正 20 个错误")
    assert re.search(r"检查时间\n\d{4}-\d\d-\d\d \d\d:\d\d", text)
    assert not any(template in text for template in TEMPLATE_IDS)  # a title, not an id
    # In the rows people read, a field is its label; codes and ids only in hidden columns.
    header = next(r for r in range(1, 30) if ws.cell(r, 1).value == "级别")
    visible = [
        c for c in "ABCDEFGHIJ" if c in ws.column_dimensions and not ws.column_dimensions[c].hidden
    ]
    for row in ws.iter_rows(min_row=header + 1, values_only=True):
        for letter, value in zip("ABCDEFGHIJ", row, strict=False):
            if letter in visible and isinstance(value, str):
                assert "ind_output" not in value and "check-" not in value
    assert len(list(ws.iter_rows(min_row=header + 1))) == len(report.findings)


def test_checked_copy_has_no_overflowing_cell(checked: tuple[Path, Report]) -> None:
    target, _ = checked
    assert overflowing_cells(target, [CHECK_SHEET]) == []


def test_checked_copy_prints_on_a4_with_repeated_header(checked: tuple[Path, Report]) -> None:
    target, _ = checked
    parts = sheet_parts(target)
    assert next(iter(parts)) == CHECK_SHEET
    _assert_prints_on_a4_with_page_numbers(target, parts[CHECK_SHEET])
    assert 'orientation="landscape"' in xml_part(target, parts[CHECK_SHEET])
    ws = openpyxl.load_workbook(target)[CHECK_SHEET]
    header = next(r for r in range(1, 30) if ws.cell(r, 1).value == "级别")
    assert _print_titles(target)[0] == f"'{CHECK_SHEET}'!${header}:${header}"


# ---------------------------------------------------------------- the summary workbook


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert run_demo(out, lambda _: None) == 0
    return out / "summary.xlsx"


def test_summary_opens_on_a_first_screen_with_the_status(demo: Path) -> None:
    book = openpyxl.load_workbook(demo)
    assert book.sheetnames[0] == "概况" and book.active is not None
    assert book.active.title == "概况"
    ws = book["概况"]
    column_a = [str(c.value or "") for c in ws["A"]]
    assert column_a[0] == "绩效自评表汇总"
    assert re.fullmatch(
        r"汇总时间：\d{4}-\d\d-\d\d \d\d:\d\d\u3000\u3000共收到 11 个文件", column_a[1]
    )
    assert column_a[2] == "结论：采纳 7 份；3 份未采纳，需要催报；1 份被同一单位的另一份替代"
    assert column_a[3].startswith("下一步：通知下表所列 3 份未采纳文件的单位")
    counts = {r[0]: r[1] for r in ws.iter_rows(min_row=6, max_row=12, values_only=True)}
    assert counts["收到的文件"] == 11 and counts["采纳"] == 7 and counts["未采纳"] == 3
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert "不是工作簿.xlsx" in texts  # the files to chase, by name
    # (the demo's file names hold template ids: 空白_department_overall.xlsx; a name is a name)
    words = [text for text in texts if not text.endswith(".xlsx")]
    assert not any(t in text for text in words for t in TEMPLATE_IDS)


def test_summary_sheets_people_read_show_titles_not_ids(demo: Path) -> None:
    book = openpyxl.load_workbook(demo)
    for name in ("汇总", "指标明细", "未采纳", "清单"):
        ws = book[name]
        header = [str(c.value) for c in ws[1]]
        col = header.index("模板") + 1
        shown = {ws.cell(r, col).value for r in range(2, ws.max_row + 1)} - {None}
        assert shown and not shown & set(TEMPLATE_IDS), (name, shown)
        for letter, dim in ws.column_dimensions.items():
            if header[(dim.min or 1) - 1] in ("模板编号", "代码", "字段编号", "SHA-256"):
                assert dim.hidden, (name, letter)
    findings = book["问题清单"]
    header = [str(c.value) for c in findings[1]]
    labels = [r[header.index("字段")] for r in findings.iter_rows(min_row=2, values_only=True)]
    assert "联系电话" in labels and not any(str(x).startswith("ind_") for x in labels if x)
    # The ids are looked up in 字段说明, beside the analyst outputs' column names.
    legend = [r for r in book["字段说明"].iter_rows(values_only=True)]
    assert legend[1][:3] == ("汇总", "模板编号", "summary.template")
    assert any(r[1] == "project_expense_2023" for r in legend)


def test_summary_has_no_overflowing_cell(demo: Path) -> None:
    assert overflowing_cells(demo) == []


def test_every_summary_sheet_prints_on_a4_with_page_numbers(demo: Path) -> None:
    parts = sheet_parts(demo)
    titles = _print_titles(demo)
    for index, (name, part) in enumerate(parts.items()):
        _assert_prints_on_a4_with_page_numbers(demo, part)
        if name != "概况":  # every table's header repeats on each printed page
            assert titles[index].replace("'", "") == f"{name}!$1:$1", name


# ---------------------------------------------------------------- rendered by LibreOffice


def _render(workbook: Path, out: Path) -> list[str]:
    """The PDF's pages as text, and PNG pages beside it (``xltools render --png``)."""
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.skip("pdftoppm/pdftotext not found (Debian: poppler-utils)")
    result = CliRunner().invoke(main, ["render", str(workbook), "-o", str(out), "--png"])
    assert result.exit_code == 0, result.output
    pdf = out / (workbook.stem + ".pdf")
    assert list(out.glob(f"{workbook.stem}-*.png"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")


def _pages_of(pages: list[str], sheet: str) -> list[str]:
    """The pages of one sheet: the footer names it (&A)."""
    return [p for p in pages if re.search(rf"\s{re.escape(sheet)}\s+第 \d+ 页", p)]


@pytest.mark.libreoffice
def test_rendered_checked_copy_shows_the_status_first_and_repeats_the_header(
    checked: tuple[Path, Report], tmp_path: Path
) -> None:
    target, _ = checked
    pages = _render(target, tmp_path)
    first = re.sub(r"\s+", "", pages[0])
    assert "校验结果：2023年度项目支出绩效自评表" in first
    assert "结论：不通过（错误20个，警告20个，提示20个）" in first
    assert "下一步：" in first
    report_pages = _pages_of(pages, CHECK_SHEET)
    assert len(report_pages) > 1 and report_pages[0] == pages[0]
    for page in report_pages[1:]:
        assert re.search(r"级别\s+工作表\s+单元格\s+字段\s+说明\s+应为\s+实为", page), page[:300]


@pytest.mark.libreoffice
def test_rendered_summary_shows_the_status_first_and_repeats_headers(
    demo: Path, tmp_path: Path
) -> None:
    pages = _render(demo, tmp_path)
    first = re.sub(r"\s+", "", pages[0])
    for text in (
        "绩效自评表汇总",
        "汇总时间：",
        "结论：采纳7份；3份未采纳",
        "下一步：",
        "不是工作簿.xlsx",
    ):
        assert text in first, text
    assert "概况" in pages[0]
    for sheet, heading in (("指标明细", "三级指标"), ("问题清单", "说明"), ("清单", "序号")):
        sheet_pages = _pages_of(pages, sheet)
        assert sheet_pages, sheet
        assert all(heading in page for page in sheet_pages), sheet
