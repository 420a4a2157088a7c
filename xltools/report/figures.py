"""Values as the spec formats them in the template: money ``#,##0.00``, number ``0.00``,
percent ``0.00%``, integer ``0``, dates 2024年3月5日; an indicator's target and actual as
percents in a row whose unit is ``%`` (the cell holds the fraction the rules compute with).

Only recomputed values come here (the checker's ``Report.values``): never a cached result."""

from __future__ import annotations

import math
from typing import Any

from ..engine import from_serial
from ..spec.model import Field


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def money(value: Any) -> str:
    found = number(value)
    return "" if found is None else f"{found:,.2f}"


def score(value: Any) -> str:
    found = number(value)
    return "" if found is None else f"{found:.2f}"


def percent(value: Any) -> str:
    found = number(value)
    return "" if found is None else f"{found * 100:.2f}%"


def general(value: Any) -> str:
    """A free-form value (type ``any``) as the General format shows it: up to ten
    significant digits, no thousands separator (0.7184, 12411, 184.58)."""
    found = number(value)
    if found is not None:
        if found.is_integer() and abs(found) < 1e15:
            return str(int(found))
        return f"{found:.10g}"
    return text_of(value)


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value).strip()


def show(field: Field, value: Any) -> str:
    """A field's value as its cell shows it in the template."""
    if value is None or value == "":
        return ""
    kind = field.type
    if kind == "money":
        return money(value)
    if kind == "percent":
        return percent(value)
    if kind == "number":
        return score(value)
    if kind == "integer":
        found = number(value)
        return text_of(value) if found is None else f"{found:.0f}"
    if kind == "date":
        found = number(value)
        if found is None:
            return text_of(value)
        day = from_serial(found)
        return f"{day.year}年{day.month}月{day.day}日"
    if kind == "bool":
        return "是" if value is True else "否" if value is False else text_of(value)
    if kind == "any":
        return general(value)
    return text_of(value)


def with_unit(field: Field, value: Any) -> str:
    """The value followed by its unit when the label does not carry it already."""
    shown = show(field, value)
    unit = field.unit or ""
    if not shown or not unit or unit == "%" or unit in field.label:
        return shown
    return f"{shown} {unit}"
