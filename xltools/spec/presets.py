"""A value the spec fixes (a row's 分值, a preset 标准值, a field's ``value``) held to its own
column's type and limits: ``weight: 五`` in a number column would be written as text, skipped
by every formula, and fail in every return — lint says so at its line instead."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .model import NUMERIC_TYPES, Field

_TYPE_NAMES = {"integer": "整数", "number": "数", "money": "金额", "percent": "百分比"}


def preset_problems(field: Field, value: Any) -> list[tuple[str, str]]:
    """(code, Chinese message) for each way ``value`` does not fit ``field``."""
    if value is None or value == "":
        return []  # a blank preset: the cell is left empty
    name = f"“{field.label}”（{field.id}）的预设值 {_show(value)}"
    if field.type in NUMERIC_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = "请写阿拉伯数字（如 5、0.95）" + (
                "，百分比写成小数或 95%" if field.type == "percent" else ""
            )
            return [("spec-preset-type", f"{name}不是{_TYPE_NAMES[field.type]}：{hint}")]
        if field.type == "integer" and not float(value).is_integer():
            return [("spec-preset-type", f"{name}不是整数")]
        return _limits(name, float(value), field)
    if field.type == "date":
        if not isinstance(value, dt.date):
            return [("spec-preset-type", f"{name}不是日期：请写成 2024-06-30")]
        return []
    if field.choices and field.type in ("choice", "bool"):
        if str(value) not in field.choices:
            options = "、".join(field.choices)
            return [("spec-preset-not-a-choice", f"{name}不在可选值（{options}）中")]
        return []
    text = str(value)
    problems = []
    if field.max_length is not None and len(text) > field.max_length:
        problems.append(
            ("spec-preset-out-of-range", f"{name}有 {len(text)} 个字，超过上限 {field.max_length}")
        )
    if field.pattern and field.type == "text":
        try:
            matches = re.fullmatch(field.pattern, text) is not None
        except re.error:
            matches = True  # the pattern itself is reported by its own lint
        if not matches:
            problems.append(("spec-preset-pattern", f"{name}不符合该字段的格式 {field.pattern}"))
    return problems


def _limits(name: str, value: float, field: Field) -> list[tuple[str, str]]:
    if field.min is not None and value < field.min:
        return [("spec-preset-out-of-range", f"{name}小于下限 {_number(field.min)}")]
    if field.max is not None and value > field.max:
        return [("spec-preset-out-of-range", f"{name}大于上限 {_number(field.max)}")]
    return []


def _show(value: Any) -> str:
    return f"“{value}”" if isinstance(value, str) else str(value)


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)
