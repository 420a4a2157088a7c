"""``xltools status`` (issue 15, part 1): the roster against what came back. Four invented
bureaus: one sent a good return (saved by LibreOffice, as clerks' applications save it), one
a return with an error, one first a careless copy and then a corrected one, one nothing; and a
stranger's file arrives too. Every bureau and every file is accounted for."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from click.testing import CliRunner
from overflow import overflowing_cells

from xltools.cli import main
from xltools.fill import fill_workbook
from xltools.libreoffice import recalculate
from xltools.roster import distribute, read_roster, validate_roster
from xltools.spec import load_spec
from xltools.status import NOT_RETURNED, Bureau, RosterError, line_up, read_bureaus

ROOT = Path(__file__).resolve().parent.parent
SPEC = load_spec(ROOT / "specs" / "project_expense_2023.yaml")
EXAMPLE = yaml.safe_load((ROOT / "examples" / "project_expense_2023.yaml").read_text("utf-8"))
ROSTER_COLUMNS = ["bureau_id", "bureau_name", "project_name", "unit_name"]


def _roster(tmp: Path) -> Path:
    path = tmp / "名册.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(ROSTER_COLUMNS)
        for n, name in enumerate(
            ("青禾县医保局", "白石县医保局", "云溪区医保局", "松岭市医保局"), 1
        ):
            writer.writerow([f"T{n:03}", name, f"示例项目{n}", name])
    return path


def _fill(copy: Path, target: Path, careless: bool = False, **changes: Any) -> Path:
    data = {k: v for k, v in EXAMPLE.items() if k not in ROSTER_COLUMNS} | changes
    if careless:
        data.pop("phone")  # a required field left empty: an error
    assert fill_workbook(copy, SPEC, data, target) == []
    return target


@pytest.fixture(scope="module")
def returns(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("status")
    good, bad = validate_roster(SPEC, read_roster(_roster(tmp)))
    assert not bad
    manifest = distribute(SPEC, good, tmp / "分发")
    copies = {row["bureau_id"]: tmp / "分发" / row["file"] for row in _rows(manifest)}
    inbox = tmp / "返回"
    inbox.mkdir()
    staged = tmp / "staged"
    staged.mkdir()
    _fill(copies["T001"], staged / "T001.xlsx")
    (saved,) = recalculate([staged / "T001.xlsx"], tmp / "lo")  # as LibreOffice saves it
    (inbox / "青禾县.xlsx").write_bytes(saved.read_bytes())
    _fill(copies["T002"], inbox / "白石县.xlsx", careless=True)
    _fill(copies["T003"], inbox / "云溪区_初稿.xlsx", careless=True)
    _fill(copies["T003"], inbox / "云溪区_修改.xlsx")
    stranger = tmp / "stranger.xlsx"
    _fill(ROOT / "templates" / "project_expense_2023_v1.xlsx", stranger, unit_name="外县医保局")
    (inbox / "外县.xlsx").write_bytes(stranger.read_bytes())
    return manifest, inbox


def _rows(manifest: Path) -> list[dict[str, str]]:
    with manifest.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def test_every_bureau_and_every_file_accounted_for(
    returns: tuple[Path, Path], tmp_path: Path
) -> None:
    manifest, inbox = returns
    out = tmp_path / "进度.xlsx"
    result = CliRunner().invoke(
        main, ["status", str(manifest), str(inbox), "--json", "-o", str(out), "--workers", "1"]
    )
    assert result.exit_code == 1, result.output  # not everyone is done
    report = json.loads(result.output)
    statuses = {b["bureau_id"]: b for b in report["bureaus"]}
    assert {k: v["status"] for k, v in statuses.items()} == {
        "T001": "已采纳",
        "T002": "已交待修改",
        "T003": "已采纳",
        "T004": "未交",
    }
    assert "错误" in statuses["T002"]["reason"]
    assert Path(statuses["T003"]["latest_file"]).name == "云溪区_修改.xlsx"
    files = {Path(f["file"]).name: f["status"] for f in report["files"]}
    assert files == {
        "青禾县.xlsx": "已采纳",
        "白石县.xlsx": "已交待修改",
        "云溪区_初稿.xlsx": "被替代",
        "云溪区_修改.xlsx": "已采纳",
        "外县.xlsx": "名册外",
    }
    assert report["counts"] == {"accepted": 2, "to-correct": 1, "not-returned": 1}

    book = openpyxl.load_workbook(out)
    first = book.worksheets[0]
    head = " ".join(str(first.cell(r, 1).value or "") for r in range(1, 5))
    assert "填报进度" in head and "已采纳 2" in head and "未交 1" in head and "下一步" in head
    assert first.page_setup.paperSize == 9 and first.print_title_rows
    assert overflowing_cells(out) == []


def test_everyone_accepted_exits_0(returns: tuple[Path, Path], tmp_path: Path) -> None:
    manifest, inbox = returns
    only = tmp_path / "manifest.csv"
    rows = [r for r in _rows(manifest) if r["bureau_id"] in ("T001", "T003")]
    with only.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = CliRunner().invoke(main, ["status", str(only), str(inbox), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "名册 2 个单位：已采纳 2，已交待修改 0，未交 0" in result.output


def test_a_return_without_stamp_is_matched_by_unit_name() -> None:
    rows = [{"file": "a.xlsx", "status": "accepted", "bureau_id": "", "unit": "青禾 县医保局",
             "errors": 0, "template": "project_expense_2023"}]  # fmt: skip
    report = line_up([Bureau("T001", "青禾县医保局"), Bureau("T002", "白石县医保局")], rows, {})
    assert [b.status for b in report.bureaus] == ["已采纳", NOT_RETURNED]


@pytest.mark.parametrize(
    "content, code",
    [
        ("name\n甲\n", "status-roster-columns"),
        ("bureau_id,bureau_name\nT1,甲\nT1,乙\n", "status-roster-duplicate"),
        ("bureau_id\n\n,\n", "status-roster-id"),
    ],
)
def test_a_bad_roster_is_named_in_chinese(tmp_path: Path, content: str, code: str) -> None:
    path = tmp_path / "名册.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RosterError, match=code):
        read_bureaus(path)
    result = CliRunner().invoke(main, ["status", str(path), str(tmp_path)])
    assert result.exit_code == 2 and code in result.output and "Traceback" not in result.output
