"""Recompute every derived value from the inputs, compare with what the workbook shows, and
evaluate the spec's cross-field checks and the checks every indicator row implies."""

from __future__ import annotations

import math
from typing import Any, Final

from ..engine import agrees, evaluation_order, recompute
from ..expr import BLANK, ExcelError, Name, evaluate, top_level
from ..expr.ast import Node, walk
from ..identity import IdentityCache
from ..spec.model import Spec
from .context import CheckContext, show
from .inputs import NUMERIC_TYPES, TEXT_IN_NUMBER


def result_fields(spec: Spec) -> tuple[str | None, str | None]:
    """(total score field, grade field): the grade rule's score parameter and the grade."""
    for field in spec.fields.values():
        if field.formula_source == "rule:grade" and field.formula is not None:
            names = [n.name for n in walk(field.formula) if isinstance(n, Name)]
            return (names[0] if names else None), field.id
    return None, None


def _precision(ctx: CheckContext) -> float:
    """How far an application's result may lie from ours and still be the same number: what a
    double can resolve at the form's largest input (LibreOffice's SUM compensates its rounding,
    ours does not: at 2E+11 they part by 3E-05), and never less than 1E-06."""
    numbers = (abs(v) for v in ctx.values.values() if isinstance(v, float) and math.isfinite(v))
    scale = max(numbers, default=0.0)
    return max(1e-6, scale * 2.0**-48)


def recompute_and_compare(ctx: CheckContext) -> dict[str, Any]:
    values = recompute(ctx.spec, ctx.values)
    total_id, grade_id = result_fields(ctx.spec)
    explained = _fed_by_text(ctx)
    tolerance = _precision(ctx)
    for field in ctx.spec.computed():
        if field.id not in ctx.where or field.id in explained:
            continue
        raw = ctx.cell(field.id)
        if raw is None or raw.formula is None or raw.value is None:
            continue  # never recalculated by an application: nothing to compare
        expected = values[field.id]
        if agrees(expected, raw.value, abs_tol=tolerance):
            continue
        if field.id in (total_id, grade_id):
            # What leadership reads: a shown total or grade that the inputs do not give is
            # a faked result (or a workbook saved without recalculating), never accepted.
            ctx.finding(
                "error",
                "tamper-cached-result",
                f"表内显示的 “{field.label}” 与按填报内容重新计算的结果不同：显示的结果被改写，"
                "或保存前没有重新计算（手动计算模式下请按 F9 后再保存）。以重新计算的结果为准。",
                field_id=field.id,
                expected=expected,
                found=raw.value,
            )
            continue
        ctx.finding(
            "warning",
            "cached-result-mismatch",
            f"表内显示的 “{field.label}” 与按规范重新计算的结果不同，以重新计算的结果为准。",
            field_id=field.id,
            expected=expected,
            found=raw.value,
        )
    ctx.report.values = {k: plain_value(v) for k, v in values.items() if not isinstance(v, tuple)}
    total = values.get(total_id) if total_id else None
    if isinstance(total, float):
        ctx.report.total = total
    if grade_id and isinstance(values.get(grade_id), str):
        ctx.report.grade = str(values[grade_id])
    return values


def _fed_by_text(ctx: CheckContext) -> set[str]:
    """Computed fields that read, directly or not, a number cell holding text, or a free-form
    实际完成值 whose text was read as a number ("95%"). How a
    spreadsheet treats such text differs by application and setting (skipped in SUM, read or
    refused in arithmetic), so what it shows there is no evidence of rewriting; the finding at
    the input cell says what to type instead."""
    tainted = set()
    for field in ctx.spec.inputs():
        numeric = field.type in NUMERIC_TYPES
        if not numeric and field.type != "any" or field.id not in ctx.where:
            continue
        if not isinstance(getattr(ctx.cell(field.id), "value", None), str):
            continue
        value = ctx.values.get(field.id)
        # free-form text ("达成") is compared as text everywhere; text read as a number is not
        if numeric or isinstance(value, int | float) and not isinstance(value, bool):
            tainted.add(field.id)
    if not tainted:
        return set()
    fed: set[str] = set()
    for field_id in evaluation_order(ctx.spec):
        field = ctx.spec.fields[field_id]
        reads = (
            field.members
            if field.members is not None
            else [n.name for n in walk(field.formula) if isinstance(n, Name)]
            if field.formula is not None
            else ()
        )
        if any(r in tainted or r in fed for r in reads):
            fed.add(field_id)
    return fed


def plain_value(value: Any) -> Any:
    if value is BLANK:
        return None
    if isinstance(value, ExcelError):
        return value.code
    return value


_MISSING: Final = object()
_CACHE_LIMIT: Final = 512  # results remembered per check


class _CheckCache:
    """A check's result remembered by the values it reads: a merge meets the same values
    again and again (every blank indicator row of every file), and evaluation is a pure
    function of them. The key holds each value's type, so TRUE is not 1 and "1" is not 1;
    -0.0 and 0.0 share a key, which no function of the rule language tells apart."""

    def __init__(self, spec: Spec) -> None:
        self.names = [
            tuple(dict.fromkeys(n.name for n in walk(c.expr) if isinstance(n, Name)))
            for c in spec.checks
        ]
        self.results: list[dict[tuple[Any, ...], Any]] = [{} for _ in spec.checks]

    def result(self, index: int, expr: Node, values: dict[str, Any]) -> Any:
        read = [values.get(name, _MISSING) for name in self.names[index]]
        key = (*read, *[(type(v), *map(type, v)) if type(v) is tuple else type(v) for v in read])
        results = self.results[index]
        found = results.get(key, _MISSING)
        if found is _MISSING:
            if len(results) >= _CACHE_LIMIT:
                results.clear()
            found = results[key] = top_level(evaluate(expr, values))
        return found


_cache: IdentityCache[Spec, _CheckCache] = IdentityCache(_CheckCache, limit=64)


def evaluate_checks(ctx: CheckContext, values: dict[str, Any]) -> None:
    """Each failing check, anchored at its first cell, with the values it looked at."""
    cache = _cache(ctx.spec)
    read_errors: set[str] | None = None
    for index, check in enumerate(ctx.spec.checks):
        result = cache.result(index, check.expr, values)
        if result is True:
            continue
        if check.code == TEXT_IN_NUMBER:
            # The template's "text in a number cell" mark; reading the input already said
            # so at that cell, with what to type: one finding per cell, as the panel counts.
            if read_errors is None:
                read_errors = {
                    f.field for f in ctx.report.findings if f.severity == "error" and f.field
                }
            if set(check.cells) & read_errors:
                continue
        refs = [
            n.name for n in walk(check.expr) if isinstance(n, Name) and n.name in ctx.spec.fields
        ]
        found = "；".join(
            f"{ctx.spec.fields[r].label}：{show(plain_value(values.get(r))) or '（空）'}"
            for r in dict.fromkeys(refs)
            if not ctx.spec.fields[r].is_range
        )
        anchor = next(
            (c for c in check.cells if c in ctx.where),
            next((r for r in refs if r in ctx.where), ""),
        )
        extra = f"（无法计算：{result}）" if isinstance(result, ExcelError) else ""
        expected = (
            ""
            if check.expected is None
            else plain_value(top_level(evaluate(check.expected, values)))
        )
        ctx.finding(check.severity, check.code, check.message + extra, field_id=anchor,
                    expected=expected, found=found)  # fmt: skip
