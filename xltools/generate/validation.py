"""Data validation for input cells: each field type and constraint as Excel can enforce it.

Excel's limits (XlsxWriter enforces them): input titles ≤ 32 characters, prompts ≤ 255,
error messages ≤ 225, inline dropdown lists ≤ 255 characters.
"""

from __future__ import annotations

from typing import Any

from ..spec.constraints import DATE_RANGE, bounds, text_limit
from ..spec.model import Field
from .metadata import LIST_NAME_PREFIX

INLINE_LIST_LIMIT = 255


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _range_text(field: Field) -> str:
    parts = []
    if field.min is not None:
        parts.append(f"不小于 {field.min:g}")
    if field.max is not None:
        parts.append(f"不大于 {field.max:g}")
    return "，".join(parts)


def validation_for(field: Field, list_in_sheet: bool) -> dict[str, Any]:
    """The XlsxWriter data_validation options for one input field."""
    unit = f"（{field.unit}）" if field.unit and field.type != "percent" else ""
    options: dict[str, Any]
    if field.type == "integer":
        low, high = bounds(field)
        options = {
            "validate": "integer",
            "criteria": "between",
            "minimum": int(low),
            "maximum": int(high),
        }
        what = f"整数{unit}"
    elif field.type in ("number", "money"):
        low, high = bounds(field)
        options = {"validate": "decimal", "criteria": "between", "minimum": low, "maximum": high}
        what = f"数值{unit}"
    elif field.type == "percent":
        low, high = bounds(field)
        options = {"validate": "decimal", "criteria": "between", "minimum": low, "maximum": high}
        what = f"百分比（如 95%），范围 {low * 100:g}% 至 {high * 100:g}%"
    elif field.type == "date":
        options = {
            "validate": "date",
            "criteria": "between",
            "minimum": DATE_RANGE[0],
            "maximum": DATE_RANGE[1],
        }
        what = "日期（如 2024-03-15）"
    elif field.type in ("choice", "bool") and field.choices:
        if list_in_sheet:
            source: Any = f"={LIST_NAME_PREFIX}{field.choice_list}"
        else:
            source = list(field.choices)
        options = {"validate": "list", "source": source}
        what = "从下拉列表中选择：" + "、".join(field.choices)
    else:  # text and any
        limit = text_limit(field)
        options = {"validate": "length", "criteria": "<=", "value": limit}
        what = (
            f"文本，不超过 {limit} 个字"
            if field.type == "text"
            else f"数值或文字，不超过 {limit} 个字"
        )
    extra = _range_text(field) if field.type in ("integer", "number", "money") else ""
    prompt = field.prompt or "请填写" + what + (f"，{extra}" if extra else "") + (
        "（必填）" if field.required else ""
    )
    options.update(
        {
            "input_title": _clip(field.label, 32),
            "input_message": _clip(prompt, 255),
            "error_title": "输入不符合要求",
            "error_message": _clip(f"“{field.label}” 应为{what}。", 225),
            "error_type": "stop",
            "ignore_blank": True,
        }
    )
    return options


def needs_list_sheet(field: Field) -> bool:
    """Named lists always go to the hidden list sheet (one definition, many cells); an
    inline list is used only for a field's own short list."""
    if not field.choices:
        return False
    return field.choice_list is not None or len(",".join(field.choices)) > INLINE_LIST_LIMIT
