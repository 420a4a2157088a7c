"""Choices, yes/no and text: matching a choice after normalising, operator spellings, bool aliases."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Final

from .common import (
    Cell,
    Parsed,
    _ambiguous,
    _converted,
    _fmt,
    _invalid,
    _ok,
    _quote,
    _unexpected,
    half_width,
)
from .numbers import _OPERATOR_PREFIX_RE

# Spellings of the 符号 choices.
CHOICE_ALIASES: Final[dict[str, str]] = {
    ">=": "≥", "=>": "≥", "≧": "≥", "大于等于": "≥", "大于或等于": "≥", "不低于": "≥",
    "不少于": "≥", "不小于": "≥",
    "<=": "≤", "=<": "≤", "≦": "≤", "小于等于": "≤", "小于或等于": "≤", "不高于": "≤",
    "不超过": "≤", "不多于": "≤", "不大于": "≤",
    "==": "=", "等于": "=",
}  # fmt: skip
# Spellings that only suggest a choice: a strict > is not ≥.
CHOICE_HINTS: Final[dict[str, str]] = {">": "≥", "<": "≤", "大于": "≥", "小于": "≤"}

YES: Final = "是"
NO: Final = "否"
BOOL_ALIASES: Final[dict[str, str]] = {
    **dict.fromkeys(["y", "yes", "true", "t", "√", "✓", "✔", "对", "是的"], YES),
    **dict.fromkeys(["n", "no", "false", "f", "×", "x", "✗", "✘", "错", "不是"], NO),
}


# ---- choices, bool, text, any -------------------------------------------------------------------


def _choice_key(text: str) -> str:
    return re.sub(r"\s+", "", half_width(text)).casefold()


def _as_text(raw: Cell) -> str | None:
    """A non-text cell value as the text it shows, for the text-like types."""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return _fmt(raw) if math.isfinite(raw) else None
    if isinstance(raw, dt.datetime):
        return raw.isoformat(sep=" ") if raw.time() != dt.time(0) else raw.date().isoformat()
    if isinstance(raw, dt.date | dt.time):
        return raw.isoformat()
    return None


def _parse_choice(raw: Cell, unit: str | None, choices: Sequence[str] | None) -> Parsed:
    text = raw if isinstance(raw, str) else _as_text(raw)
    if text is None:
        return _unexpected(raw)
    if choices is None:
        return _ok(text)
    if text in choices:
        return _ok(text)
    key = _choice_key(text)
    matches = [c for c in choices if _choice_key(c) == key]
    code = "parse-choice-normalized"
    if not matches and key in CHOICE_ALIASES and CHOICE_ALIASES[key] in choices:
        matches, code = [CHOICE_ALIASES[key]], "parse-choice-alias"
    if len(matches) == 1:
        return _converted(matches[0], code, f"选项 {_quote(text)} 按 {_quote(matches[0])} 读取")
    listed = "、".join(choices)
    if matches:
        return _ambiguous(
            "parse-ambiguous-choice", f"{_quote(text)} 可对应多个选项；请从 {listed} 中选择一个"
        )
    hint = ""
    if key in CHOICE_HINTS and CHOICE_HINTS[key] in choices:
        suggested = CHOICE_HINTS[key]
        hint = f"（{text} 表示严格大于/小于；如指“不低于/不高于”请选 {suggested}）"
    elif _OPERATOR_PREFIX_RE.match(half_width(text).strip()):
        hint = "（本栏只填符号，数值请填在“年度指标值”“实际完成值”栏）"
    return _invalid("parse-unknown-choice", f"{_quote(text)} 不是可选值{hint}；可选值：{listed}")


def _parse_bool(raw: Cell, unit: str | None, choices: Sequence[str] | None) -> Parsed:
    if isinstance(raw, bool):
        word = YES if raw else NO
        return _converted(
            word, "parse-bool-alias", f"逻辑值 {'TRUE' if raw else 'FALSE'} 按 {_quote(word)} 读取"
        )
    if not isinstance(raw, str):
        shown = _as_text(raw)
        return _invalid(
            "parse-unknown-choice",
            f"{_quote(shown) if shown is not None else '该值'} 不是可选值；请填写 是 或 否",
        )
    if raw in (YES, NO):
        return _ok(raw)
    key = _choice_key(raw)
    alias = {YES: YES, NO: NO}.get(key) or BOOL_ALIASES.get(key)
    if alias is None:
        return _invalid("parse-unknown-choice", f"{_quote(raw)} 不是可选值；请填写 是 或 否")
    return _converted(alias, "parse-bool-alias", f"{_quote(raw)} 按 {_quote(alias)} 读取")


def _parse_text(raw: Cell, unit: str | None, choices: Sequence[str] | None) -> Parsed:
    if isinstance(raw, str):
        return _ok(raw)
    text = _as_text(raw)
    if text is None:
        return _unexpected(raw)
    return _ok(text)
