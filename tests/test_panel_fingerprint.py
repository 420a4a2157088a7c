"""A clean 自检 panel is known again by its fingerprint (xltools/check/panel.py), so a merge
reads each return's panel only once per template. Every distributed workbook has its own
protection password: its hash must not make every return's panel look new (it did, and a
merge of LibreOffice-saved returns read every panel twice), and what the hash guards — that the
panel is protected — must still be caught when it goes."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from check_fixtures import example_data, registry, spec

from xltools.check.run import check_file
from xltools.fill import fill_workbook
from xltools.generate import generate_template
from xltools.generate.metadata import PANEL_SHEET
from xltools.xlsx import reader
from xltools.xlsx.reader import read_workbook


def _return(tmp: Path, name: str) -> Path:
    template = tmp / f"{name}-template.xlsx"
    generate_template(spec(), template)  # a fresh random password, as for each bureau
    target = tmp / f"{name}.xlsx"
    assert fill_workbook(template, spec(), example_data(), target) == []
    return target


def _panel_part(path: Path) -> str:
    sheet = read_workbook(path).sheet(PANEL_SHEET)
    assert sheet is not None
    return sheet.part


def _full_panel_reads(path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """How often checking ``path`` read a workbook again for its panel alone."""
    calls = []
    real = reader.read_workbook

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("skip_sheets"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reader, "read_workbook", counting)
    report, _ = check_file(path, registry())
    monkeypatch.undo()
    assert not [f.code for f in report.findings if "panel" in f.code or "protection" in f.code]
    return sum(1 for skipped in calls if skipped and PANEL_SHEET not in skipped)


def test_a_return_with_its_own_password_is_known_by_the_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _return(tmp_path, "first"), _return(tmp_path, "second")
    part = _panel_part(first)
    hashes = [
        re.search(rb"<sheetProtection[^>]*>", zipfile.ZipFile(p).read(part))
        for p in (first, second)
    ]
    assert hashes[0] and hashes[1] and hashes[0].group() != hashes[1].group()
    _full_panel_reads(first, monkeypatch)  # read in full (or known already): now known clean
    assert _full_panel_reads(second, monkeypatch) == 0


def test_a_panel_unprotected_after_a_clean_one_is_still_caught(tmp_path: Path) -> None:
    first, second = _return(tmp_path, "first"), _return(tmp_path, "second")
    check_file(first, registry())  # its panel is now known clean
    part = _panel_part(second)
    unprotected = tmp_path / "unprotected.xlsx"
    with zipfile.ZipFile(second) as zin, zipfile.ZipFile(unprotected, "w") as zout:
        for item in zin.infolist():
            content = zin.read(item.filename)
            if item.filename == part:
                content, n = re.subn(rb"<sheetProtection[^>]*/>", b"", content)
                assert n == 1
            zout.writestr(item, content)
    report, _ = check_file(unprotected, registry())
    assert [f.sheet for f in report.findings if f.code == "tamper-protection-removed"] == [
        PANEL_SHEET
    ]
