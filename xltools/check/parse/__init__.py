"""Read one input cell the way a careful reviewer would.

``parse_value(raw, field_type, unit=..., choices=...)`` takes the Python value openpyxl gives for a
cell (int, float, str, bool, datetime, None, or an error string such as ``"#DIV/0!"``) and returns
a ``Parsed``: the value the checker works on, a status and, when the reading deserves a word, a
stable kebab-case English ``code`` and a Chinese ``message``. The function is pure, never raises
for a cell value (an unknown *field type* is a programming error and raises ``ValueError``).

Statuses
  ok          the cell holds what the field wants.
  converted   exactly one sensible reading: the value is usable, the message says what was read
              and how it was understood (an informational finding).
  ambiguous   two readings are plausible: no value; the message says what is expected and what to do.
  invalid     no reading: no value; same kind of message.
  blank       None, empty text, whitespace-only text (full-width space included).

Every type
  * Excel errors (#DIV/0!, #REF!, #N/A, #VALUE!, #NAME?, #NUM!, #NULL!, ...): invalid,
    ``parse-excel-error``.
  * Control characters (C0/C1 except tab, LF, CR; zero-width spaces; BOM) are stripped and
    reported: ``parse-control-characters`` (converted). Text made only of them is blank.
  * A value of a kind the field cannot hold (a date in a number field, TRUE in a money field, a
    time of day, ...) is invalid (``parse-date-as-number``, ``parse-bool-as-number``,
    ``parse-unexpected-type``).

Numbers (integer, number, money, percent; ``any`` where noted). Values come back as float.
  * A real number is ok. NaN and infinity are invalid (``parse-not-finite``).
  * Text "12", " 12 ", "-3", "+3", "1.2E+05", "12.": converted, ``parse-text-as-number``.
  * Full-width digits and ．，％－＋ (and the minus sign U+2212): ``parse-full-width``.
  * "1,234.5" with well-formed groups of three: ``parse-thousands-separator``. "1,23" or "12,5"
    may hold a decimal comma: ambiguous, ``parse-ambiguous-separator``.
  * "（3）" / "(3)": an accounting negative or a list number: ambiguous,
    ``parse-parenthesized-number`` (write -3 for a negative).
  * "≥95%", ">=90", "不低于90", "95%以上": a target expression, not a value: invalid,
    ``parse-operator-in-value`` (the operator belongs in the 符号 column). Also in ``any``.
  * "约95%", "95%左右": ambiguous, ``parse-approximate``. Also in ``any``.
  * "12-15", "90%~95%": a range: invalid, ``parse-range`` (stays text in ``any``).
  * "2023-03-15" typed into a number field: invalid, ``parse-date-as-number``.
  * Phrases where a number belongs ("全覆盖", "按要求完成", "有效缓解", "无", "/", ...; the table
    ``NON_NUMERIC_PHRASES`` holds them with a hint each): invalid, ``parse-not-a-number``. The
    hint for 全覆盖 suggests 100%. Only in a percent field (a coverage rate) is 全覆盖 unambiguous:
    there it reads as 100 %, converted, ``parse-full-coverage``; in a count or an amount the
    unit must say how many. Any other text: invalid, ``parse-not-a-number``.
  * "12.5%" where the field is not a percent: 12.5 or 0.125? ambiguous, ``parse-ambiguous-percent``
    (a number field whose unit is "%" takes it as 12.5; a money field: invalid,
    ``parse-unit-mismatch``).

Units written after the number. A unit is split into a magnitude (万 = 1e4, 亿 = 1e8; money also
千元, 百万元) and a base (元, 人, 人次, 公里, ...); ``unit`` is the field's unit (or, for an ``any``
cell of an indicator row, the row's 单位).
  * the suffix is the field's unit ("12人" in a 人 field): converted, ``parse-unit-suffix``
    (``parse-count-unit`` for counting units 人/个/项/次/家/人次/件/户/...).
  * same base, other magnitude: scaled exactly (decimal arithmetic): "63万" or "63万元" in a 万元
    field → 63, "1.2亿" → 12000 万元, "63万" in a 元 field → 630000 (``parse-wan-suffix``);
    "630000元" in a 万元 field → 63 (``parse-unit-conversion``).
  * no field unit: counting and measuring units are stripped ("12人" → 12, ``parse-count-unit``);
    "1.2万" / "1.2万人" → 12000 in integer/number (``parse-wan-suffix``). A 元-family suffix, and
    in ``any`` and ``money`` any 万/亿 suffix, is ambiguous: with no unit to convert into, 63万 may
    be meant as 63 (万元 in the 单位 column) or as 630000.
  * another base ("12个" in a 人 field): ambiguous, ``parse-unit-mismatch``; a non-money unit in a
    money field ("63人", "63%") is invalid, ``parse-unit-mismatch``.
  * Negative money is read as written: the checker judges signs.

Integer: the value must be whole after any scaling: 12.5 or "12.5人" is invalid,
``parse-not-an-integer``; "1.2万人" → 12000 is fine.

Percent (stored as a fraction, 0.9584 shown as 95.84%):
  * a number with -1 ≤ x ≤ 1 is ok as a fraction. A bare 1 is 100%: the fraction reading is what
    Excel stores for a cell shown as 100%, and 1% is rarer than full completion.
  * 2 ≤ |x| ≤ 100: the unit typed 95 for 95%: converted to 0.95, ``parse-percent-scale``.
  * 1 < |x| < 2: 1.2 may be 120% (over-completion rates are common) or 1.2%: ambiguous,
    ``parse-ambiguous-percent``. (This narrows "convert whatever is in (1, 100]".)
  * |x| > 100: 150% or a slip: ambiguous, ``parse-ambiguous-percent``.
  * text "95%" → 0.95 and "150%" → 1.5 (the % sign leaves no doubt): ``parse-percent-text``;
    text "95" follows the number rule (``parse-percent-scale``); text "0.95" → 0.95,
    ``parse-text-as-number``.
  * any other unit after the number: invalid, ``parse-unit-mismatch``.

Date (returned as ``datetime.date``):
  * date ok; datetime at midnight ok, with a time of day converted (``parse-date-time-dropped``).
  * Excel serial numbers for 1990-01-01..2099-12-31 (e.g. 45000 → 2023-03-15), as a number or as
    5-digit text: converted, ``parse-date-serial``; a whole number 1900..2100 is a year alone:
    ambiguous, ``parse-date-year-only``; other numbers are invalid, ``parse-not-a-date``.
  * 20230315 (number or text), "2023年3月15日", "2023-03-15", "2023/3/15", "2023.3.15",
    "2023-03-15 00:00:00": converted, ``parse-date-text``.
  * "2023年3月", "2023-03": no day: ambiguous, ``parse-date-no-day``; "12月31日完成", "12/31":
    no year: ambiguous, ``parse-date-no-year``; "2023年": ``parse-date-year-only``;
    "3/15/2023": day/month order: ``parse-date-order``; "23.3.15": ``parse-date-two-digit-year``;
    "2023年12月31日前": a full date with words around it: ``parse-date-extra-text``.
  * "2023-02-30", month 13: invalid, ``parse-impossible-date``; anything else: ``parse-not-a-date``.

Choice (value is the canonical choice string):
  * exact match ok; a match after removing whitespace, full-width → half-width and case folding:
    converted, ``parse-choice-normalized``; operator spellings (">=", "≧", "大于等于", "不低于",
    "<=", "≦", "不超过", "==", ...) → ≥ / ≤ / = when that choice exists: ``parse-choice-alias``;
    otherwise invalid, ``parse-unknown-choice``, listing the choices (">" hints at ≥).
  * without a choice list any text is ok.

Bool (value is "是" or "否", what the cell should hold):
  * 是 / 否 ok; "Y", "yes", "true", "√", "✓", "对", "是的" → 是 and "N", "no", "false", "×", "X",
    "错", "不是" → 否 (also the Excel TRUE / FALSE values): converted, ``parse-bool-alias``;
    anything else (numbers included): invalid, ``parse-unknown-choice``.

Text: text is ok as typed (length is not this function's job). A number, bool or date in a text
cell is ok and comes back as its text ("12", "12.5", "TRUE", "2023-03-15").

Any (number or text):
  * numbers stay numbers; TRUE/FALSE stay bool; dates come back as dates.
  * numeric text as for number ("1,234" → 1234); "96%" → 0.96 (``parse-percent-text``, whatever
    the row unit); "12人" → 12 (unit stripped, compare with the 单位 column).
  * operators and approximations as for numbers; any other text stays text (ok).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Final

from .choices import (
    BOOL_ALIASES,
    CHOICE_ALIASES,
    CHOICE_HINTS,
    NO,
    YES,
    _parse_bool,
    _parse_choice,
    _parse_text,
)
from .common import (
    _CONTROL_RE,
    BLANK,
    EXCEL_ERRORS,
    Cell,
    Parsed,
    Status,
    Value,
    _converted,
    _fmt,
    _invalid,
    _ok,
    _pct,
    _to_float,
    _unexpected,
    half_width,
)
from .dates import _parse_date
from .numbers import (
    FULL_COVERAGE,
    NON_NUMERIC_PHRASES,
    _parse_numeric,
    _parse_real,
    _read_number,
    _target_expression,
    _text_converted,
)
from .units import COUNT_UNITS, MAGNITUDES, MONEY_UNITS, _apply_unit


def _parse_any(raw: Cell, unit: str | None, choices: Sequence[str] | None) -> Parsed:
    if isinstance(raw, bool):
        return _ok(raw)
    if isinstance(raw, int | float):
        return _parse_real(raw, "any")
    if isinstance(raw, dt.datetime):
        return _parse_date(raw, None, None)
    if isinstance(raw, dt.date):
        return _ok(raw)
    if not isinstance(raw, str):
        return _unexpected(raw)
    stop = _target_expression(raw)
    if stop is not None:
        return stop
    reading = _read_number(raw)
    if reading is None:
        return _ok(raw)
    if isinstance(reading, Parsed):
        return reading
    suffix = reading.suffix
    if suffix == "%":
        fraction = reading.number / 100
        value = _to_float(fraction)
        if value is None:
            return _ok(raw)
        return _text_converted(
            raw, value, _pct(fraction), "parse-percent-text", reading, f"即 {_fmt(fraction)}"
        )
    number, extra = reading.number, ""
    code: str | None = None
    if suffix:
        scaled = _apply_unit(reading.number, suffix, unit, "any")
        if scaled is None:
            return _ok(raw)  # "3个月内", "90%-95%": text
        if isinstance(scaled, Parsed):
            return scaled
        number, code, extra = scaled
    value = _to_float(number)
    if value is None:
        return _ok(raw)
    shown = f"{_fmt(number)} {unit}" if suffix and unit else _fmt(number)
    return _text_converted(raw, value, shown, code, reading, extra)


def _numeric_handler(field_type: str) -> Callable[[Cell, str | None, Sequence[str] | None], Parsed]:
    def handler(raw: Cell, unit: str | None, choices: Sequence[str] | None) -> Parsed:
        return _parse_numeric(raw, field_type, unit)

    return handler


_HANDLERS: Final[dict[str, Callable[[Cell, str | None, Sequence[str] | None], Parsed]]] = {
    "text": _parse_text,
    "integer": _numeric_handler("integer"),
    "number": _numeric_handler("number"),
    "money": _numeric_handler("money"),
    "percent": _numeric_handler("percent"),
    "date": _parse_date,
    "choice": _parse_choice,
    "bool": _parse_bool,
    "any": _parse_any,
}


# ---- entry point --------------------------------------------------------------------------------


def parse_value(
    raw: Cell,
    field_type: str,
    *,
    unit: str | None = None,
    choices: Sequence[str] | None = None,
) -> Parsed:
    """Read the cell value ``raw`` for a field of ``field_type`` (see the module docstring)."""
    unit = unit.strip() or None if unit else None
    handler = _HANDLERS.get(field_type)
    if handler is None:
        raise ValueError(f"unknown field type {field_type!r}")
    if raw is None:
        return BLANK
    if not isinstance(raw, str):
        return handler(raw, unit, choices)
    cleaned = _CONTROL_RE.sub("", raw)
    if not cleaned.strip():
        return BLANK
    if cleaned.strip().upper() in EXCEL_ERRORS:
        return _invalid(
            "parse-excel-error",
            f"单元格是 Excel 错误值 {cleaned.strip()}；输入栏应填写数据本身，请修正公式或直接填写数值",
        )
    parsed = handler(cleaned, unit, choices)
    if cleaned == raw:
        return parsed
    removed = ", ".join(sorted({f"U+{ord(c):04X}" for c in _CONTROL_RE.findall(raw)}))
    note = f"已去除不可见的控制字符（{removed}）"
    if parsed.status == "ok":
        return _converted(parsed.value, "parse-control-characters", note)
    if parsed.status == "converted":
        return _converted(parsed.value, parsed.code or "parse-control-characters",
                          f"{parsed.message}；{note}")  # fmt: skip
    return parsed


__all__ = [
    "BLANK",
    "BOOL_ALIASES",
    "CHOICE_ALIASES",
    "CHOICE_HINTS",
    "COUNT_UNITS",
    "EXCEL_ERRORS",
    "FULL_COVERAGE",
    "MAGNITUDES",
    "MONEY_UNITS",
    "NON_NUMERIC_PHRASES",
    "NO",
    "YES",
    "Cell",
    "Parsed",
    "Status",
    "Value",
    "half_width",
    "parse_value",
]
