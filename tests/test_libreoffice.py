"""LibreOffice really recalculates the formulas we write (it must not echo cached values)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from xltools.libreoffice import recalculate


def _write_workbook(path: Path) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Data")
    sheet.write_number("A1", 2)
    sheet.write_number("A2", 3)
    # Deliberately WRONG cached values: only a real recalculation yields the right ones.
    sheet.write_formula("A3", "=A1*A2", None, 999)
    sheet.write_formula("A4", '="x"&A1&"-"&UPPER("ok")', None, "stale")
    sheet.write_formula("A5", "=1/0", None, 0)
    workbook.close()


@pytest.mark.libreoffice
def test_recalculate_replaces_stale_cached_values(tmp_path: Path) -> None:
    src_dir = tmp_path / "in"
    src_dir.mkdir()
    src = src_dir / "book.xlsx"
    _write_workbook(src)
    original = src.read_bytes()

    [out] = recalculate([src], tmp_path / "out")

    assert out == (tmp_path / "out" / "book.xlsx").resolve()
    assert src.read_bytes() == original, "the input workbook must not be modified"
    assert sorted(p.name for p in src_dir.iterdir()) == ["book.xlsx"], "no lock/temp files"

    sheet = openpyxl.load_workbook(out, data_only=True)["Data"]
    assert sheet["A3"].value == 6
    assert sheet["A4"].value == "x2-OK"
    assert sheet["A5"].value == "#DIV/0!"


def test_recalculate_refuses_to_write_next_to_input(tmp_path: Path) -> None:
    src = tmp_path / "book.xlsx"
    _write_workbook(src)
    original = src.read_bytes()
    with pytest.raises(ValueError, match="overwrite the input"):
        recalculate([src], tmp_path)
    assert src.read_bytes() == original


def test_recalculate_rejects_colliding_output_names(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        _write_workbook(tmp_path / sub / "book.xlsx")
    with pytest.raises(ValueError, match="both be written"):
        recalculate([tmp_path / "a" / "book.xlsx", tmp_path / "b" / "book.xlsx"], tmp_path / "out")
