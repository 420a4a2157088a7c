"""Scoring rule kinds: each a named rule with parameters that expands into one expression.

A spec author writes ``rule: {kind: positive_target, actual: ..., target: ..., weight: ...}``
instead of a formula. Every kind expands to an expression of the rule language, so the same
tree becomes the template's Excel formula and the checker's Python recomputation. Kinds whose
shape is fixed are written below as expression templates; kinds with lists of tiers or items
are built in code. A spec can add its own template kinds under ``rules:``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..expr import Binary, Call, Name, Node, Number, Text, parse, substitute


class RuleError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Parameters a rule receives: expressions, already parsed (names resolved by the caller).
Params = Mapping[str, Node]


@dataclass(frozen=True)
class RuleKind:
    name: str
    label: str  # Chinese name, shown in describe and in the README
    params: Mapping[str, str | None]  # parameter -> default expression (None: required)
    template: str | None = None  # expression over the parameter names
    build: Callable[[Params, Mapping[str, Any]], Node] | None = None  # for list-shaped kinds
    extra: Sequence[str] = field(default_factory=tuple)  # non-expression settings (tiers, items)

    def expand(self, params: Params, settings: Mapping[str, Any]) -> Node:
        # A parameter's expression may use the other parameters by name, e.g. the linear
        # rule's formula "8-(70%-value)*8" refers to its own ``value``.
        params = {
            name: substitute(node, {k: v for k, v in params.items() if k != name})
            for name, node in params.items()
        }
        if self.template is not None:
            return substitute(parse(self.template), dict(params))
        assert self.build is not None
        return self.build(params, settings)


_IS_NUMBER = "ISNUMBER(actual)"

TEMPLATE_KINDS: tuple[RuleKind, ...] = (
    RuleKind(
        "execution_rate",
        "预算执行率：分值 × min(执行数 ÷ 预算数, 1)",
        {"spent": None, "budget": None, "weight": "weight"},
        "IF(budget>0, weight*MIN(MAX(spent,0)/budget, 1), 0)",
    ),
    RuleKind(
        "ratio",
        "比率：分子 ÷ 分母（分母为 0 或空时留空）",
        {"num": None, "den": None},
        'IF(den=0, "", num/den)',
    ),
    RuleKind(
        "positive_target",
        "正向指标（≥ 目标值）：达到得满分，否则 分值 × 实际 ÷ 目标",
        {"actual": "actual", "target": "target", "weight": "weight"},
        f"IF(NOT({_IS_NUMBER}), 0, IF(actual>=target, weight,"
        " IF(target>0, weight*MAX(actual,0)/target, 0)))",
    ),
    RuleKind(
        "negative_target",
        "反向指标（≤ 目标值）：不超过得满分，否则 分值 × 目标 ÷ 实际",
        {"actual": "actual", "target": "target", "weight": "weight"},
        f"IF(NOT({_IS_NUMBER}), 0, IF(actual<=target, weight,"
        " IF(actual>0, weight*MAX(target,0)/actual, 0)))",
    ),
    RuleKind(
        "equal_target",
        "等值指标（= 目标值）：相等得满分，否则 分值 × 较小值 ÷ 较大值",
        {"actual": "actual", "target": "target", "weight": "weight"},
        f"IF(NOT({_IS_NUMBER}), 0, IF(actual=target, weight,"
        " IF(actual*target>0, weight*MIN(actual,target)/MAX(actual,target), 0)))",
    ),
    RuleKind(
        "qualitative",
        "定性指标：达成 80–100%、部分达成 60–80%、未达成 0–60% 分值，自评分限定在所选档内",
        {
            "level": "level",
            "score": "self_score",
            "weight": "weight",
            "high": "80%",
            "low": "60%",
            "full": '"达成"',
            "partial": '"部分达成"',
            "none": '"未达成"',
        },
        "IF(level=full, MIN(MAX(score, high*weight), weight),"
        " IF(level=partial, MIN(MAX(score, low*weight), high*weight),"
        " IF(level=none, MIN(MAX(score, 0), low*weight), 0)))",
    ),
    RuleKind(
        "proportional",
        "比例得分：分值 × 比率（如 资金到位率 × 分值）",
        {"value": "actual", "weight": "weight"},
        "IF(ISNUMBER(value), weight*MIN(MAX(value,0),1), 0)",
    ),
    RuleKind(
        "deduction",
        "按发现问题扣分：每发现一处扣 per 分，扣完为止",
        {"count": "actual", "per": "1", "weight": "weight"},
        "MAX(weight-per*MAX(N_COUNT,0), 0)".replace("N_COUNT", "IF(ISNUMBER(count),count,0)"),
    ),
    RuleKind(
        "penalty_below",
        "低于标准按百分点扣分：每低于 1 个百分点扣 per_point 分，扣完为止",
        {"value": "actual", "threshold": "target", "per_point": "1", "weight": "weight"},
        "IF(NOT(ISNUMBER(value)), 0, MAX(weight-per_point*MAX(threshold-value,0)/1%, 0))",
    ),
    RuleKind(
        "penalty_above",
        "高于标准按百分点扣分：每高于 1 个百分点扣 per_point 分，扣完为止",
        {"value": "actual", "threshold": "target", "per_point": "1", "weight": "weight"},
        "IF(NOT(ISNUMBER(value)), 0, MAX(weight-per_point*MAX(value-threshold,0)/1%, 0))",
    ),
    RuleKind(
        "linear",
        "书面公式：满足 full_when 得满分，否则按 formula 计分并限定在 0 与分值之间",
        {"value": "actual", "formula": None, "full_when": "FALSE", "weight": "weight"},
        "IF(NOT(ISNUMBER(value)), 0, IF(full_when, weight, MIN(MAX(formula, 0), weight)))",
    ),
)


def _if(condition: Node, then: Node, otherwise: Node) -> Node:
    return Call("IF", (condition, then, otherwise))


def _expression(value: Any, params: Params) -> Node:
    """A setting inside a tier or item: a number, or an expression over the rule's parameters."""
    if isinstance(value, bool):
        raise RuleError("spec-rule-bad-setting", f"应为数值或表达式，却是 {value!r}")
    if isinstance(value, int | float):
        return Number(float(value))
    return substitute(parse(str(value)), dict(params))


def _build_tiers(params: Params, settings: Mapping[str, Any]) -> Node:
    """Tiers, first match wins: ``{min: 90%, score: 6}``, ``{above: …}``, ``{equals: …}``,
    ``{when: expr}``; the last tier may have only ``score`` (everything else)."""
    tiers = settings.get("tiers")
    if not isinstance(tiers, list) or not tiers:
        raise RuleError(
            "spec-rule-missing-param", "分档规则需要 tiers 列表（每档 min/above/when 与 score）"
        )
    value = params["value"]
    result: Node = Number(0.0)
    for tier in reversed(tiers):
        if not isinstance(tier, dict) or "score" not in tier:
            raise RuleError("spec-rule-bad-setting", "每一档都需要 score")
        score = _expression(tier["score"], params)
        conditions = [k for k in ("min", "above", "equals", "below", "max", "when") if k in tier]
        unknown = set(tier) - {"score", "min", "above", "equals", "below", "max", "when"}
        if unknown:
            raise RuleError(
                "spec-rule-unknown-param", f"分档中有未知设置：{', '.join(sorted(unknown))}"
            )
        if not conditions:
            result = score
            continue
        if len(conditions) > 1:
            raise RuleError(
                "spec-rule-bad-setting", "每一档只能有一个条件（min/above/equals/below/max/when）"
            )
        key = conditions[0]
        if key == "when":
            condition = _expression(tier["when"], params)
        else:
            op = {"min": ">=", "above": ">", "equals": "=", "below": "<", "max": "<="}[key]
            condition = Binary(op, value, _expression(tier[key], params))
        result = _if(condition, score, result)
    return _if(Call("ISNUMBER", (value,)), result, Number(0.0))


def _build_checklist(params: Params, settings: Mapping[str, Any]) -> Node:
    """Sum of the points of the items met (each item a yes/no field); a veto item zeroes it."""
    items = settings.get("items")
    if not isinstance(items, list) or not items:
        raise RuleError(
            "spec-rule-missing-param", "清单规则需要 items 列表（每项 field 与 points）"
        )
    terms: list[Node] = []
    for item in items:
        if not isinstance(item, dict) or "field" not in item or "points" not in item:
            raise RuleError("spec-rule-bad-setting", "清单的每一项都需要 field 与 points")
        flag = Name(str(item["field"]))
        terms.append(
            _if(Binary("=", flag, Text("是")), _expression(item["points"], params), Number(0.0))
        )
    total: Node = terms[0]
    for term in terms[1:]:
        total = Binary("+", total, term)
    total = Call("MIN", (total, params["weight"]))
    veto = settings.get("veto")
    if veto:
        total = _if(Binary("=", Name(str(veto)), Text("是")), Number(0.0), total)
    return total


def build_grade(score: Node, bands: Sequence[tuple[str, float | None]]) -> Node:
    """Nested IF from the highest band down; a band without a minimum catches the rest."""
    result: Node = Text("")
    for grade, minimum in reversed(bands):
        if minimum is None:
            result = Text(grade)
        else:
            result = _if(Binary(">=", score, Number(float(minimum))), Text(grade), result)
    return _if(Call("ISNUMBER", (score,)), result, Text(""))


def _build_grade(params: Params, settings: Mapping[str, Any]) -> Node:
    return build_grade(params["score"], settings.get("bands", ()))


def _build_indicator(params: Params, settings: Mapping[str, Any]) -> Node:
    """The standard indicator row: the operator the unit picked (≥, ≤, =, 定性) picks the rule."""
    by_op = [
        ("≥", "positive_target"),
        ("≤", "negative_target"),
        ("=", "equal_target"),
        ("定性", "qualitative"),
    ]
    result: Node = Number(0.0)
    for op, kind in reversed(by_op):
        rule = BUILTIN_KINDS[kind]
        sub = {name: params[name] for name in rule.params if name in params}
        for name, default in rule.params.items():
            if name not in sub and default is not None:
                sub[name] = parse(default)
        result = _if(Binary("=", params["op"], Text(op)), rule.expand(sub, {}), result)
    return result


_INDICATOR_PARAMS: dict[str, str | None] = {
    "op": "op",
    "actual": "actual",
    "target": "target",
    "weight": "weight",
    "level": "level",
    "score": "self_score",
}

BUILTIN_KINDS: dict[str, RuleKind] = {k.name: k for k in TEMPLATE_KINDS}
BUILTIN_KINDS.update(
    {
        "tiers": RuleKind(
            "tiers",
            "分档计分：按 value 所在档给分（如 ≥90% 得 6 分，70–90% 得 6×进度…）",
            {"value": "actual"},
            build=_build_tiers,
            extra=("tiers",),
        ),
        "checklist": RuleKind(
            "checklist",
            "清单计分：满足的子项分数之和（可设否决项）",
            {"weight": "weight"},
            build=_build_checklist,
            extra=("items", "veto"),
        ),
        "grade": RuleKind(
            "grade",
            "评价等次：按规范中的等次区间由总分得出",
            {"score": None},
            build=_build_grade,
            extra=("bands",),
        ),
        "indicator": RuleKind(
            "indicator",
            "标准指标行：按所选符号（≥、≤、=、定性）选用对应规则",
            _INDICATOR_PARAMS,
            build=_build_indicator,
        ),
    }
)


def custom_kind(name: str, definition: Mapping[str, Any]) -> RuleKind:
    """A rule kind a spec defines itself: ``{params: {a: null, b: "10"}, expression: "..."}``."""
    if not isinstance(definition, Mapping):
        raise RuleError("spec-rule-bad-setting", "应是一个映射（params、expression）")
    params = definition.get("params") or {}
    if isinstance(params, list):
        params = dict.fromkeys(params)
    if not isinstance(params, Mapping):
        raise RuleError(
            "spec-rule-bad-setting",
            "params 应是参数表（如 {actual: actual, weight: weight}）或参数名列表",
        )
    template = definition.get("expression")
    if not isinstance(template, str):
        raise RuleError("spec-rule-bad-setting", f"自定义规则 {name} 需要 expression")
    parse(template)  # syntax errors surface here, at the definition
    return RuleKind(
        name,
        str(definition.get("label", name)),
        {str(k): (None if v is None else str(v)) for k, v in params.items()},
        template,
    )
