"""Numbers (integer, number, money, percent): reading a number out of text, target expressions
(≥95%, 约95%), phrases where a number belongs, and the percent scale."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from .common import (
    Cell,
    Parsed,
    _ambiguous,
    _converted,
    _decimal,
    _fmt,
    _invalid,
    _ok,
    _pct,
    _quote,
    _to_float,
    _unexpected,
    half_width,
)
from .dates import _YMD_RE
from .units import _apply_unit

# Phrases units write where a number belongs, each with the hint the message gives. None of them
# is ever converted: the hint is a suggestion for the unit.
NON_NUMERIC_PHRASES: Final[dict[str, str]] = {
    "全覆盖": "如指覆盖率达到 100%，请填 100%（百分比）或实际覆盖的数量；本工具不替你换算",
    "全部覆盖": "如指覆盖率达到 100%，请填 100%（百分比）或实际覆盖的数量；本工具不替你换算",
    "全部完成": "如指完成率 100%，请填 100%，或填实际完成的数量",
    "已完成": "请填实际完成的数量或完成率",
    "完成": "请填实际完成的数量或完成率",
    "按要求完成": "请填实际完成的数量或完成率",
    "按时完成": "请填实际完成的数量或完成率；时间类指标请用日期或百分比",
    "达标": "请填实际达到的数值",
    "合格": "请填实际达到的数值（如合格率）",
    "有效缓解": "这是定性表述：如为定性指标，请在符号列选 定性 并填写完成等级；否则请填数值",
    "有效提升": "这是定性表述：如为定性指标，请在符号列选 定性 并填写完成等级；否则请填数值",
    "明显提升": "这是定性表述：如为定性指标，请在符号列选 定性 并填写完成等级；否则请填数值",
    "显著提升": "这是定性表述：如为定性指标，请在符号列选 定性 并填写完成等级；否则请填数值",
    "逐步提高": "这是定性表述：如为定性指标，请在符号列选 定性 并填写完成等级；否则请填数值",
    "良好": "这是定性表述：如为定性指标，请在符号列选 定性 并填写完成等级；否则请填数值",
    "满意": "请填满意度（百分比）",
    "基本满意": "请填满意度（百分比）",
    "无": "如数值为零请填 0；如不适用请留空并按填报说明处理",
    "没有": "如数值为零请填 0；如不适用请留空并按填报说明处理",
    "不适用": "不适用请留空并按填报说明处理",
    "/": "如数值为零请填 0；如不适用请留空",
    "-": "如数值为零请填 0；如不适用请留空",
    "--": "如数值为零请填 0；如不适用请留空",
    "—": "如数值为零请填 0；如不适用请留空",
    "——": "如数值为零请填 0；如不适用请留空",
    "待定": "请填实际数值",
}

# A value that is really a target expression: an operator, then a number.
_OPERATOR_PREFIX_RE: Final = re.compile(
    r"^(?:>=|<=|=>|=<|==|[<>=≥≤≧≦≮≯]|大于或?等于|小于或?等于|不低于|不少于|不小于|不高于|不超过|"
    r"不多于|不大于|大于|小于|高于|低于|超过|多于|少于|达到|逾)\s*[-+.0-9]"
)
_OPERATOR_SUFFIX_RE: Final = re.compile(r"(?:及|或)?(?:以上|以下|以内)$")
_APPROX_PREFIX_RE: Final = re.compile(r"^(?:约|大约|大概|将近|接近)\s*[-+.0-9]")
_APPROX_SUFFIX_RE: Final = re.compile(r"(?:左右|上下)$")
_RANGE_SUFFIX_RE: Final = re.compile(r"^%?\s*(?:-|~|～|至|到|—|–)\s*[0-9.]")

_NUMBER_RE: Final = re.compile(
    r"^(?P<sign>[+-]?)\s*(?P<digits>[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<exp>[eE][+-]?[0-9]{1,3}(?![0-9]))?\s*(?P<suffix>.*)$",
    re.S,
)
_GROUPED_RE: Final = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?$")
_PARENTHESIZED_RE: Final = re.compile(r"^\(\s*[0-9][0-9,]*(?:\.[0-9]*)?\s*\)\s*%?$")


# ---- reading a number out of text ---------------------------------------------------------------


@dataclass(frozen=True)
class _Reading:
    number: Decimal
    suffix: str  # what follows the number, stripped ("" / "%" / "万元" / "人" / ...)
    notes: tuple[tuple[str, str], ...]  # (code, what was done) for the cosmetic fixes


def _read_number(text: str) -> _Reading | Parsed | None:
    """The number at the start of ``text``; a Parsed for a reading that must stop here; None
    when the text does not start with a number."""
    notes: list[tuple[str, str]] = []
    norm = half_width(text).strip()
    if norm != text.strip():
        notes.append(("parse-full-width", "全角字符已按半角读取"))
    if norm[:1] == "¥":
        norm = norm[1:].lstrip()
        notes.append(("parse-currency-symbol", "货币符号已去除"))
    if _PARENTHESIZED_RE.match(norm):
        return _ambiguous(
            "parse-parenthesized-number",
            f"{_quote(text)} 带括号：可能表示负数（会计写法），也可能是序号；"
            "如为负数请填写 -号（例如 -3），否则请填写纯数字",
        )
    m = _NUMBER_RE.match(norm)
    if m is None:
        return None
    digits = m["digits"]
    if "," in digits:
        if not _GROUPED_RE.match(digits):
            if m["suffix"].strip() not in ("", "%"):
                return None  # "1,2,3号楼": words, not a number
            return _ambiguous(
                "parse-ambiguous-separator",
                f"{_quote(text)} 中的逗号不是规范的千分位分隔（每三位一组），可能是小数点也可能是"
                "千分位；请填写不带逗号的数字，小数用 . 表示",
            )
        notes.append(("parse-thousands-separator", "千分位逗号已去除"))
        digits = digits.replace(",", "")
    if digits.endswith("."):
        digits = digits[:-1]
    try:
        number = Decimal(m["sign"] + digits + (m["exp"] or ""))
    except InvalidOperation:  # pragma: no cover - the pattern only lets decimal syntax through
        return None
    return _Reading(number, m["suffix"].strip(), tuple(notes))


_NOTE_RANK: Final = ("parse-thousands-separator", "parse-full-width", "parse-currency-symbol")


def _text_converted(
    text: str, value: float, shown: str, code: str | None, reading: _Reading, extra: str = ""
) -> Parsed:
    """The converted result of a number read out of text: the strongest code wins, the message
    says what was read, how, and every cosmetic fix made on the way."""
    if code is None:
        noted = {c for c, _ in reading.notes}
        code = next((c for c in _NOTE_RANK if c in noted), "parse-text-as-number")
    fixes = "、".join(what for _, what in reading.notes)
    message = f"文本 {_quote(text)} 按 {shown} 读取"
    if extra:
        message += f"（{extra}）"
    if fixes:
        message += f"；{fixes}"
    return _converted(value, code, message)


def _target_expression(text: str) -> Parsed | None:
    """≥95%, 不低于90, 95%以上 (invalid) and 约95%, 95%左右 (ambiguous)."""
    norm = half_width(text).strip()
    number_first = _NUMBER_RE.match(norm)
    if _OPERATOR_PREFIX_RE.match(norm) or (
        number_first and _OPERATOR_SUFFIX_RE.search(number_first["suffix"].strip())
    ):
        return _invalid(
            "parse-operator-in-value",
            f"{_quote(text)} 是指标的目标表述，不是一个数值：比较符号（≥、≤、=）应填在“符号”列，"
            "本格只填数值（例如 95%）",
        )
    if _APPROX_PREFIX_RE.match(norm) or (
        number_first and _APPROX_SUFFIX_RE.search(number_first["suffix"].strip())
    ):
        return _ambiguous(
            "parse-approximate",
            f"{_quote(text)} 是约数，无法据以计分；请填写确切数值",
        )
    return None


def _expected(field_type: str) -> str:
    return "百分比（例如 95%）" if field_type == "percent" else "数值"


# In a percentage (a coverage rate) these phrases can only mean 100 %.
FULL_COVERAGE: Final = frozenset({"全覆盖", "全部覆盖", "全面覆盖", "100%覆盖"})


def _not_a_number(text: str, field_type: str) -> Parsed:
    norm = re.sub(r"\s+", "", half_width(text))
    if field_type == "percent" and norm in FULL_COVERAGE:
        return _converted(
            1.0,
            "parse-full-coverage",
            f"{_quote(text)} 按 100% 读取；请直接填 100%，表内公式才会计分",
        )
    expected = _expected(field_type)
    hint = NON_NUMERIC_PHRASES.get(norm)
    if hint is not None:
        return _invalid(
            "parse-not-a-number", f"此处需要填写{expected}，{_quote(text)} 是文字表述；{hint}"
        )
    return _invalid(
        "parse-not-a-number", f"此处需要填写{expected}，{_quote(text)} 不是数值；请填写数字"
    )


# ---- numbers ------------------------------------------------------------------------------------


def _real_check(number: Decimal, field_type: str, shown: str) -> Parsed | None:
    """What an integer or percent field says about a number (None: nothing to say)."""
    if field_type == "integer" and number != number.to_integral_value():
        return _invalid("parse-not-an-integer", f"{shown} 不是整数；本栏需要填写整数")
    return None


def _percent_reading(number: Decimal, shown: str) -> tuple[Decimal, str | None] | Parsed:
    """A bare number in a percent field: (fraction, code or None when taken as is) or a Parsed."""
    size = abs(number)
    if size <= 1:
        return number, None
    if size < 2:
        return _ambiguous(
            "parse-ambiguous-percent",
            f"{shown} 可能是 {_pct(number)}（按比例存储），也可能是 {_fmt(number)}%；"
            f"请直接输入带 % 的值（例如 {_pct(number)} 或 {_fmt(number)}%）",
        )
    if size <= 100:
        return number / 100, "parse-percent-scale"
    return _ambiguous(
        "parse-ambiguous-percent",
        f"{shown} 超过 100：可能是 {_fmt(number)}%，也可能是输入错误；"
        f"如确为 {_fmt(number)}% 请输入带 % 的值",
    )


def _parse_real(raw: int | float, field_type: str) -> Parsed:
    if isinstance(raw, float) and not math.isfinite(raw):
        return _invalid("parse-not-finite", f"{raw} 不是有限数值；请填写数字")
    number = _decimal(raw)
    value = _to_float(number)
    if value is None:
        return _invalid("parse-not-finite", "数值超出可处理范围；请核对")
    shown = f"数值 {_fmt(number)}"
    failed = _real_check(number, field_type, shown)
    if failed is not None:
        return failed
    if field_type == "percent":
        reading = _percent_reading(number, shown)
        if isinstance(reading, Parsed):
            return reading
        fraction, code = reading
        if code is not None:
            return _converted(
                float(fraction),
                code,
                f"{shown} 按 {_fmt(number)}% 读取（百分比以小数存储，即 {_fmt(fraction)}）；"
                f"请直接输入 {_fmt(number)}%",
            )
    return _ok(value)


def _parse_numeric_text(text: str, field_type: str, unit: str | None) -> Parsed:
    stop = _target_expression(text)
    if stop is not None:
        return stop
    reading = _read_number(text)
    if reading is None:
        return _not_a_number(text, field_type)
    if isinstance(reading, Parsed):
        return reading
    written_date = _YMD_RE.match(half_width(text).strip())
    if written_date is not None and not written_date["rest"].strip():
        return _invalid(
            "parse-date-as-number", f"{_quote(text)} 是日期，本栏需要{_expected(field_type)}"
        )
    if _RANGE_SUFFIX_RE.match(reading.suffix):
        return _invalid(
            "parse-range", f"{_quote(text)} 是一个区间，不是一个数值；请填写一个确切的数值"
        )
    number, suffix = reading.number, reading.suffix
    code: str | None = None
    extra = ""
    if suffix == "%":
        if field_type == "percent":
            number, code = number / 100, "parse-percent-text"
            extra = f"即 {_fmt(number)}"
        elif unit == "%":
            code, extra = "parse-unit-suffix", "本栏单位为 %"
        elif field_type == "money":
            return _invalid(
                "parse-unit-mismatch",
                f"{_quote(text)} 是百分比，本栏需要填写金额（{unit or '数值'}）",
            )
        else:
            return _ambiguous(
                "parse-ambiguous-percent",
                f"{_quote(text)} 带 %，本栏需要数值：可能是 {_fmt(number)}，也可能是 "
                f"{_fmt(number / 100)}；请按本栏单位填写纯数字",
            )
    elif suffix and field_type == "percent":
        return _invalid(
            "parse-unit-mismatch", f"{_quote(text)} 不是百分比；请填写百分比（例如 95%）"
        )
    elif suffix:
        scaled = _apply_unit(number, suffix, unit, field_type)
        if scaled is None:
            return _not_a_number(text, field_type)
        if isinstance(scaled, Parsed):
            return scaled
        number, code, extra = scaled
    shown = f"{_quote(text)}"
    failed = _real_check(number, field_type, shown)
    if failed is not None:
        return failed
    if field_type == "percent" and suffix == "":
        fraction = _percent_reading(number, shown)
        if isinstance(fraction, Parsed):
            return fraction
        number, code = fraction
        if code is not None:
            extra = f"按百分比读取，即 {_fmt(number)}；请直接输入 {_pct(number)}"
    value = _to_float(number)
    if value is None:
        return _invalid("parse-not-finite", f"{_quote(text)} 超出可处理的数值范围；请核对")
    display = _fmt(number)
    if field_type == "money" and unit:
        display += f" {unit}"
    elif field_type == "percent":
        display = f"{_pct(number)}"
    return _text_converted(text, value, display, code, reading, extra)


def _parse_numeric(raw: Cell, field_type: str, unit: str | None) -> Parsed:
    if isinstance(raw, bool):
        return _invalid(
            "parse-bool-as-number", f"单元格是逻辑值 {'TRUE' if raw else 'FALSE'}，本栏需要数值"
        )
    if isinstance(raw, int | float):
        return _parse_real(raw, field_type)
    if isinstance(raw, str):
        return _parse_numeric_text(raw, field_type, unit)
    if isinstance(raw, dt.date | dt.time):
        return _invalid(
            "parse-date-as-number",
            "单元格是日期/时间，本栏需要数值；请把单元格格式设为“常规”或“数值”后重新填写",
        )
    return _unexpected(raw)
