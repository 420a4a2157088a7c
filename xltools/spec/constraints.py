"""Whether a typed value satisfies its field's type and constraints.

The same limits drive the template's data validation (generate/validation.py), ``fill``'s
refusals and the checker's findings, so the three never disagree on what is acceptable.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from .model import Field

DEFAULT_TEXT_LIMIT: Final = 2000
# The largest amount a number cell takes unless the spec says otherwise: 1000亿. The
# applications keep 15 significant digits, so sums of a hundred such amounts still hold their
# cents exactly; at 1E+15 the cents of a sum were lost differently by LibreOffice's SUM and
# ours (found by tests/test_panel_agrees_libreoffice.py at the validation's own bound).
NUMBER_LIMIT: Final = 1e11
PERCENT_RANGE: Final = (0.0, 10.0)  # 0 % to 1000 % unless the spec narrows it
DATE_RANGE: Final = (dt.date(1990, 1, 1), dt.date(2100, 12, 31))


def bounds(field: Field) -> tuple[float, float]:
    low, high = PERCENT_RANGE if field.type == "percent" else (-NUMBER_LIMIT, NUMBER_LIMIT)
    return (
        field.min if field.min is not None else low,
        field.max if field.max is not None else high,
    )


def text_limit(field: Field) -> int:
    return field.max_length or DEFAULT_TEXT_LIMIT


def violation(field: Field, value: Any) -> tuple[str, str] | None:
    """(code, Chinese message) when ``value`` breaks the field's rules; None when it is fine.
    A blank value is fine here: required fields are a separate finding."""
    if value is None or value == "":
        return None
    kind = field.type
    if kind in ("integer", "number", "money", "percent"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "value-not-a-number", f"“{field.label}” 应填数值，却是 “{value}”"
        if kind == "integer" and not float(value).is_integer():
            return "value-not-an-integer", f"“{field.label}” 应填整数，却是 {value}"
        low, high = bounds(field)
        if not low <= float(value) <= high:
            return (
                "value-out-of-range",
                f"“{field.label}” 应在 {_show(field, low)} 与 {_show(field, high)} 之间，却是 {_show(field, value)}",
            )
        return None
    if kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            return "value-not-a-date", f"“{field.label}” 应填日期（如 2024-03-15），却是 “{value}”"
        if not DATE_RANGE[0] <= value <= DATE_RANGE[1]:
            return (
                "value-out-of-range",
                f"“{field.label}” 的日期 {value} 不在 {DATE_RANGE[0]} 至 {DATE_RANGE[1]} 之间",
            )
        return None
    if kind in ("choice", "bool"):
        if field.choices and str(value) not in field.choices:
            return (
                "value-not-a-choice",
                f"“{field.label}” 只能是 {'、'.join(field.choices)} 之一，却是 “{value}”",
            )
        return None
    text = value if isinstance(value, str) else _plain(value)
    if len(text) > text_limit(field):
        return (
            "value-too-long",
            f"“{field.label}” 最多 {text_limit(field)} 个字，现有 {len(text)} 个字",
        )
    # ``pattern:`` is a check of the spec (value-bad-pattern, see pattern.py), so that the
    # template's panel shows it too; the checker reports it there, once.
    return None


def pattern_violation(field: Field, value: Any) -> tuple[str, str] | None:
    """For ``fill``, which refuses before writing: the pattern check's own expression."""
    if field.type != "text" or not field.pattern or value is None or value == "":
        return None
    from ..expr import evaluate, top_level
    from .pattern import PatternUnsupported, pattern_node

    try:
        node = pattern_node(field.pattern, "x")
    except PatternUnsupported:
        return None  # lint reports the pattern itself
    if top_level(evaluate(node, {"x": value if isinstance(value, str) else _plain(value)})) is True:
        return None
    return "value-bad-pattern", f"“{field.label}” 的格式不对：“{value}”"


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _show(field: Field, value: float) -> str:
    return f"{value * 100:g}%" if field.type == "percent" else f"{value:g}"
