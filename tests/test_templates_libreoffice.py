"""Every spec's template, filled with drawn values and recalculated by LibreOffice, computes
what the Python recomputation says, to the cent; and what the checker relies on survives
LibreOffice's save."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from spec_strategies import inputs_for

from xltools.engine import agrees, recompute
from xltools.expr import Name
from xltools.expr.ast import walk
from xltools.fill import fill_workbook
from xltools.generate import generate_template
from xltools.generate.metadata import META_SHEET, PANEL_SHEET
from xltools.generate.panel import FIRST_ROW, OK, TODO, overall_text
from xltools.libreoffice import recalculate
from xltools.spec import Spec, load_spec
from xltools.workbook import describe_workbook, open_workbook

HERE = Path(__file__).resolve().parent
# The bundled specs, and a test spec whose rule kind is written in YAML only.
SPECS = sorted(HERE.parent.joinpath("specs").glob("*.yaml")) + [HERE / "specs" / "custom_rule.yaml"]
pytestmark = pytest.mark.libreoffice


def _disagreements(spec: Spec, inputs: dict[str, Any], recalculated: Path) -> list[str]:
    expected = recompute(spec, inputs)
    workbook = open_workbook(recalculated, data_only=True)
    names = describe_workbook(workbook).names
    problems = []
    for field in spec.computed():
        ref = names[field.id]
        found = workbook[ref.sheet][ref.coordinate].value
        if not agrees(expected[field.id], found):
            problems.append(f"{field.id}: python={expected[field.id]!r} libreoffice={found!r}")
    return problems


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
@settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_filled_templates_agree_with_libreoffice(
    spec_path: Path, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    spec = load_spec(spec_path)
    work = tmp_path_factory.mktemp(spec.template)
    template = work / "template.xlsx"
    generate_template(spec, template)
    inputs = data.draw(inputs_for(spec), label="inputs")
    filled = work / "filled.xlsx"
    assert fill_workbook(template, spec, inputs, filled) == []
    (recalculated,) = recalculate([filled], work / "recalculated")
    report = _disagreements(spec, inputs, recalculated)
    assert not report, "LibreOffice and the recomputation disagree:\n" + "\n".join(report)
    panel, overall = _panel(spec, recalculated)
    checker = _checker_problems(spec, recalculated)
    assert panel == checker, (
        f"自检 panel only: {sorted(panel - checker)}; checker only: {sorted(checker - panel)}"
    )
    errors = sum(1 for c in spec.checks if c.severity == "error" and _key(spec, c) in panel)
    warnings = sum(1 for c in spec.checks if c.severity == "warning" and _key(spec, c) in panel)
    assert overall == overall_text(errors, warnings)


def _key(spec: Spec, check: Any) -> tuple[str, str]:
    """A check as the checker reports it: its code and the field it is anchored at."""
    anchor = next((c for c in check.cells if c in spec.fields), "")
    if not anchor:
        anchor = next(
            (n.name for n in walk(check.expr) if isinstance(n, Name) and n.name in spec.fields), ""
        )
    return check.code, anchor


def _panel(spec: Spec, recalculated: Path) -> tuple[set[tuple[str, str]], str]:
    """The checks the recalculated 自检 panel shows as 待处理, and its overall status."""
    sheet = open_workbook(recalculated, data_only=True)[PANEL_SHEET]
    failing = set()
    for index, check in enumerate(spec.checks):
        status = sheet.cell(FIRST_ROW + index + 1, 5).value
        assert status in (OK, TODO), (check.id, status)
        if status == TODO:
            failing.add(_key(spec, check))
    return failing, str(sheet.cell(2, 2).value)


def _checker_problems(spec: Spec, path: Path) -> set[tuple[str, str]]:
    from xltools.check.run import check_file
    from xltools.registry import Registry

    report, _ = check_file(path, Registry.load(spec.source.parent if spec.source else None))
    codes = {c.code for c in spec.checks}
    return {(f.code, f.field) for f in report.findings if f.code in codes}


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_blank_template_cached_values_match_libreoffice(spec_path: Path, tmp_path: Path) -> None:
    """The cached results the generator writes are what a spreadsheet computes."""
    spec = load_spec(spec_path)
    template = tmp_path / "template.xlsx"
    generate_template(spec, template)
    cached = open_workbook(template, data_only=True)
    names = describe_workbook(cached).names
    (recalculated,) = recalculate([template], tmp_path / "out")
    assert _disagreements(spec, {}, recalculated) == []
    expected = recompute(spec, {})
    for field in spec.computed():
        ref = names[field.id]
        assert agrees(expected[field.id], cached[ref.sheet][ref.coordinate].value), field.id


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_what_the_checker_needs_survives_libreoffice_save(spec_path: Path, tmp_path: Path) -> None:
    spec = load_spec(spec_path)
    template = tmp_path / "template.xlsx"
    generate_template(spec, template)
    (saved,) = recalculate([template], tmp_path / "out")
    before, after = open_workbook(template), open_workbook(saved)
    info_before, info_after = describe_workbook(before), describe_workbook(after)
    assert info_after.meta == info_before.meta
    assert info_after.sheet_states[META_SHEET] in ("hidden", "veryHidden")
    for name, ref in info_before.names.items():
        assert info_after.names.get(name) == ref, name
    for sheet in spec.sheets:
        ws_before, ws_after = before[sheet.name], after[sheet.name]
        assert ws_after.protection.sheet, f"{sheet.name}: protection lost"
        assert len(ws_after.data_validations.dataValidation) >= 1
        assert cells(ws_after) >= cells(ws_before) or _expand(cells(ws_after)) >= _expand(
            cells(ws_before)
        )
        for field in spec.inputs():
            ref = info_before.names[field.id]
            if ref.sheet == sheet.name:
                assert ws_after[ref.coordinate].protection.locked is False, field.id


def cells(worksheet: Any) -> set[str]:
    """The cells or ranges a worksheet's data validations apply to."""
    return {c for dv in worksheet.data_validations.dataValidation for c in str(dv.sqref).split()}


def _expand(ranges: set[str]) -> set[str]:
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import range_boundaries

    cells = set()
    for item in ranges:
        min_col, min_row, max_col, max_row = range_boundaries(item)
        for col in range(min_col, (max_col or min_col) + 1):
            for row in range(min_row, (max_row or min_row) + 1):
                cells.add(f"{get_column_letter(col)}{row}")
    return cells


# The figures the seeds publish (domain.md), read from the cells LibreOffice recalculated.
SEED_FIGURES: dict[str, dict[str, Any]] = {
    "project_expense_2023": {
        "funds_total_rate": 1.0,
        "funds_total_score": 10.0,
        "total_score": 100.0,
        "grade": "优秀",
    },
    "project_expense_2022": {
        "funds_total_budget": 194.19,
        "funds_total_rate": 1.0,
        "ind_output_score": 50.0,
        "ind_benefit_score": 40.0,
        "total_score": 100.0,
        "grade": "优秀",
    },
    "department_overall": {"funds_total_score": 10.0, "total_score": 100.0, "grade": "优秀"},
    "department_basic_data": {
        "staff_control_rate": 0.9,
        "funds_project_last_final": 230.0,
        "funds_project_budget": 681.2,
        "funds_project_final": 608.41,
    },
    "transfer_fund_hunan": {
        "funds_total_received": 792.64,
        "funds_total_spent": 741.9,
        "funds_total_balance": 50.74,
        "detail_total_amount": 7419014.04,
        "grade": "优秀",
    },
    "scoring_sheet_medical_aid": {
        "ind_decision_score": 20.0,
        "ind_process_score": 18.0,
        "ind_output_score": 37.0,
        "ind_benefit_score": 13.0,
        "ind_satisfaction_score": 10.0,
        "total_score": 98.0,
        "grade": "优秀",
    },
}


def test_seed_examples_recalculated_by_libreoffice_reproduce_the_published_figures(
    tmp_path: Path,
) -> None:
    import yaml

    filled = []
    for template_id, figures in SEED_FIGURES.items():
        spec = next(s for s in map(load_spec, SPECS) if s.template == template_id)
        data = yaml.safe_load(
            (HERE.parent / "examples" / f"{template_id}.yaml").read_text(encoding="utf-8")
        )
        template, target = tmp_path / f"{template_id}-t.xlsx", tmp_path / f"{template_id}.xlsx"
        generate_template(spec, template)
        assert fill_workbook(template, spec, data, target) == []
        filled.append((target, figures))
    results = recalculate([t for t, _ in filled], tmp_path / "out")
    for (target, figures), recalculated in zip(filled, results, strict=True):
        workbook = open_workbook(recalculated, data_only=True)
        overall = str(workbook[PANEL_SHEET].cell(2, 2).value)
        assert overall.startswith("可以提交"), f"{target.name}: 自检 says {overall}"
        names = describe_workbook(workbook).names
        for field_id, expected in figures.items():
            found = workbook[names[field_id].sheet][names[field_id].coordinate].value
            assert agrees(float(expected) if isinstance(expected, int) else expected, found), (
                f"{target.name} {field_id}: {found!r} != {expected!r}"
            )
