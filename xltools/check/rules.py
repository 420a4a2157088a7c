"""Recompute every derived value from the inputs, compare with what the workbook shows, and
evaluate the spec's cross-field checks and the checks every indicator row implies."""

from __future__ import annotations

from typing import Any

from ..engine import agrees, recompute
from ..expr import BLANK, ExcelError, Name, evaluate, top_level
from ..expr.ast import walk
from ..spec.model import IndicatorBlock, Spec
from .context import CheckContext, show
from .parse import parse_value

# A quantitative target beaten by this factor may have been set too low (domain.md).
TARGET_TOO_LOW_FACTOR = 1.5


def result_fields(spec: Spec) -> tuple[str | None, str | None]:
    """(total score field, grade field): the grade rule's score parameter and the grade."""
    for field in spec.fields.values():
        if field.formula_source == "rule:grade" and field.formula is not None:
            names = [n.name for n in walk(field.formula) if isinstance(n, Name)]
            return (names[0] if names else None), field.id
    return None, None


def recompute_and_compare(ctx: CheckContext) -> dict[str, Any]:
    values = recompute(ctx.spec, ctx.values)
    total_id, grade_id = result_fields(ctx.spec)
    for field in ctx.spec.computed():
        if field.id not in ctx.where:
            continue
        raw = ctx.cell(field.id)
        if raw is None or raw.formula is None or raw.value is None:
            continue  # never recalculated by an application: nothing to compare
        expected = values[field.id]
        if agrees(expected, raw.value, abs_tol=1e-6):
            continue
        decisive = field.id in (total_id, grade_id)
        ctx.finding(
            "error" if decisive else "warning",
            "cached-result-mismatch",
            f"表内显示的 “{field.label}” 与按规范重新计算的结果不同"
            + (
                "：以重新计算的结果为准（表内结果可能被改写或未重新计算）。"
                if decisive
                else "，以重新计算的结果为准。"
            ),
            field_id=field.id,
            expected=expected,
            found=raw.value,
        )
    ctx.report.values = {k: _plain(v) for k, v in values.items() if not isinstance(v, tuple)}
    total = values.get(total_id) if total_id else None
    if isinstance(total, float):
        ctx.report.total = total
    if grade_id and isinstance(values.get(grade_id), str):
        ctx.report.grade = str(values[grade_id])
    return values


def _plain(value: Any) -> Any:
    if value is BLANK:
        return None
    if isinstance(value, ExcelError):
        return value.code
    return value


def evaluate_checks(ctx: CheckContext, values: dict[str, Any]) -> None:
    for check in ctx.spec.checks:
        result = top_level(evaluate(check.expr, values))
        if result is True:
            continue
        refs = [
            n.name for n in walk(check.expr) if isinstance(n, Name) and n.name in ctx.spec.fields
        ]
        found = "，".join(
            f"{ctx.spec.fields[r].label}={show(_plain(values.get(r)))}"
            for r in dict.fromkeys(refs)
            if not ctx.spec.fields[r].is_range
        )
        anchor = next(
            (c for c in check.cells if c in ctx.where),
            next((r for r in refs if r in ctx.where), ""),
        )
        extra = f"（无法计算：{result}）" if isinstance(result, ExcelError) else ""
        ctx.finding(
            check.severity,
            f"check-{check.id}",
            check.message + extra,
            field_id=anchor,
            expected=check.source,
            found=found,
        )


def row_checks(ctx: CheckContext, values: dict[str, Any]) -> None:
    """Checks every standard indicator row implies: a quantitative target needs a number, a
    qualitative self-score stays in its band, a target beaten far may have been set too low."""
    for sheet in ctx.spec.sheets:
        for block in sheet.blocks:
            if not isinstance(block, IndicatorBlock):
                continue
            keys = {c.key for c in block.columns}
            if not {"op", "actual", "target", "weight"} <= keys:
                continue
            for group in block.groups:
                for row in group.leaf_rows():
                    _row(ctx, values, row)


def _row(ctx: CheckContext, values: dict[str, Any], row: dict[str, str]) -> None:
    op = values.get(row["op"])
    actual, target = values.get(row["actual"]), values.get(row["target"])
    if op in ("≥", "≤", "=") and isinstance(actual, str) and actual.strip():
        hint = parse_value(actual, "number").message or "请填写数值"
        message = f"定量指标（{op}）的实际完成值须为数值：{hint}"
        ctx.finding("error", "value-not-a-number", message, field_id=row["actual"], found=actual)
    if op in ("≥", "≤", "=") and isinstance(target, str) and target.strip():
        message = f"定量指标（{op}）的年度指标值须为数值，符号写在“符号”列。"
        ctx.finding("error", "target-not-a-number", message, field_id=row["target"], found=target)
    a, t, w = _number(actual), _number(target), _number(values.get(row["weight"]))
    if op == "≥" and a is not None and t is not None and t > 0 and a > TARGET_TOO_LOW_FACTOR * t:
        message = (
            f"实际完成值 {show(a)} 远超年度指标值 {show(t)}（超过 {TARGET_TOO_LOW_FACTOR:g} 倍）："
            "指标值可能定得过低，请核实。"
        )
        ctx.finding(
            "warning", "target-may-be-low", message, field_id=row["actual"], expected=t, found=a
        )
    if op == "定性" and "level" in row and "self_score" in row and w is not None:
        level = values.get(row["level"])
        score = _number(values.get(row["self_score"]))
        bands = {"达成": (0.8, 1.0), "部分达成": (0.6, 0.8), "未达成": (0.0, 0.6)}
        if not isinstance(level, str) or level not in bands:
            message = "定性指标须选择完成等级（达成 / 部分达成 / 未达成）。"
            ctx.finding("error", "level-required", message, field_id=row["level"])
        elif score is not None:
            low, high = (w * b for b in bands[level])
            if not low - 1e-9 <= score <= high + 1e-9:
                message = f"自评分 {show(score)} 不在 “{level}” 对应的区间 {show(low)}–{show(high)} 内，按区间边界计分。"
                band = f"{show(low)}–{show(high)}"
                ctx.finding(
                    "warning",
                    "score-outside-band",
                    message,
                    field_id=row["self_score"],
                    expected=band,
                    found=score,
                )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, float | int) and not isinstance(value, bool) else None
