"""A JSON Schema failure said in Chinese: jsonschema's own messages are English."""

from __future__ import annotations

import json
import re
from typing import Any

from ..yaml_errors import full_width_hint

_TYPES = {
    "object": "映射（键: 值）",
    "array": "列表",
    "string": "文字",
    "integer": "整数",
    "number": "数",
    "boolean": "true 或 false",
    "null": "空",
}


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _type(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return " 或 ".join(_TYPES.get(str(n), str(n)) for n in names)


def chinese(error: Any) -> str:
    """``error`` (a ``jsonschema.ValidationError``) in Chinese; its English for a rare kind."""
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        extra = [
            str(k)
            for k in instance
            if k not in known and not any(re.search(p, str(k)) for p in patterns)
        ]
        return f"不认识的键：{'、'.join(extra)}" + full_width_hint("".join(extra))
    if kind == "required":
        missing = [k for k in expected if isinstance(instance, dict) and k not in instance]
        return f"缺少必填的键：{'、'.join(missing) or _show(expected)}"
    if kind == "type":
        return f"应是 {_type(expected)}，而不是 {_show(instance)}"
    if kind == "enum":
        return f"{_show(instance)} 不是可选值之一：{'、'.join(map(_show, expected))}"
    if kind == "const":
        return f"应是 {_show(expected)}，而不是 {_show(instance)}"
    if kind in ("minimum", "exclusiveMinimum"):
        return f"{_show(instance)} 太小：应{'≥' if kind == 'minimum' else '>'} {expected}"
    if kind in ("maximum", "exclusiveMaximum"):
        return f"{_show(instance)} 太大：应{'≤' if kind == 'maximum' else '<'} {expected}"
    if kind == "minItems":
        return f"列表至少应有 {expected} 项"
    if kind == "maxItems":
        return f"列表至多 {expected} 项"
    if kind == "minLength":
        return "不能为空" if expected == 1 else f"至少 {expected} 个字符"
    if kind == "maxLength":
        return f"至多 {expected} 个字符"
    if kind == "pattern":
        return f"{_show(instance)} 的格式不对（应符合 {expected}）"
    if kind == "uniqueItems":
        return "列表中有重复项"
    if kind in ("oneOf", "anyOf"):
        return f"{_show(instance)} 不符合任何一种允许的写法"
    return str(error.message)
