"""The fast roster path writes exactly what a workbook generated on its own would.

Generation works out once per spec what every bureau's copy shares (generate/plan.py),
remembers check statuses by the values they read (panel.StatusCache) and XlsxWriter's formula
preparation by text (generate/book.py). None of that may change a byte a bureau receives.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_strategies import inputs_for
from xlsxwriter.worksheet import Worksheet

from xltools.engine import recompute
from xltools.expr import parse
from xltools.generate import generate_template
from xltools.generate.book import ProtectedWorkbook
from xltools.generate.marks import blank_until_typed, percent_rows
from xltools.generate.metadata import PANEL_SHEET
from xltools.generate.panel import FIRST_ROW, MARKED, StatusCache, check_status
from xltools.generate.panel_layout import TOP_FIRST, TOP_SLOTS
from xltools.generate.plan import Plan, build_plan
from xltools.roster import RosterRow, distribute, file_name, validate_roster
from xltools.spec import Spec, load_spec
from xltools.spec.model import Check

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
SPEC_2023 = ROOT / "specs" / "project_expense_2023.yaml"
ISSUED = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def fixed_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one random part of a workbook, fixed so two generations can be compared bytewise."""
    monkeypatch.setattr("xltools.generate.writer.secrets.token_urlsafe", lambda n: "x" * n)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}


def _bureau(n: int) -> dict[str, Any]:
    return {
        "bureau_id": f"B{n:03d}",
        "bureau_name": f"第{n}县医疗保障局",
        "unit_name": f"第{n}县医疗保障局",
        "funds_current_budget": f"{100 + 7 * n}.5",
        "ind_output_quantity_1_name": f"指标{n}",
        "ind_output_quantity_1_target": str(50 + n),
        "ind_output_quantity_1_weight": "10",
    }


def test_a_roster_copy_is_byte_identical_to_the_same_copy_written_alone(
    tmp_path: Path, fixed_password: None
) -> None:
    spec = load_spec(SPEC_2023)
    good, problems = validate_roster(spec, [RosterRow(n + 2, _bureau(n)) for n in range(3)])
    assert not problems
    distribute(spec, good, tmp_path / "roster")
    for row in good:  # each copy, after the others warmed every cache, as if written first
        values = dict(row.values)
        bureau, name = values.pop("bureau_id"), values.pop("bureau_name")
        alone = tmp_path / f"alone-{bureau}.xlsx"
        generate_template(
            load_spec(SPEC_2023),
            alone,
            prefill=values,
            bureau_id=bureau,
            bureau_name=name,
            issued_at=dt.datetime.fromisoformat(
                _manifest_issued(tmp_path / "roster" / "manifest.csv")
            ),
        )
        assert _parts(tmp_path / "roster" / file_name(bureau, spec)) == _parts(alone), bureau


def _manifest_issued(manifest: Path) -> str:
    with manifest.open(encoding="utf-8-sig") as stream:
        return next(csv.DictReader(stream))["issued_at"]


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_remembered_formula_preparation_writes_what_xlsxwriter_writes(
    spec_path: Path, tmp_path: Path, fixed_password: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = load_spec(spec_path)
    generate_template(spec, tmp_path / "first.xlsx", issued_at=ISSUED)
    generate_template(spec, tmp_path / "cached.xlsx", issued_at=ISSUED)  # every formula a hit
    monkeypatch.setattr(ProtectedWorkbook, "worksheet_class", Worksheet)
    generate_template(spec, tmp_path / "plain.xlsx", issued_at=ISSUED)
    plain = _parts(tmp_path / "plain.xlsx")
    assert _parts(tmp_path / "first.xlsx") == plain
    assert _parts(tmp_path / "cached.xlsx") == plain


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_remembered_statuses_are_the_evaluated_ones(spec_path: Path, data: st.DataObject) -> None:
    spec = _spec(spec_path)
    cache = _plan(spec_path).panel.statuses  # shared by every example: warm, as in a roster
    values = recompute(spec, data.draw(inputs_for(spec), label="inputs"))
    assert cache(values) == [check_status(c, values) for c in spec.checks]


@functools.cache
def _spec(path: Path) -> Spec:
    return load_spec(path)


@functools.cache
def _plan(path: Path) -> Plan:
    return build_plan(_spec(path))


def test_statuses_tell_equal_but_different_values_apart() -> None:
    """TRUE == 1.0 in Python (and hashes alike), but ISNUMBER(TRUE) is FALSE in Excel."""
    check = Check("n", "error", "应为数值", parse("ISNUMBER(x)"), "ISNUMBER(x)", ("x",))
    cache = StatusCache((check,))
    assert cache({"x": 1.0}) == ["通过"]
    assert cache({"x": True}) == ["待处理"]
    assert cache({"x": 1.0}) == ["通过"]


def test_conditional_formats_panel_per_look_and_form_per_check(tmp_path: Path) -> None:
    spec = load_spec(SPEC_2023)
    path = tmp_path / "t.xlsx"
    generate_template(spec, path)
    workbook = openpyxl.load_workbook(path)
    panel = workbook[PANEL_SHEET].conditional_formatting
    last = FIRST_ROW + len(spec.checks)
    ranges = sorted(str(r.sqref) for r in panel for _ in r.rules)
    slots = f"B{TOP_FIRST + 1}:B{TOP_FIRST + TOP_SLOTS}"
    assert ranges == sorted(["B2", f"E{FIRST_ROW + 1}:E{last}", f"E{FIRST_ROW + 1}:E{last}",
                             f"A{FIRST_ROW + 1}:D{last}", slots, slots])  # fmt: skip
    formulas = sorted(f for r in panel for rule in r.rules for f in rule.formula)
    assert f'AND($E{FIRST_ROW + 1}="待处理",$B{FIRST_ROW + 1}="错误")' in formulas
    assert f'AND($E{FIRST_ROW + 1}="待处理",$B{FIRST_ROW + 1}<>"错误")' in formulas
    assert f'$E{FIRST_ROW + 1}="通过"' in formulas
    plan = build_plan(spec)
    marked = [c for c in spec.checks if c.severity in MARKED and c.cells]
    form_rules = sum(
        len(r.rules)
        for sheet in workbook.worksheets
        if sheet.title != PANEL_SHEET
        for r in sheet.conditional_formatting
    )
    # besides one mark per check: the grade and total hidden while blank, and percent rows
    looks = len(blank_until_typed(spec)) + sum(len(shown) for _, shown in percent_rows(spec))
    assert form_rules - looks == len(plan.panel.marks) == len(marked)
