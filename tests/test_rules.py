"""Each rule kind computes what domain.md says, in Python (LibreOffice agreement is proven
separately): the kinds are checked against hand-computed values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xltools.engine import recompute
from xltools.expr import BLANK, evaluate, parse
from xltools.spec import load_spec
from xltools.spec.rules import BUILTIN_KINDS, build_grade


def _rule(kind: str, settings: dict[str, Any] | None = None, **params: Any) -> Any:
    rule = BUILTIN_KINDS[kind]
    nodes = {}
    env: dict[str, Any] = {}
    for name, default in rule.params.items():
        if name in params:
            env[name] = params[name]
            nodes[name] = parse(name)
        elif default is not None:
            nodes[name] = parse(default)
    tree = rule.expand(nodes, settings or {})
    return evaluate(tree, {**env, **{k: v for k, v in params.items() if k not in rule.params}})


@pytest.mark.parametrize(
    ("spent", "budget", "expected"),
    [
        (124.01, 124.01, 10.0),
        (50.0, 100.0, 5.0),
        (120.0, 100.0, 10.0),
        (10.0, 0.0, 0.0),
        (BLANK, 100.0, 0.0),
    ],
)
def test_execution_rate(spent: Any, budget: float, expected: float) -> None:
    assert _rule("execution_rate", spent=spent, budget=budget, weight=10.0) == pytest.approx(
        expected
    )


@pytest.mark.parametrize(
    ("kind", "actual", "target", "expected"),
    [
        ("positive_target", 0.95, 0.9, 15.0),  # met
        ("positive_target", 0.9, 0.9, 15.0),  # exactly on target
        ("positive_target", 0.45, 0.9, 7.5),  # 分值 × B ÷ A
        ("positive_target", "全覆盖", 0.9, 0.0),  # text is not a number: the checker parses first
        ("negative_target", 30.0, 60.0, 15.0),
        ("negative_target", 120.0, 60.0, 7.5),  # 分值 × A ÷ B
        ("equal_target", 5.0, 5.0, 15.0),
        ("equal_target", 4.0, 5.0, 12.0),
    ],
)
def test_quantitative_targets(kind: str, actual: Any, target: float, expected: float) -> None:
    assert _rule(kind, actual=actual, target=target, weight=15.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("level", "score", "expected"),
    [
        ("达成", 9.0, 9.0),
        ("达成", 5.0, 8.0),
        ("部分达成", 9.5, 8.0),
        ("部分达成", 7.0, 7.0),
        ("未达成", 7.0, 6.0),
        ("", 7.0, 0.0),
    ],
)
def test_qualitative_band_clamps_the_self_score(level: str, score: float, expected: float) -> None:
    assert _rule("qualitative", level=level, score=score, weight=10.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("progress", "expected"), [(0.95, 6.0), (0.9, 6.0), (0.8, 4.8), (0.65, 1.0), (0.5, 0.0)]
)
def test_tiers_budget_progress(progress: float, expected: float) -> None:
    tiers = [
        {"min": 0.9, "score": 6},
        {"min": 0.7, "score": "6*value"},
        {"min": 0.6, "score": 1},
        {"score": 0},
    ]
    assert _rule("tiers", {"tiers": tiers}, value=progress) == pytest.approx(expected)


@pytest.mark.parametrize(("rate", "expected"), [(0.95, 10.0), (0.85, 6.0), (0.8, 0.0)])
def test_tiers_satisfaction(rate: float, expected: float) -> None:
    tiers = [{"above": 0.85, "score": 10}, {"equals": 0.85, "score": 6}, {"score": 0}]
    assert _rule("tiers", {"tiers": tiers}, value=rate) == pytest.approx(expected)


def test_per_point_penalties() -> None:
    # 每低于1个百分点扣1分，扣完为止 / 每高于1个百分点扣0.5分
    assert _rule(
        "penalty_below", value=0.87, threshold=0.9, per_point=1.0, weight=5.0
    ) == pytest.approx(2.0)
    assert _rule("penalty_below", value=0.5, threshold=0.9, per_point=1.0, weight=5.0) == 0.0
    assert _rule(
        "penalty_above", value=0.12, threshold=0.1, per_point=0.5, weight=5.0
    ) == pytest.approx(4.0)


def test_written_linear_formulas() -> None:
    # "8-(70%-实际值)*8", full marks at ≥ 70 %
    linear = dict(formula=parse("8-(70%-value)*8"), full_when=parse("value>=70%"))
    tree = BUILTIN_KINDS["linear"].expand({"value": parse("v"), "weight": parse("8"), **linear}, {})
    assert evaluate(tree, {"v": 0.7184}) == 8.0
    assert evaluate(tree, {"v": 0.6}) == pytest.approx(7.2)


def test_deduction_checklist_proportional() -> None:
    assert _rule("deduction", count=3.0, per=1.0, weight=5.0) == pytest.approx(2.0)
    assert _rule("deduction", count=9.0, per=1.0, weight=5.0) == 0.0
    items = [{"field": "a", "points": 2}, {"field": "b", "points": 2}]
    assert _rule("checklist", {"items": items}, weight=4.0, a="是", b="否") == pytest.approx(2.0)
    assert (
        _rule("checklist", {"items": items, "veto": "c"}, weight=4.0, a="是", b="是", c="是") == 0.0
    )
    assert _rule("proportional", value=0.9584, weight=10.0) == pytest.approx(9.584)


@pytest.mark.parametrize(
    ("score", "grade"),
    [(98.0, "优秀"), (90.0, "优秀"), (89.99, "良好"), (60.0, "基本合格"), (59.0, "不合格")],
)
def test_grade_bands_lower_bound_inclusive(score: float, grade: str) -> None:
    bands = [("优秀", 90.0), ("良好", 80.0), ("合格", 70.0), ("基本合格", 60.0), ("不合格", None)]
    assert evaluate(build_grade(parse("s"), bands), {"s": score}) == grade


def test_yaml_rule_kind_end_to_end_in_python() -> None:
    spec = load_spec(Path(__file__).parent / "specs" / "custom_rule.yaml")
    values = recompute(
        spec, {"ind_a_1_actual": 0.85, "ind_a_2_actual": 0.4, "ind_b_1_actual": 0.95}
    )
    assert values["ind_a_1_score"] == pytest.approx(37.5)  # 40 − 0.5 × 5 points
    assert values["ind_a_2_score"] == 0.0  # under 50 %
    assert values["ind_b_1_score"] == 40.0
    assert values["total"] == pytest.approx(77.5)
    assert values["grade"] == "中"
