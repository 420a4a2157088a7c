"""A workbook whose spec is not found says where specs were looked for and how to add a folder
(issue 13, part 2): "未知的模板" alone sent people looking for a broken file."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from xltools.cli import main
from xltools.generate.metadata import META_SHEET

ROOT = Path(__file__).resolve().parent.parent


def _unknown(tmp: Path) -> Path:
    book = openpyxl.load_workbook(ROOT / "templates" / "project_expense_2023_v1.xlsx")
    for row in book[META_SHEET].iter_rows():
        if row[0].value == "template":
            row[1].value = "county_special_fund"  # a form this office has no spec for
    target = tmp / "unknown.xlsx"
    book.save(target)
    return target


def test_check_and_describe_name_the_folders_and_the_ways_to_add_one(tmp_path: Path) -> None:
    workbook = _unknown(tmp_path)
    own = tmp_path / "我的规范"
    own.mkdir()
    runner = CliRunner()
    checked = runner.invoke(
        main, ["check", str(workbook), "--json", "--no-copy", "--specs", str(own)]
    )
    (finding,) = [f for f in json.loads(checked.output)["findings"]
                  if f["code"] == "unknown-template"]  # fmt: skip
    described = runner.invoke(main, ["describe", str(workbook), "--specs", str(own)])
    assert described.exit_code == 1
    for message in (finding["message"], described.output):
        assert str(own.resolve()) in message
        assert "--specs" in message and "XLTOOLS_SPECS" in message
