"""The shipped specs reproduce the figures the seed documents publish (domain.md).

Each spec in ``specs/`` has a data file ``examples/<template>.yaml`` holding the values a bureau
typed into the seed form (names and phone numbers invented). Recomputing the spec from those
inputs must give the seed's published totals, scores and grades. Fast: no LibreOffice.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from xltools.cli import main
from xltools.engine import recompute
from xltools.expr import Value, evaluate, top_level
from xltools.fill import prepare
from xltools.spec import Spec, load_spec
from xltools.spec.lint import lint_file
from xltools.spec.model import FieldsBlock

ROOT = Path(__file__).resolve().parent.parent
SPEC_FILES = sorted((ROOT / "specs").glob("*.yaml"))
EXAMPLES = ROOT / "examples"

TOL = 1e-9  # 万元, percentages and scores
# Amounts in 元 run to 10^7, where one float step is already ~1e-9: allow a millionth of a 元.
TOL_YUAN = 1e-6


@cache
def specs() -> dict[str, Spec]:
    loaded = [load_spec(path) for path in SPEC_FILES]
    return {spec.template: spec for spec in loaded}


def example(template: str) -> dict[str, Any]:
    with (EXAMPLES / f"{template}.yaml").open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict)
    return data


@cache
def _values(template: str) -> Mapping[str, Value]:
    return recompute(specs()[template], example(template))


def values(template: str, **changes: Any) -> Mapping[str, Value]:
    """The recomputed example, or a variant of it with some inputs changed."""
    if not changes:
        return _values(template)
    return recompute(specs()[template], {**example(template), **changes})


def failing_checks(template: str, computed: Mapping[str, Value]) -> list[str]:
    return [
        check.id
        for check in specs()[template].checks
        if top_level(evaluate(check.expr, computed)) is not True
    ]


def approx(expected: float, tol: float = TOL) -> Any:
    return pytest.approx(expected, abs=tol, rel=0)


# ---- every spec ------------------------------------------------------------------------------


def test_there_are_six_specs() -> None:
    assert {
        "project_expense_2023",
        "project_expense_2022",
        "department_overall",
        "department_basic_data",
        "transfer_fund_hunan",
        "scoring_sheet_medical_aid",
    } <= set(specs())


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_spec_is_lint_clean(path: Path) -> None:
    spec, problems = lint_file(path)
    assert spec is not None
    assert [str(p) for p in problems] == []


def test_spec_lint_command_exits_clean() -> None:
    result = CliRunner().invoke(main, ["spec", "lint", *map(str, SPEC_FILES)])
    assert result.exit_code == 0, result.output


def test_template_ids_are_unique() -> None:
    templates = [load_spec(path).template for path in SPEC_FILES]
    assert len(templates) == len(set(templates)), templates


@pytest.mark.parametrize("template", sorted(specs()))
def test_example_fills_only_input_fields(template: str) -> None:
    spec = specs()[template]
    data = example(template)
    unknown = [key for key in data if key not in spec.fields]
    computed = [key for key in data if key in spec.fields and not spec.fields[key].input]
    assert unknown == []
    assert computed == []


@pytest.mark.parametrize("template", sorted(specs()))
def test_example_values_satisfy_field_constraints(template: str) -> None:
    """Types, choices, ranges, lengths and patterns: what ``fill`` and the template accept."""
    _, errors = prepare(specs()[template], example(template))
    assert [str(error) for error in errors] == []


@pytest.mark.parametrize("template", sorted(specs()))
def test_example_fills_required_header_fields(template: str) -> None:
    """Required fields outside repeating rows (a blank indicator row may stay blank)."""
    spec = specs()[template]
    data = example(template)
    required = [
        field_id
        for sheet in spec.sheets
        for block in sheet.blocks
        if isinstance(block, FieldsBlock)
        for field_id in block.fields
        if spec.fields[field_id].required and spec.fields[field_id].input
    ]
    assert [field_id for field_id in required if data.get(field_id) in (None, "")] == []


# The seeds' own inconsistencies (domain.md), which the checks must report as warnings.
SEED_INCONSISTENCIES = {
    # 002 附件3.1: 全年预算数 124.01 万元, yet a 数量指标 of 184.58 万元 for the same money.
    "project_expense_2023": ["ind_output_quantity_1_money_target_within_budget"],
}


@pytest.mark.parametrize("template", sorted(specs()))
def test_example_passes_every_check(template: str) -> None:
    assert failing_checks(template, values(template)) == SEED_INCONSISTENCIES.get(template, [])


# ---- 000: 补助资金绩效自评表（湖南）and its 评分表 ---------------------------------------------


def test_000_funds_matrix() -> None:
    v = values("transfer_fund_hunan")
    assert v["funds_total_received"] == approx(792.64)  # 273.56 + 69.08 + 450
    assert v["funds_total_spent"] == approx(741.9)  # 222.82 + 69.08 + 450
    assert v["funds_total_balance"] == approx(50.74)
    assert v["funds_central_balance"] == approx(50.74)
    assert v["funds_province_balance"] == approx(0)
    assert v["funds_county_balance"] == approx(0)
    assert v["funds_city_balance"] == ""  # 原表空行，结余也空着
    assert v["funds_total_plan"] == ""  # 计划安排资金整栏空着：合计不显示 0


def test_000_received_over_plan_is_a_warning() -> None:
    v = values(
        "transfer_fund_hunan",
        funds_central_plan=273.56,
        funds_province_plan=69.08,
        funds_county_plan=400.0,
    )
    assert v["funds_total_plan"] == approx(742.64)
    assert failing_checks("transfer_fund_hunan", v) == ["funds_received_over_plan"]


def test_000_detail_rows_in_yuan() -> None:
    v = values("transfer_fund_hunan")
    # 910584.57 + 2317728.67 + 1237436.38 + 2953264.42
    assert v["detail_total_amount"] == approx(7419014.04, TOL_YUAN)


def test_000_detail_must_match_spent_within_rounding_of_wanyuan() -> None:
    # 14.04 元 apart in the seed (741.9 万元 is rounded): accepted; 100 元 more is not.
    assert "detail_matches_spent" not in failing_checks(
        "transfer_fund_hunan", values("transfer_fund_hunan")
    )
    off = values("transfer_fund_hunan", detail_4_amount=2953264.42 + 100)
    assert "detail_matches_spent" in failing_checks("transfer_fund_hunan", off)


def test_000_overspending_a_source_is_an_error() -> None:
    v = values("transfer_fund_hunan", funds_province_spent=70.0)
    assert "funds_overspent" in failing_checks("transfer_fund_hunan", v)


def test_000_self_evaluation_grade() -> None:
    v = values("transfer_fund_hunan")
    assert v["total_score"] == approx(98)
    assert v["grade"] == "优秀"
    assert values("transfer_fund_hunan", total_score=60)["grade"] == "合格"
    assert values("transfer_fund_hunan", total_score=59.5)["grade"] == "不合格"


def test_000_scoring_sheet_first_level_scores() -> None:
    v = values("scoring_sheet_medical_aid")
    expected = {"decision": 20, "process": 18, "output": 37, "benefit": 13, "satisfaction": 10}
    weights = {"decision": 20, "process": 20, "output": 37, "benefit": 13, "satisfaction": 10}
    for group, score in expected.items():
        assert v[f"ind_{group}_score"] == approx(score), group
        assert v[f"ind_{group}_weight"] == approx(weights[group]), group
    assert v["total_weight"] == approx(100)
    assert v["total_score"] == approx(98)
    assert v["grade"] == "优秀"


@pytest.mark.parametrize(
    ("field", "actual", "score"),
    [
        # 基金累计结余占比：满分 ≤15%；15%–16% 按 60+40*(16%-实际值)/1% 计分值的百分数；>16% 零分
        ("ind_output_quantity_balance_1", 0.15, 5),
        ("ind_output_quantity_balance_1", 0.155, 4),  # 5 × 80%
        ("ind_output_quantity_balance_1", 0.16, 3),  # 合格：5 × 60%
        ("ind_output_quantity_balance_1", 0.17, 0),
        # 住院救助比率：满分 ≥70%；其他 8-(70%-实际值)*8
        ("ind_output_quality_ratio_1", 0.7184, 8),
        ("ind_output_quality_ratio_1", 0.6, 7.2),
        # 满意度：>85% 10 分；=85% 6 分；<85% 0 分
        ("ind_satisfaction_service_aid_recipients_1", 0.95, 10),
        ("ind_satisfaction_service_aid_recipients_1", 0.85, 6),
        ("ind_satisfaction_service_aid_recipients_1", 0.84, 0),
        # 定性评定：满分全部分值，合格 60%，零分 0
        ("ind_output_quantity_scale_1", "合格", 4.8),
        ("ind_output_quantity_scale_1", "零分", 0),
        # 清单子项：是 得该项分值，否 0
        ("ind_decision_basis_central_2", "否", 0),
    ],
)
def test_000_scoring_sheet_row_rules(field: str, actual: Any, score: float) -> None:
    v = values("scoring_sheet_medical_aid", **{f"{field}_actual": actual})
    assert v[f"{field}_score"] == approx(score)


def test_000_scoring_sheet_veto_zeroes_the_indicator() -> None:
    v = values("scoring_sheet_medical_aid", ind_process_funds_compliance_4_actual="是")
    assert v["ind_process_funds_compliance_score"] == approx(0)
    assert v["ind_process_score"] == approx(12)


# ---- 002: 基础数据表、部门整体、项目支出 2023 ---------------------------------------------------


def test_002_basic_data_project_spending_is_the_sum_of_special_funds() -> None:
    v = values("department_basic_data")
    assert v["funds_county_special_last_final"] == approx(230)
    assert v["funds_county_special_budget"] == approx(681.2)
    assert v["funds_county_special_final"] == approx(608.41)
    assert v["funds_project_last_final"] == approx(230)
    assert v["funds_project_budget"] == approx(681.2)
    assert v["funds_project_final"] == approx(608.41)


def test_002_basic_data_staff_and_three_public() -> None:
    v = values("department_basic_data")
    assert v["staff_control_rate"] == approx(0.9)  # 54 ÷ 60
    assert v["funds_three_public_last_final"] == approx(11.6)
    assert v["funds_three_public_budget"] == approx(5.7)
    assert v["funds_three_public_final"] == approx(0.23)
    assert v["building_area_rate"] == ""  # 批复规模 0：控制率无从计算，留空


def test_002_basic_data_special_row_needs_a_name() -> None:
    v = values("department_basic_data", special_7_budget=1.0)
    assert "special_7_named" in failing_checks("department_basic_data", v)


def test_002_department_overall_splits_add_up() -> None:
    v = values("department_overall")
    assert v["expense_basic"] + v["expense_project"] == approx(40364.85)  # type: ignore[operator]
    assert v["funds_total_rate"] == approx(1)
    assert v["funds_total_score"] == approx(10)
    assert v["total_weight"] == approx(100)
    assert v["total_score"] == approx(100)
    assert v["grade"] == "优秀"


def test_002_department_overall_split_mismatch_is_an_error() -> None:
    v = values("department_overall", expense_project=39712.31)
    assert failing_checks("department_overall", v) == ["expense_split_total"]
    v = values("department_overall", income_general=40364.0)
    assert failing_checks("department_overall", v) == ["income_split_total"]


def test_002_project_expense_2023_totals_100() -> None:
    v = values("project_expense_2023")
    assert v["funds_total_budget"] == approx(124.01)
    assert v["funds_total_spent"] == approx(124.01)
    assert v["funds_total_rate"] == approx(1)
    assert v["funds_total_score"] == approx(10)
    for group, score in {"output": 30, "benefit": 30, "satisfaction": 10, "cost": 20}.items():
        assert v[f"ind_{group}_score"] == approx(score), group
    assert v["total_weight"] == approx(100)
    assert v["total_score"] == approx(100)
    assert v["grade"] == "优秀"


# ---- 003: 项目支出 2022 ------------------------------------------------------------------------


def test_003_project_expense_2022() -> None:
    v = values("project_expense_2022")
    assert v["funds_total_budget"] == approx(194.19)
    assert v["funds_total_spent"] == approx(194.19)
    assert v["funds_total_rate"] == approx(1)
    assert v["funds_total_score"] == approx(10)
    # 产出 15 + 10 + 15 + 5 + 5 = 50
    output = ["quantity_1", "quantity_2", "quantity_3", "quality_1", "timeliness_1"]
    assert [v[f"ind_output_{row}_score"] for row in output] == [
        approx(15),
        approx(10),
        approx(15),
        approx(5),
        approx(5),
    ]
    assert v["ind_output_score"] == approx(50)
    # 效益 10 + 10 + 10 + 10 = 40（服务对象满意度在效益指标之内）
    benefit = ["social_1", "social_2", "social_3", "satisfaction_1"]
    assert [v[f"ind_benefit_{row}_score"] for row in benefit] == [approx(10)] * 4
    assert v["ind_benefit_score"] == approx(40)
    assert v["total_weight"] == approx(100)
    assert v["total_score"] == approx(100)
    assert v["grade"] == "优秀"


def test_003_missed_target_asks_for_a_reason() -> None:
    v = values("project_expense_2022", ind_benefit_satisfaction_1_actual=0.72)
    assert v["ind_benefit_satisfaction_1_score"] == approx(9)  # 10 × 72% ÷ 80%
    assert failing_checks("project_expense_2022", v) == ["ind_benefit_satisfaction_1_reason_needed"]
    v = values(
        "project_expense_2022",
        ind_benefit_satisfaction_1_actual=0.72,
        ind_benefit_satisfaction_1_reason="问卷样本偏少，下年扩大调查范围",
    )
    assert failing_checks("project_expense_2022", v) == []
