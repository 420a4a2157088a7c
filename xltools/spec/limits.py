"""Limits written as expressions (``max: weight``): a number cell held to another cell of the
form, written once for a whole column.

When every cell the expression reads is fixed by the spec (a preset 分值), the limit is a plain
number for that row: data validation, ``fill`` and the checker use it as they use ``max: 5``.
When it reads what the unit types, no data validation can follow it in every application, so it
becomes a check (the 自检 panel and the checker say the same).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..engine import as_cell_value
from ..expr import Name, Node, evaluate, parse, substitute, top_level
from ..expr.ast import walk
from .model import Check, Field
from .problems import ProblemList

_WITHIN = {
    "max": parse("OR(ISBLANK(x), NOT(ISNUMBER(x)), x<=limit)"),
    "min": parse("OR(ISBLANK(x), NOT(ISNUMBER(x)), x>=limit)"),
}
_WORD = {"max": "大于", "min": "小于"}


@dataclass(frozen=True)
class PendingLimit:
    field_id: str
    side: str  # "min" or "max"
    node: Node  # the expression, with the row's names bound to field ids
    source: str  # as the author wrote it
    line: int


def resolve_limits(
    pending: list[PendingLimit], fields: Mapping[str, Field], problems: ProblemList
) -> list[Check]:
    """Set each static limit on its field; the checks for the limits that read inputs."""
    checks: list[Check] = []
    for limit in pending:
        field = fields.get(limit.field_id)
        if field is None:
            continue
        reads = [n.name for n in walk(limit.node) if isinstance(n, Name)]
        unknown = [r for r in reads if r not in fields]
        if unknown:
            problems.add(
                "spec-unknown-reference",
                f"字段 {field.id} 的 {limit.side} “{limit.source}” 引用了不存在的字段：{', '.join(unknown)}",
                limit.line,
            )
            continue
        if all(_fixed(fields[r]) for r in reads):
            values: dict[str, Any] = {r: as_cell_value(fields[r].value) for r in reads}
            result = top_level(evaluate(limit.node, values))
            if isinstance(result, bool) or not isinstance(result, int | float):
                problems.add(
                    "spec-limit-not-a-number",
                    f"字段 {field.id} 的 {limit.side} “{limit.source}” 算出的不是数值（{result}）",
                    limit.line,
                )
                continue
            setattr(field, limit.side, float(result))
            continue
        checks.append(_limit_check(field, limit, fields))
    return checks


def _fixed(field: Field) -> bool:
    return not field.input and field.formula is None and field.members is None


def _limit_check(field: Field, limit: PendingLimit, fields: Mapping[str, Field]) -> Check:
    expr = substitute(_WITHIN[limit.side], {"x": Name(field.id), "limit": limit.node})
    shown = (
        f"“{fields[limit.node.name].label}”"
        if isinstance(limit.node, Name)
        else f"“{limit.source}”"
    )
    op = "<=" if limit.side == "max" else ">="
    return Check(
        id=f"{limit.side}_{field.id}",
        severity="error",
        message=f"“{field.label}” 不能{_WORD[limit.side]}本行的 {shown}",
        expr=expr,
        source=f"{field.id}{op}{limit.source}",
        cells=(field.id,),
        line=limit.line,
        code="value-out-of-range",
        expected=None,
    )
