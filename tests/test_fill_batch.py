"""`xltools fill TEMPLATE DATA -o FOLDER`: a CSV or a folder of data files, one workbook per
row or file, each as a single `fill` writes it; bad rows reported by row and column."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_fixtures import ROOT, example_data, spec
from click.testing import CliRunner

from xltools.check.run import check_file
from xltools.cli import main
from xltools.fill import fill_workbook, flatten
from xltools.generate import generate_template
from xltools.registry import Registry

SPECS = ROOT / "specs"


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "模板.xlsx"
    generate_template(spec(), path)
    return path


def _fill(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["fill", "--specs", str(SPECS), *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_a_csv_gives_one_workbook_per_row_as_single_fill_writes_it(
    template: Path, tmp_path: Path
) -> None:
    flat = flatten(example_data())
    keys = list(flat)
    rows = []
    for n in range(3):
        row = {**flat, "unit_name": f"测试单位{n}"}
        rows.append([f"单位{n}" if n != 2 else "", *[row[k] for k in keys]])
    rows.append(["坏行", *[{**flat, "funds_current_spent": "很多"}[k] for k in keys]])
    rows.append(["单位0", *[flat[k] for k in keys]])  # the same output name as row 2
    data = _write_csv(tmp_path / "数据.csv", ["file", *keys], rows)
    out = tmp_path / "已填写"
    code, output = _fill(str(template), str(data), "-o", str(out))
    assert code == 1, output  # a bad row makes the run fail, the others are still written
    named = f"测试单位2_{flat['project_name']}.xlsx"  # no file name given: the unit's
    assert sorted(p.name for p in out.iterdir()) == sorted(["单位0.xlsx", "单位1.xlsx", named])
    assert "第 5 行，funds_current_spent 列: [parse-not-a-number]" in output
    assert "第 6 行，file 列: [fill-duplicate-output]" in output
    assert "共 5 份数据：已填写 3 份" in output and "2 份有问题未生成" in output
    single = tmp_path / "single.xlsx"
    one = {**flat, "unit_name": "测试单位1"}
    assert fill_workbook(template, spec(), one, single) == []
    assert (out / "单位1.xlsx").read_bytes() == single.read_bytes()  # byte for byte
    report, _ = check_file(out / "单位1.xlsx", Registry.load(SPECS))
    assert report.valid and report.unit == "测试单位1"


def test_columns_may_be_labels_and_bad_headers_write_nothing(
    template: Path, tmp_path: Path
) -> None:
    the_spec = spec()
    unit_label = the_spec.fields["unit_name"].label
    data = _write_csv(
        tmp_path / "按标签.csv",
        ["文件名", unit_label, "phone"],
        [["甲", "测试单位甲", "13800000000"]],
    )
    code, output = _fill(str(template), str(data), "-o", str(tmp_path / "a"))
    assert code == 0, output
    assert (tmp_path / "a" / "甲.xlsx").exists()
    bad = _write_csv(tmp_path / "坏表头.csv", ["file", "unit_nmae"], [["乙", "测试单位乙"]])
    code, output = _fill(str(template), str(bad), "-o", str(tmp_path / "b"))
    assert code == 2 and "[fill-unknown-column]" in output and "unit_name" in output
    assert not (tmp_path / "b").exists() or not list((tmp_path / "b").iterdir())
    code, output = _fill(str(template), str(data), "-o", str(tmp_path / "x.xlsx"))
    assert code == 2 and "usage-output-not-dir" in output


def test_a_folder_of_yaml_files(template: Path, tmp_path: Path) -> None:
    folder = tmp_path / "数据"
    folder.mkdir()
    base = example_data()
    for name in ("甲县", "乙县"):
        text = yaml.safe_dump({**base, "unit_name": f"{name}测试单位"}, allow_unicode=True)
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    (folder / "丙县.yaml").write_text("unit_name: [未闭合", encoding="utf-8")
    (folder / "丁县.json").write_text('{"no_such_field": 1}', encoding="utf-8")
    (folder / "说明.txt").write_text("not data", encoding="utf-8")
    out = tmp_path / "已填写"
    code, output = _fill(str(template), str(folder), "-o", str(out))
    assert code == 1, output
    assert sorted(p.name for p in out.iterdir()) == ["乙县.xlsx", "甲县.xlsx"]
    assert "丙县.yaml，- 列: [fill-bad-data]" in output
    assert "丁县.json，no_such_field 列: [fill-unknown-field]" in output
    assert "共 4 份数据：已填写 2 份" in output


def test_a_single_data_file_still_fills_one_workbook(template: Path, tmp_path: Path) -> None:
    data = tmp_path / "一份.yaml"
    data.write_text(yaml.safe_dump(example_data(), allow_unicode=True), encoding="utf-8")
    code, output = _fill(str(template), str(data), "-o", str(tmp_path / "一份.xlsx"))
    assert code == 0 and "已填写" in output and (tmp_path / "一份.xlsx").is_file()


def test_problems_name_the_column_as_written_and_a_yaml_list_works(
    template: Path, tmp_path: Path
) -> None:
    the_spec = spec()
    unit_label, phone_label = (the_spec.fields[f].label for f in ("unit_name", "phone"))
    data = _write_csv(
        tmp_path / "标签.csv",
        ["文件名", unit_label, phone_label],
        [["甲", "测试单位甲", "13800000000"], ["乙", "测试单位乙", "测试604987"]],
    )
    code, output = _fill(str(template), str(data), "-o", str(tmp_path / "a"))
    assert code == 1, output
    assert f"第 3 行，{phone_label} 列: [value-bad-pattern]" in output, output
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["甲.xlsx"]
    listed = tmp_path / "列表.yaml"
    items = [{**example_data(), "unit_name": f"测试单位{n}"} for n in ("丙", "丁")]
    listed.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    code, output = _fill(str(template), str(listed), "-o", str(tmp_path / "b"))
    assert code == 0, output
    assert len(list((tmp_path / "b").glob("测试单位*.xlsx"))) == 2
