"""The 自检 panel as a person sees it (issue 17, part 1).

Every template, and the 2023 form filled with three open problems, as generated and as
LibreOffice recalculates and saves it:

* no text overflows its cell (``tests/overflow.py``: row heights and column widths against
  the text, formula cells by their results);
* the panel's first screen is the status and the open problems: they are the top rows, and
  those rows end within ``SCREEN_PT`` of the top;
* rendered by LibreOffice to PDF and PNG, the form's first page is not blank, and the panel,
  made the one printed sheet of a copy (it never prints in the real file, see
  test_printing.py), shows on its first page the status and each open problem's message.

The PNGs are left in pytest's tmp folder for a person to look at.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from check_fixtures import ROOT, example_data
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from overflow import overflowing_cells
from PIL import Image

from xltools.fill import fill_workbook
from xltools.generate.metadata import PANEL_SHEET
from xltools.generate.panel_layout import FIRST_ROW, MORE_ROW, OVERALL_CELL, TOP_FIRST, TOP_SLOTS
from xltools.libreoffice import recalculate, render_pdfs
from xltools.spec import Spec, load_spec

pytestmark = pytest.mark.libreoffice

TEMPLATES = sorted((ROOT / "templates").glob("*.xlsx"))
TEMPLATE_2023 = ROOT / "templates" / "project_expense_2023_v1.xlsx"
SCREEN_PT = 600.0  # a laptop's window of Excel or WPS, ribbon and tabs taken off
# three open problems, as the issue found them on the 2023 form
CARELESS = {"ind_output_quantity_1_actual": "全覆盖", "funds_current_spent": 130}


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name -> workbook: every template, the careless fill, and both as LibreOffice saves
    them after recalculating."""
    folder = tmp_path_factory.mktemp("visual")
    data = example_data()
    data.update(CARELESS)
    data.pop("phone")
    careless = folder / "careless.xlsx"
    assert fill_workbook(TEMPLATE_2023, _spec_2023(), data, careless) == []
    originals = {p.stem: p for p in TEMPLATES} | {"careless": careless}
    saved = recalculate(list(originals.values()), folder / "recalculated")
    return originals | {f"{name}@libreoffice": p for name, p in zip(originals, saved, strict=True)}


def _spec_2023() -> Spec:
    return load_spec(ROOT / "specs" / "project_expense_2023.yaml")


def test_no_text_overflows_its_cell(books: dict[str, Path]) -> None:
    """Templates whole; the filled copy's panel. What a clerk types into a form cell may well
    outgrow its row (``fill`` does not resize rows): that is the form's business, not the
    panel's, and left to its own part of issue 17."""
    found = {
        name: [str(o) for o in overflowing_cells(path, filled_sheets(name))]
        for name, path in books.items()
    }
    assert {name: o for name, o in found.items() if o} == {}


def filled_sheets(name: str) -> list[str] | None:
    return [PANEL_SHEET] if name.startswith("careless") else None


def _panel_rows(path: Path) -> tuple[Worksheet, list[float]]:
    sheet = openpyxl.load_workbook(path, data_only=True)[PANEL_SHEET]
    heights = [float(sheet.row_dimensions[r].height or 15.0) for r in range(1, sheet.max_row + 1)]
    return sheet, heights


def test_status_and_open_problems_are_the_first_screen(books: dict[str, Path]) -> None:
    for name, path in books.items():
        sheet, heights = _panel_rows(path)
        status = str(sheet.cell(OVERALL_CELL[0] + 1, OVERALL_CELL[1] + 1).value)
        assert status.startswith(("可以提交", "还有")), (name, status)
        top = sum(heights[: MORE_ROW + 1])  # the title to the "另有 … 项" line
        assert top <= SCREEN_PT, (name, top)
        assert FIRST_ROW > MORE_ROW  # the full list only below
        # the slots hold the open problems, from the first slot on
        listed = [sheet.cell(TOP_FIRST + s + 1, 3).value for s in range(TOP_SLOTS)]
        opened = int(sheet["H3"].value)
        shown = min(opened, TOP_SLOTS)
        assert all(listed[:shown]) and not any(listed[shown:]), (name, opened, listed)
        if name.startswith("careless"):
            labels = [sheet.cell(TOP_FIRST + s + 1, 2).value for s in range(shown)]
            assert status == "还有 3 个问题", (name, status)
            assert labels == ["错误"] * 3 + ["提醒"] * (shown - 3), (name, labels)


def _panel_alone(path: Path, out: Path) -> Path:
    """A copy whose one printed sheet is the panel, from the top to the end of the list."""
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        if sheet.title != PANEL_SHEET and sheet.sheet_state == "visible":
            # LibreOffice's PDF export prints hidden sheets too; an empty print area it skips
            sheet.sheet_state = "hidden"
            sheet.print_area = f"A{sheet.max_row + 2}"
            sheet.sheet_view.tabSelected = False
    panel = book[PANEL_SHEET]
    book.active = book.worksheets.index(panel)
    panel.sheet_view.tabSelected = True
    panel.print_area = f"A1:E{panel.max_row}"
    panel.page_setup.paperSize = panel.PAPERSIZE_A4
    panel.page_setup.fitToWidth, panel.page_setup.fitToHeight = 1, 0
    panel.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")


def _first_png(pdf: Path) -> Path:
    stem = pdf.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(stem)], check=True
    )
    (png,) = sorted(pdf.parent.glob(f"{stem.name}-*1.png"))
    return png


def _ink(png: Path) -> float:
    """The share of the page that is not white."""
    image = Image.open(png).convert("L")
    dark = sum(image.histogram()[:200])
    return dark / (image.width * image.height)


@pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) not installed",
)
def test_rendered_pages_show_the_form_and_the_panel_status(
    books: dict[str, Path], tmp_path: Path
) -> None:
    names = [n for n in books if "@" not in n]
    forms = render_pdfs([books[n] for n in names], tmp_path / "forms")
    alone = [_panel_alone(books[n], tmp_path / "alone" / f"{n}.xlsx") for n in names]
    panels = render_pdfs(alone, tmp_path / "panels")
    careless = dict(zip(names, panels, strict=True))["careless"]
    for name, form, panel in zip(names, forms, panels, strict=True):
        assert _ink(_first_png(form)) > 0.01, name  # the form's first page is drawn
        first = _pages(panel)[0].replace(" ", "")
        assert "填报自检" in first and ("可以提交" in first or "还有" in first), (name, first[:300])
        assert _ink(_first_png(panel)) > 0.01, name
    first = _pages(careless)[0].replace(" ", "")
    assert "还有3个问题" in first
    sheet = openpyxl.load_workbook(books["careless@libreoffice"], data_only=True)[PANEL_SHEET]
    for slot in range(3):
        message = str(sheet.cell(TOP_FIRST + slot + 1, 3).value)
        # the message's start: a wrapped line may break anywhere after it
        assert message.replace(" ", "")[:12] in first, (message, first[:600])
