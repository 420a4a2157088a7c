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
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, Literal

Status = Literal["ok", "converted", "ambiguous", "invalid", "blank"]
Value = float | str | bool | dt.date | None


@dataclass(frozen=True)
class Parsed:
    value: Value
    status: Status
    code: str | None = None
    message: str | None = None

    @property
    def usable(self) -> bool:
        """True when ``value`` can be used (ok or converted)."""
        return self.status in ("ok", "converted")


def _ok(value: Value) -> Parsed:
    return Parsed(value, "ok", None, None)


def _converted(value: Value, code: str, message: str) -> Parsed:
    return Parsed(value, "converted", code, message)


def _ambiguous(code: str, message: str) -> Parsed:
    return Parsed(None, "ambiguous", code, message)


def _invalid(code: str, message: str) -> Parsed:
    return Parsed(None, "invalid", code, message)


BLANK: Final = Parsed(None, "blank", None, None)

# ---- tables -------------------------------------------------------------------------------------

EXCEL_ERRORS: Final = frozenset(
    {"#DIV/0!", "#REF!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
     "#GETTING_DATA"}
)  # fmt: skip

# Full-width ASCII (U+FF01..U+FF5E) to half-width, plus the ideographic space, the minus sign and
# the small/full-width yen and percent signs.
_HALF_WIDTH: Final[dict[int, int]] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {
    0x3000: 0x20,
    0x2212: 0x2D,
    0xFE63: 0x2D,
    0xFE6A: 0x25,
    0xFFE5: 0xA5,
}

# Invisible characters removed from text (and reported). Bidi embeddings, overrides and
# isolates (U+202A–U+202E, U+2066–U+2069) too: no form needs them, and U+202E makes a unit
# name or a figure read backwards on the reviewer's screen.
_CONTROL_RE: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069]"
)

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

# Units a count is given in: stripped where no other unit is declared.
COUNT_UNITS: Final = frozenset(
    [
        "人",
        "个",
        "项",
        "次",
        "家",
        "人次",
        "件",
        "户",
        "台",
        "套",
        "所",
        "座",
        "场",
        "期",
        "篇",
        "份",
        "名",
        "批",
        "处",
        "条",
        "辆",
        "本",
        "册",
        "张",
        "株",
        "棵",
        "头",
        "只",
        "间",
        "栋",
        "村",
        "校",
        "吨",
        "亩",
        "公顷",
        "公里",
        "千米",
        "米",
        "平方米",
        "平方公里",
        "立方米",
        "千克",
        "公斤",
        "天",
        "日",
        "小时",
        "个月",
        "周",
        "年",
        "分钟",
        "千瓦",
        "兆瓦",
    ]
)
MONEY_UNITS: Final[dict[str, Decimal]] = {
    "元": Decimal(1),
    "千元": Decimal(1000),
    "万元": Decimal(10_000),
    "百万元": Decimal(1_000_000),
    "亿元": Decimal(100_000_000),
}
MAGNITUDES: Final[dict[str, Decimal]] = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}

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

Cell = object  # what openpyxl hands over; anything else is reported, never raised on


# ---- small helpers ------------------------------------------------------------------------------


def half_width(text: str) -> str:
    """Full-width digits, letters and signs to their ASCII forms."""
    return text.translate(_HALF_WIDTH)


def _fmt(number: Decimal | float) -> str:
    """A number as a reviewer writes it: 63, 0.95, 1234.5 (no exponent for ordinary sizes)."""
    d = number if isinstance(number, Decimal) else Decimal(repr(number))
    if not d.is_finite():
        return str(d)
    if d == 0:
        return "0"
    d = d.normalize()
    if abs(d.adjusted()) > 15:
        return f"{d:g}"
    return f"{d:f}"


def _pct(fraction: Decimal) -> str:
    return _fmt(fraction * 100) + "%"


def _decimal(x: int | float) -> Decimal:
    return Decimal(x) if isinstance(x, int) else Decimal(repr(x))


def _to_float(d: Decimal) -> float | None:
    """The float of a finite decimal, or None when it does not fit."""
    try:
        f = float(d)
    except (OverflowError, ValueError):  # pragma: no cover - float(Decimal) returns inf instead
        return None
    return f if math.isfinite(f) else None


def _quote(text: str) -> str:
    return f"“{text}”"


def _is_real(raw: Cell) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


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


# ---- units --------------------------------------------------------------------------------------


def _split_unit(unit: str) -> tuple[Decimal, str]:
    """万元 → (10000, 元); 万人次 → (10000, 人次); 万 → (10000, ""); 人 → (1, 人)."""
    if unit in MONEY_UNITS:
        return MONEY_UNITS[unit], "元"
    if unit[:1] in MAGNITUDES:
        return MAGNITUDES[unit[:1]], unit[1:]
    return Decimal(1), unit


def _known_base(base: str, unit_base: str | None) -> bool:
    return base in ("", "元", unit_base) or base in COUNT_UNITS


def _apply_unit(
    number: Decimal, suffix: str, unit: str | None, field_type: str
) -> tuple[Decimal, str, str] | Parsed | None:
    """Scale ``number`` written with ``suffix`` into the field's ``unit``: (value, code, how it was
    read), a Parsed when it cannot be done, None when the suffix is no unit at all."""
    if unit and suffix == unit:
        code = "parse-count-unit" if suffix in COUNT_UNITS else "parse-unit-suffix"
        if any(c in suffix for c in "万亿"):
            code = "parse-wan-suffix"
        return number, code, f"单位 {suffix} 与本栏单位一致，已去除"
    s_scale, s_base = _split_unit(suffix)
    u_scale, u_base = _split_unit(unit) if unit else (Decimal(1), None)
    if not _known_base(s_base, u_base):
        return None
    wan = s_scale != 1 and any(c in suffix for c in "万亿")
    written = _quote(_fmt(number) + suffix)
    if unit is None:
        if field_type == "money" and s_base not in ("", "元"):
            return _invalid("parse-unit-mismatch", f"{written} 不是金额；请填写金额数字")
        if s_base == "元" or (wan and field_type in ("money", "any")):
            return _ambiguous(
                "parse-wan-suffix" if wan else "parse-unit-mismatch",
                f"{written} 带单位 {suffix}，但本栏未声明单位，无法确定应记为多少；"
                "请按本栏（或“单位”列）的单位填写纯数字",
            )
        value = number * s_scale
        if wan:
            return value, "parse-wan-suffix", f"1{suffix[:1]} = {_fmt(s_scale)}"
        return value, "parse-count-unit", f"单位 {suffix} 已去除，请核对“单位”列"
    if s_base == u_base or s_base == "":
        value = number * s_scale / u_scale
        rate = f"1{suffix} = {_fmt(s_scale / u_scale)} {unit}" if s_scale != u_scale else ""
        if wan:
            return value, "parse-wan-suffix", rate
        return value, "parse-unit-conversion", rate
    what = f"{written} 的单位 {suffix} 与本栏单位 {unit} 不一致"
    if field_type == "money":
        return _invalid("parse-unit-mismatch", f"{what}；金额请按 {unit} 填写纯数字")
    return _ambiguous("parse-unit-mismatch", f"{what}；请换算为 {unit} 后填写纯数字")


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


def _unexpected(raw: Cell) -> Parsed:
    return _invalid("parse-unexpected-type", f"无法识别的单元格内容（{type(raw).__name__}）")


# ---- dates --------------------------------------------------------------------------------------

_EXCEL_EPOCH: Final = dt.date(1899, 12, 30)
_FIRST_DATE: Final = dt.date(1990, 1, 1)
_LAST_DATE: Final = dt.date(2099, 12, 31)
_SERIAL_MIN: Final = (_FIRST_DATE - _EXCEL_EPOCH).days
_SERIAL_MAX: Final = (_LAST_DATE - _EXCEL_EPOCH).days

_YMD_RE: Final = re.compile(
    r"^(?P<y>[0-9]{4})\s*(?:年\s*(?P<m1>[0-9]{1,2})\s*月\s*(?P<d1>[0-9]{1,2})\s*[日号]?"
    r"|(?P<sep>[-/.])\s*(?P<m2>[0-9]{1,2})\s*(?P=sep)\s*(?P<d2>[0-9]{1,2})(?![0-9]))(?P<rest>.*)$",
    re.S,
)
_TIME_RE: Final = re.compile(r"^(?:\s+|\s*T)[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?$")
_YYYYMMDD_RE: Final = re.compile(r"^[0-9]{8}$")
_SERIAL_RE: Final = re.compile(r"^[0-9]{5}(?:\.[0-9]+)?$")
_YM_RE: Final = re.compile(
    r"^(?P<y>[0-9]{4})\s*(?:年\s*(?P<m1>[0-9]{1,2})\s*月份?|[-/.]\s*(?P<m2>[0-9]{1,2}))"
    r"(?:[^-/.0-9].*)?$",
    re.S,
)
_MD_RE: Final = re.compile(
    r"^(?:(?P<m1>[0-9]{1,2})\s*月\s*(?P<d1>[0-9]{1,2})\s*[日号]?(?:[^0-9].*)?"
    r"|(?P<m2>[0-9]{1,2})\s*[-/]\s*(?P<d2>[0-9]{1,2}))$",
    re.S,
)
_YEAR_RE: Final = re.compile(r"^[0-9]{4}\s*年(?:底|末|内|度|中)?$")
_ORDER_RE: Final = re.compile(r"^[0-9]{1,2}\s*([-/.])\s*[0-9]{1,2}\s*\1\s*[0-9]{4}$")
_TWO_DIGIT_YEAR_RE: Final = re.compile(
    r"^(?:[0-9]{2}\s*([-/.])\s*[0-9]{1,2}\s*\1\s*[0-9]{1,2}|[0-9]{2}年[0-9]{1,2}月[0-9]{1,2}日?)$"
)


def _make_date(year: int, month: int, day: int, text: str) -> dt.date | Parsed:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return _invalid(
            "parse-impossible-date",
            f"{_quote(text)} 不是存在的日期（{year} 年 {month} 月 {day} 日）；请核对",
        )


def _from_serial(serial: float, shown: str) -> Parsed:
    if serial.is_integer() and 1900 <= serial <= 2100:
        return _ambiguous(
            "parse-date-year-only",
            f"{shown} 只有年份，本栏需要具体日期；请填写例如 {int(serial)}-12-31",
        )
    if 10_000_000 <= serial <= 99_999_999 and serial.is_integer():
        text = str(int(serial))
        date = _make_date(int(text[:4]), int(text[4:6]), int(text[6:]), text)
        if isinstance(date, Parsed):
            return date
        return _converted(date, "parse-date-text", f"{shown} 按 {date.isoformat()} 读取")
    if _SERIAL_MIN <= serial <= _SERIAL_MAX:
        date = _EXCEL_EPOCH + dt.timedelta(days=int(serial))
        return _converted(
            date,
            "parse-date-serial",
            f"{shown} 按 Excel 日期序号读取为 {date.isoformat()}；请把单元格格式设为日期",
        )
    return _invalid(
        "parse-not-a-date",
        f"{shown} 不是日期；请填写日期，例如 2023-12-31",
    )


def _parse_date_text(text: str) -> Parsed:
    norm = half_width(text).strip()
    if _SERIAL_RE.match(norm):
        return _from_serial(float(norm), f"文本 {_quote(text)}")
    if _YYYYMMDD_RE.match(norm):
        return _from_serial(float(norm), f"文本 {_quote(text)}")
    m = _YMD_RE.match(norm)
    if m is not None:
        year = int(m["y"])
        month = int(m["m1"] or m["m2"])
        day = int(m["d1"] or m["d2"])
        rest = m["rest"]
        if rest and not _TIME_RE.match(rest):
            if rest.lstrip()[:1].isdigit():
                return _not_a_date(text)
            return _ambiguous(
                "parse-date-extra-text",
                f"{_quote(text)} 在日期外还有文字；本栏只填日期（例如 {year}-{month:02d}-{day:02d}），"
                "说明请写在备注或原因栏",
            )
        date = _make_date(year, month, day, text)
        if isinstance(date, Parsed):
            return date
        return _converted(
            date, "parse-date-text", f"文本 {_quote(text)} 按 {date.isoformat()} 读取"
        )
    m = _YM_RE.match(norm)
    if m is not None:
        month = int(m["m1"] or m["m2"])
        if not 1 <= month <= 12:
            return _invalid(
                "parse-impossible-date", f"{_quote(text)} 的月份 {month} 不存在；请核对"
            )
        return _ambiguous(
            "parse-date-no-day",
            f"{_quote(text)} 缺少日，本栏需要具体日期；请补全，例如 {m['y']}-{month:02d}-15",
        )
    if _MD_RE.match(norm):
        return _ambiguous(
            "parse-date-no-year", f"{_quote(text)} 缺少年份；请填写完整日期，例如 2023-12-31"
        )
    if _YEAR_RE.match(norm):
        return _ambiguous(
            "parse-date-year-only",
            f"{_quote(text)} 只有年份，本栏需要具体日期；请填写例如 {norm[:4]}-12-31",
        )
    if _ORDER_RE.match(norm):
        return _ambiguous(
            "parse-date-order",
            f"{_quote(text)} 的日、月顺序不明；请按 年-月-日 填写，例如 2023-03-15",
        )
    if _TWO_DIGIT_YEAR_RE.match(norm):
        return _ambiguous(
            "parse-date-two-digit-year",
            f"{_quote(text)} 只有两位年份；请填写四位年份，例如 2023-03-15",
        )
    return _not_a_date(text)


def _not_a_date(text: str) -> Parsed:
    return _invalid("parse-not-a-date", f"{_quote(text)} 不是日期；请填写日期，例如 2023-12-31")


def _parse_date(raw: Cell, unit: str | None, choices: Sequence[str] | None) -> Parsed:
    if isinstance(raw, dt.datetime):
        if raw.time() == dt.time(0):
            return _ok(raw.date())
        return _converted(
            raw.date(),
            "parse-date-time-dropped",
            f"单元格含时刻 {raw.time().isoformat()}，按日期 {raw.date().isoformat()} 读取",
        )
    if isinstance(raw, dt.date):
        return _ok(raw)
    if isinstance(raw, bool):
        return _invalid("parse-not-a-date", "单元格是逻辑值，本栏需要日期，例如 2023-12-31")
    if isinstance(raw, int | float):
        if isinstance(raw, float) and not math.isfinite(raw):
            return _invalid("parse-not-finite", f"{raw} 不是日期；请填写日期，例如 2023-12-31")
        shown = f"数值 {_fmt(_decimal(raw))}"
        if abs(raw) > 1e12:
            return _invalid("parse-not-a-date", f"{shown} 不是日期；请填写日期，例如 2023-12-31")
        return _from_serial(float(raw), shown)
    if isinstance(raw, str):
        return _parse_date_text(raw)
    return _unexpected(raw)


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
