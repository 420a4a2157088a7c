"""Returns of templates sent out by an earlier release (the 自检 panel laid out as the list of
every check, layout 1) are not taken for tampered panels after the panel changed (layout 2,
status and open problems first): their panel is not compared cell by cell, the form is checked
as always. The layout is stamped into the metadata and the fingerprint, so a clerk cannot
claim an old layout to escape the panel's check."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from check_fixtures import example_data, filled, registry

from xltools.check.run import check_file
from xltools.generate.metadata import META_SHEET, PANEL_LAYOUT

LAYOUT_1 = Path(__file__).parent / "data" / "layout1_project_expense_2023.xlsx"


def _codes(path: Path) -> list[str]:
    report, _ = check_file(path, registry())
    return [f.code for f in report.findings]


def test_a_return_of_an_earlier_release_is_checked_without_accusation() -> None:
    book = openpyxl.load_workbook(LAYOUT_1)
    keys = [row[0].value for row in book[META_SHEET].iter_rows()]
    assert "panel" not in keys  # as the earlier release wrote it
    report, _ = check_file(LAYOUT_1, registry())
    codes = [f.code for f in report.findings]
    assert not [c for c in codes if c.startswith("tamper")], codes
    assert "panel-other-layout" in codes
    assert report.valid and report.total == 100


def _restamp(source: Path, target: Path, value: str | None) -> Path:
    book = openpyxl.load_workbook(source)
    meta = book[META_SHEET]
    for row in meta.iter_rows():
        if row[0].value == "panel":
            if value is None:
                row[0].value = row[1].value = None
            else:
                row[1].value = value
    book.save(target)
    return target


def test_claiming_the_old_layout_breaks_the_fingerprint(tmp_path: Path) -> None:
    data = example_data()
    data.pop("project_name")
    current = filled(tmp_path, data)
    assert "panel-other-layout" not in _codes(current)
    for name, value in (("removed", None), ("one", "1")):
        codes = _codes(_restamp(current, tmp_path / f"{name}.xlsx", value))
        assert "tamper-fingerprint" in codes, (name, codes)
    assert PANEL_LAYOUT == 2
