"""Per-bureau distribution, describe and fill: what a finance bureau and an integrator use."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from spec_strategies import inputs_for

from xltools.cli import main, template_file_name
from xltools.fill import fill_workbook
from xltools.generate.metadata import PANEL_LAYOUT, fingerprint
from xltools.spec import load_spec
from xltools.workbook import cell_python_value, describe_workbook, open_workbook

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
SPEC_2023 = ROOT / "specs" / "project_expense_2023.yaml"
HEADER = [
    "bureau_id",
    "bureau_name",
    "unit_name",
    "funds_current_budget",
    "ind_output_quantity_1_name",
    "ind_output_quantity_1_op",
    "ind_output_quantity_1_target",
    "ind_output_quantity_1_weight",
]


def _roster(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _good_row(n: int) -> list[Any]:
    return [
        f"B{n:04d}",
        f"第{n}县医疗保障局",
        f"第{n}县医疗保障局",
        f"{100 + n}.5",
        "参保率",
        "≥",
        "95%",
        "10",
    ]


def test_roster_of_300_with_3_bad_rows(tmp_path: Path) -> None:
    rows = [_good_row(n) for n in range(1, 301)]
    rows[9][0] = ""  # spreadsheet row 11: missing id
    rows[49][0] = "B0001"  # row 51: duplicate of row 2
    rows[199][3] = "很多"  # row 201: not a number
    roster = _roster(tmp_path / "roster.csv", rows)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["generate", str(SPEC_2023), "--roster", str(roster), "-o", str(out)]
    )
    assert result.exit_code == 1, result.output
    reported = [line for line in result.output.splitlines() if "第 " in line and " 行" in line]
    assert len(reported) == 3, reported
    assert "第 11 行，bureau_id 列: [roster-missing-id]" in result.output
    assert (
        "第 51 行，bureau_id 列: [roster-duplicate-id]" in result.output
        and "第 2 行重复" in result.output
    )
    assert "第 201 行，funds_current_budget 列" in result.output
    with (out / "manifest.csv").open(encoding="utf-8-sig") as stream:
        manifest = list(csv.DictReader(stream))
    assert len(manifest) == 297
    assert len(list(out.glob("*.xlsx"))) == 297
    assert "B0200" not in {m["bureau_id"] for m in manifest}  # nothing written for a bad row


def test_distributed_workbook_is_stamped_prefilled_and_locked(tmp_path: Path) -> None:
    roster = _roster(tmp_path / "roster.csv", [_good_row(1), _good_row(2)])
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["generate", str(SPEC_2023), "--roster", str(roster), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    with (out / "manifest.csv").open(encoding="utf-8-sig") as stream:
        entry = next(csv.DictReader(stream))
    workbook = open_workbook(out / entry["file"])
    info = describe_workbook(workbook)
    spec = load_spec(SPEC_2023)
    assert info.meta["bureau_id"] == "B0001" and info.meta["bureau_name"] == "第1县医疗保障局"
    prefill = {
        "unit_name": "第1县医疗保障局",
        "funds_current_budget": 101.5,
        "ind_output_quantity_1_name": "参保率",
        "ind_output_quantity_1_op": "≥",
        "ind_output_quantity_1_target": 0.95,
        "ind_output_quantity_1_weight": 10.0,
    }
    assert (
        info.meta["fingerprint"]
        == entry["fingerprint"]
        == fingerprint(
            spec.template, spec.version, spec.sha256, "B0001", prefill, panel=PANEL_LAYOUT
        )
    )
    for field_id, value in prefill.items():
        ref = info.names[field_id]
        cell = workbook[ref.sheet][ref.coordinate]
        assert cell.value == value and cell.protection.locked, field_id
    free = info.names["project_name"]
    assert workbook[free.sheet][free.coordinate].protection.locked is False
    # A pre-filled cell cannot be overwritten by fill either.
    refusals = fill_workbook(
        out / entry["file"], spec, {"unit_name": "别的单位"}, tmp_path / "x.xlsx"
    )
    assert [r.code for r in refusals] == ["fill-locked-field"]


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_describe_json_lists_every_field_where_it_is(spec_path: Path, tmp_path: Path) -> None:
    spec = load_spec(spec_path)
    template = tmp_path / template_file_name(spec)
    assert (
        CliRunner().invoke(main, ["generate", str(spec_path), "-o", str(template)]).exit_code == 0
    )
    result = CliRunner().invoke(
        main, ["describe", str(template), "--json", "--specs", str(ROOT / "specs")]
    )
    assert result.exit_code == 0, result.output
    described = json.loads(result.output)
    assert (described["template"], described["version"]) == (spec.template, spec.version)
    by_id = {f["id"]: f for f in described["fields"]}
    assert set(by_id) == set(spec.fields)
    for field in spec.fields.values():
        entry = by_id[field.id]
        assert entry["cell"], field.id
        if not field.is_range:
            assert entry["locked"] is (not field.input), field.id


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # shrinking a whole form takes minutes
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_fill_then_read_back_returns_the_same_data(
    spec_path: Path, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    spec = load_spec(spec_path)
    work = tmp_path_factory.mktemp("fill")
    template = work / "t.xlsx"
    assert (
        CliRunner().invoke(main, ["generate", str(spec_path), "-o", str(template)]).exit_code == 0
    )
    inputs = data.draw(inputs_for(spec))
    source = work / "data.yaml"
    source.write_text(yaml.safe_dump(inputs, allow_unicode=True), encoding="utf-8")
    filled = work / "filled.xlsx"
    result = CliRunner().invoke(
        main,
        ["fill", str(template), str(source), "-o", str(filled), "--specs", str(ROOT / "specs")],
    )
    assert result.exit_code == 0, result.output
    workbook = open_workbook(filled)
    names = describe_workbook(workbook).names
    for field in spec.inputs():
        ref = names[field.id]
        found = cell_python_value(workbook[ref.sheet][ref.coordinate].value)
        assert found == inputs.get(field.id), field.id


def test_fill_refuses_what_validation_would(tmp_path: Path) -> None:
    template = tmp_path / "t.xlsx"
    assert (
        CliRunner().invoke(main, ["generate", str(SPEC_2023), "-o", str(template)]).exit_code == 0
    )
    data = tmp_path / "bad.yaml"
    data.write_text(
        "funds_current_budget: -5\nind_output_quantity_1_op: 大于\nphone: '12345'\nfunds_total_budget: 9\nprojct_name: x\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(main, ["fill", str(template), str(data), "-o", str(out)])
    assert result.exit_code == 1
    for code in (
        "value-out-of-range",
        "value-not-a-choice",
        "value-bad-pattern",
        "fill-locked-field",
        "fill-unknown-field",
    ):
        assert f"[{code}]" in result.output, code
    assert "project_name" in result.output  # did you mean
    assert not out.exists()


def test_describe_of_a_foreign_workbook_is_a_clear_error(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "foreign.xlsx"
    openpyxl.Workbook().save(path)
    result = CliRunner().invoke(main, ["describe", str(path)])
    assert result.exit_code == 1
    assert "[not-a-template]" in result.output
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip at all")
    result = CliRunner().invoke(main, ["describe", str(junk)])
    assert result.exit_code == 1 and "[unreadable-workbook]" in result.output
    assert "Traceback" not in result.output
