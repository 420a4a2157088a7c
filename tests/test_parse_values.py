"""Reading input cells as a careful reviewer would: ``xltools.check.parse.parse_value``."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xltools.check.parse import FULL_COVERAGE, NON_NUMERIC_PHRASES, Parsed, parse_value
from xltools.spec.model import FIELD_TYPES

OPS = ("≥", "≤", "=", "定性")
LEVELS = ("达成", "部分达成", "未达成")
D = dt.date

# (raw, field type, unit or choices) -> (value, status, code)
CASES: list[tuple[Any, str, Any, Any, str, str | None]] = [
    # ---- numbers written as text
    (12, "number", None, 12.0, "ok", None),
    (12.5, "number", None, 12.5, "ok", None),
    ("12", "number", None, 12.0, "converted", "parse-text-as-number"),
    (" 12 ", "number", None, 12.0, "converted", "parse-text-as-number"),
    ("-3", "number", None, -3.0, "converted", "parse-text-as-number"),
    ("+3", "number", None, 3.0, "converted", "parse-text-as-number"),
    ("1.2E+05", "number", None, 120000.0, "converted", "parse-text-as-number"),
    ("1,234.5", "number", None, 1234.5, "converted", "parse-thousands-separator"),
    ("1,234,567", "number", None, 1234567.0, "converted", "parse-thousands-separator"),
    ("１２３", "number", None, 123.0, "converted", "parse-full-width"),
    ("－１２．５", "number", None, -12.5, "converted", "parse-full-width"),
    ("−3", "number", None, -3.0, "converted", "parse-full-width"),
    ("１，２３４", "number", None, 1234.0, "converted", "parse-thousands-separator"),
    ("12,5", "number", None, None, "ambiguous", "parse-ambiguous-separator"),
    ("1,23", "number", None, None, "ambiguous", "parse-ambiguous-separator"),
    ("（3）", "number", None, None, "ambiguous", "parse-parenthesized-number"),
    ("(3)", "money", "万元", None, "ambiguous", "parse-parenthesized-number"),
    ("12.5%", "number", None, None, "ambiguous", "parse-ambiguous-percent"),
    ("12.5%", "integer", None, None, "ambiguous", "parse-ambiguous-percent"),
    ("12.5%", "number", "%", 12.5, "converted", "parse-unit-suffix"),
    ("≥95", "number", None, None, "invalid", "parse-operator-in-value"),
    (">=90", "number", None, None, "invalid", "parse-operator-in-value"),
    ("不低于90", "integer", None, None, "invalid", "parse-operator-in-value"),
    ("10项以上", "integer", None, None, "invalid", "parse-operator-in-value"),
    ("约12", "number", None, None, "ambiguous", "parse-approximate"),
    ("12左右", "number", None, None, "ambiguous", "parse-approximate"),
    ("12-15", "number", None, None, "invalid", "parse-range"),
    ("90%~95%", "percent", "%", None, "invalid", "parse-range"),
    ("abc", "number", None, None, "invalid", "parse-not-a-number"),
    ("12abc", "number", None, None, "invalid", "parse-not-a-number"),
    ("-", "number", None, None, "invalid", "parse-not-a-number"),
    (True, "number", None, None, "invalid", "parse-bool-as-number"),
    (dt.datetime(2023, 3, 15), "number", None, None, "invalid", "parse-date-as-number"),
    ("2023-03-15", "number", None, None, "invalid", "parse-date-as-number"),
    ("2023年3月15日", "integer", None, None, "invalid", "parse-date-as-number"),
    (float("nan"), "number", None, None, "invalid", "parse-not-finite"),
    (float("inf"), "money", "万元", None, "invalid", "parse-not-finite"),
    (10**400, "number", None, None, "invalid", "parse-not-finite"),
    ("1e999", "number", None, None, "invalid", "parse-not-finite"),
    # ---- text where a number belongs (the phrase table)
    ("全覆盖", "percent", "%", 1.0, "converted", "parse-full-coverage"),  # a coverage rate: 100 %
    ("全覆盖", "integer", None, None, "invalid", "parse-not-a-number"),
    ("按要求完成", "number", None, None, "invalid", "parse-not-a-number"),
    ("有效缓解", "number", None, None, "invalid", "parse-not-a-number"),
    ("无", "money", "万元", None, "invalid", "parse-not-a-number"),
    # ---- percent
    (0.95, "percent", "%", 0.95, "ok", None),
    (0, "percent", "%", 0.0, "ok", None),
    (1, "percent", "%", 1.0, "ok", None),
    (-0.05, "percent", "%", -0.05, "ok", None),
    (95, "percent", "%", 0.95, "converted", "parse-percent-scale"),
    (95.84, "percent", "%", 0.9584, "converted", "parse-percent-scale"),
    (100, "percent", "%", 1.0, "converted", "parse-percent-scale"),
    (2, "percent", "%", 0.02, "converted", "parse-percent-scale"),
    (1.2, "percent", "%", None, "ambiguous", "parse-ambiguous-percent"),
    (150, "percent", "%", None, "ambiguous", "parse-ambiguous-percent"),
    ("95%", "percent", "%", 0.95, "converted", "parse-percent-text"),
    ("95.84%", "percent", "%", 0.9584, "converted", "parse-percent-text"),
    ("150%", "percent", "%", 1.5, "converted", "parse-percent-text"),
    ("９５％", "percent", "%", 0.95, "converted", "parse-percent-text"),
    ("95 %", "percent", "%", 0.95, "converted", "parse-percent-text"),
    ("95", "percent", "%", 0.95, "converted", "parse-percent-scale"),
    ("0.95", "percent", "%", 0.95, "converted", "parse-text-as-number"),
    ("150", "percent", "%", None, "ambiguous", "parse-ambiguous-percent"),
    ("≥95%", "percent", "%", None, "invalid", "parse-operator-in-value"),
    ("95%以上", "percent", "%", None, "invalid", "parse-operator-in-value"),
    ("95个", "percent", "%", None, "invalid", "parse-unit-mismatch"),
    # ---- money
    (63, "money", "万元", 63.0, "ok", None),
    (-5, "money", "万元", -5.0, "ok", None),
    ("-5", "money", "万元", -5.0, "converted", "parse-text-as-number"),
    ("63万", "money", "万元", 63.0, "converted", "parse-wan-suffix"),
    ("63万元", "money", "万元", 63.0, "converted", "parse-wan-suffix"),
    ("1.2亿", "money", "万元", 12000.0, "converted", "parse-wan-suffix"),
    ("1.2亿元", "money", "万元", 12000.0, "converted", "parse-wan-suffix"),
    ("630000元", "money", "万元", 63.0, "converted", "parse-unit-conversion"),
    ("63万", "money", "元", 630000.0, "converted", "parse-wan-suffix"),
    ("12.34万元", "money", "元", 123400.0, "converted", "parse-wan-suffix"),
    ("1,234元", "money", "元", 1234.0, "converted", "parse-unit-suffix"),
    ("￥1,234", "money", "元", 1234.0, "converted", "parse-thousands-separator"),
    ("63人", "money", "万元", None, "invalid", "parse-unit-mismatch"),
    ("63%", "money", "万元", None, "invalid", "parse-unit-mismatch"),
    ("63万", "money", None, None, "ambiguous", "parse-wan-suffix"),
    # ---- integer
    (12, "integer", None, 12.0, "ok", None),
    (12.0, "integer", None, 12.0, "ok", None),
    (12.5, "integer", None, None, "invalid", "parse-not-an-integer"),
    ("12人", "integer", None, 12.0, "converted", "parse-count-unit"),
    ("12人次", "integer", None, 12.0, "converted", "parse-count-unit"),
    ("12 个", "integer", None, 12.0, "converted", "parse-count-unit"),
    ("12家", "integer", "家", 12.0, "converted", "parse-count-unit"),
    ("12个", "integer", "人", None, "ambiguous", "parse-unit-mismatch"),
    ("1.2万人", "integer", None, 12000.0, "converted", "parse-wan-suffix"),
    ("1.2万人次", "integer", "人次", 12000.0, "converted", "parse-wan-suffix"),
    ("12.5人", "integer", None, None, "invalid", "parse-not-an-integer"),
    ("12元", "integer", None, None, "ambiguous", "parse-unit-mismatch"),
    # ---- dates
    (dt.datetime(2023, 3, 15), "date", None, D(2023, 3, 15), "ok", None),
    (D(2023, 3, 15), "date", None, D(2023, 3, 15), "ok", None),
    (dt.datetime(2023, 3, 15, 9, 30), "date", None, D(2023, 3, 15), "converted",
     "parse-date-time-dropped"),
    (45000, "date", None, D(2023, 3, 15), "converted", "parse-date-serial"),
    (45000.75, "date", None, D(2023, 3, 15), "converted", "parse-date-serial"),
    ("45000", "date", None, D(2023, 3, 15), "converted", "parse-date-serial"),
    (20230315, "date", None, D(2023, 3, 15), "converted", "parse-date-text"),
    ("2023年3月15日", "date", None, D(2023, 3, 15), "converted", "parse-date-text"),
    ("２０２３年３月１５日", "date", None, D(2023, 3, 15), "converted", "parse-date-text"),
    ("2023年03月15号", "date", None, D(2023, 3, 15), "converted", "parse-date-text"),
    ("2023-03-15", "date", None, D(2023, 3, 15), "converted", "parse-date-text"),
    ("2023/3/15", "date", None, D(2023, 3, 15), "converted", "parse-date-text"),
    ("2023.3.15", "date", None, D(2023, 3, 15), "converted", "parse-date-text"),
    ("20230315", "date", None, D(2023, 3, 15), "converted", "parse-date-text"),
    ("2023-03-15 00:00:00", "date", None, D(2023, 3, 15), "converted", "parse-date-text"),
    ("2023年3月", "date", None, None, "ambiguous", "parse-date-no-day"),
    ("2023-03", "date", None, None, "ambiguous", "parse-date-no-day"),
    ("2023年12月底", "date", None, None, "ambiguous", "parse-date-no-day"),
    ("12月31日完成", "date", None, None, "ambiguous", "parse-date-no-year"),
    ("12/31", "date", None, None, "ambiguous", "parse-date-no-year"),
    ("2023年", "date", None, None, "ambiguous", "parse-date-year-only"),
    (2023, "date", None, None, "ambiguous", "parse-date-year-only"),
    ("3/15/2023", "date", None, None, "ambiguous", "parse-date-order"),
    ("23.3.15", "date", None, None, "ambiguous", "parse-date-two-digit-year"),
    ("2023年12月31日前", "date", None, None, "ambiguous", "parse-date-extra-text"),
    ("2023-02-30", "date", None, None, "invalid", "parse-impossible-date"),
    ("2023-13-01", "date", None, None, "invalid", "parse-impossible-date"),
    ("2023年13月", "date", None, None, "invalid", "parse-impossible-date"),
    ("20230230", "date", None, None, "invalid", "parse-impossible-date"),
    ("2023-3-155", "date", None, None, "invalid", "parse-not-a-date"),
    ("下半年", "date", None, None, "invalid", "parse-not-a-date"),
    (12, "date", None, None, "invalid", "parse-not-a-date"),
    (True, "date", None, None, "invalid", "parse-not-a-date"),
    # ---- choices
    ("≥", "choice", OPS, "≥", "ok", None),
    ("定性", "choice", OPS, "定性", "ok", None),
    (" 定性 ", "choice", OPS, "定性", "converted", "parse-choice-normalized"),
    ("＝", "choice", OPS, "=", "converted", "parse-choice-normalized"),
    (">=", "choice", OPS, "≥", "converted", "parse-choice-alias"),
    ("≧", "choice", OPS, "≥", "converted", "parse-choice-alias"),
    ("＞＝", "choice", OPS, "≥", "converted", "parse-choice-alias"),
    ("<=", "choice", OPS, "≤", "converted", "parse-choice-alias"),
    ("不低于", "choice", OPS, "≥", "converted", "parse-choice-alias"),
    (">", "choice", OPS, None, "invalid", "parse-unknown-choice"),
    ("≥95%", "choice", OPS, None, "invalid", "parse-unknown-choice"),
    (">=", "choice", LEVELS, None, "invalid", "parse-unknown-choice"),
    ("部分 达成", "choice", LEVELS, "部分达成", "converted", "parse-choice-normalized"),
    ("良好", "choice", LEVELS, None, "invalid", "parse-unknown-choice"),
    ("ABC", "choice", ("abc", "def"), "abc", "converted", "parse-choice-normalized"),
    ("随便", "choice", None, "随便", "ok", None),
    # ---- bool
    ("是", "bool", None, "是", "ok", None),
    ("否", "bool", None, "否", "ok", None),
    (" 是 ", "bool", None, "是", "converted", "parse-bool-alias"),
    ("Y", "bool", None, "是", "converted", "parse-bool-alias"),
    ("yes", "bool", None, "是", "converted", "parse-bool-alias"),
    ("√", "bool", None, "是", "converted", "parse-bool-alias"),
    ("对", "bool", None, "是", "converted", "parse-bool-alias"),
    ("N", "bool", None, "否", "converted", "parse-bool-alias"),
    ("no", "bool", None, "否", "converted", "parse-bool-alias"),
    ("×", "bool", None, "否", "converted", "parse-bool-alias"),
    (True, "bool", None, "是", "converted", "parse-bool-alias"),
    (False, "bool", None, "否", "converted", "parse-bool-alias"),
    ("也许", "bool", None, None, "invalid", "parse-unknown-choice"),
    (1, "bool", None, None, "invalid", "parse-unknown-choice"),
    # ---- text
    ("项目按期完成", "text", None, "项目按期完成", "ok", None),
    (" 带空格 ", "text", None, " 带空格 ", "ok", None),
    ("第一行\n第二行", "text", None, "第一行\n第二行", "ok", None),
    ("ab\x07c", "text", None, "abc", "converted", "parse-control-characters"),
    ("\ufeff说明\u200b", "text", None, "说明", "converted", "parse-control-characters"),
    (13800138000, "text", None, "13800138000", "ok", None),
    (12.5, "text", None, "12.5", "ok", None),
    (D(2023, 3, 15), "text", None, "2023-03-15", "ok", None),
    # ---- any
    (12, "any", None, 12.0, "ok", None),
    (0.96, "any", None, 0.96, "ok", None),
    (True, "any", None, True, "ok", None),
    ("12", "any", None, 12.0, "converted", "parse-text-as-number"),
    ("1,234", "any", None, 1234.0, "converted", "parse-thousands-separator"),
    ("１２", "any", None, 12.0, "converted", "parse-full-width"),
    ("96%", "any", None, 0.96, "converted", "parse-percent-text"),
    ("96%", "any", "%", 0.96, "converted", "parse-percent-text"),
    ("12人", "any", None, 12.0, "converted", "parse-count-unit"),
    ("63万", "any", "万元", 63.0, "converted", "parse-wan-suffix"),
    ("63万", "any", None, None, "ambiguous", "parse-wan-suffix"),
    ("全覆盖", "any", None, "全覆盖", "ok", None),
    ("有效缓解", "any", None, "有效缓解", "ok", None),
    ("3个月内", "any", None, "3个月内", "ok", None),
    ("90%-95%", "any", None, "90%-95%", "ok", None),
    ("1,2,3号楼", "any", None, "1,2,3号楼", "ok", None),
    ("≥95%", "any", None, None, "invalid", "parse-operator-in-value"),
    ("95%以上", "any", None, None, "invalid", "parse-operator-in-value"),
    ("约95%", "any", None, None, "ambiguous", "parse-approximate"),
    ("大于等于去年", "any", None, "大于等于去年", "ok", None),
    (dt.datetime(2023, 12, 31), "any", None, D(2023, 12, 31), "ok", None),
    # ---- Excel errors, blanks, control characters, in every type
    ("#DIV/0!", "number", None, None, "invalid", "parse-excel-error"),
    ("#REF!", "money", "万元", None, "invalid", "parse-excel-error"),
    ("#N/A", "text", None, None, "invalid", "parse-excel-error"),
    ("#VALUE!", "percent", "%", None, "invalid", "parse-excel-error"),
    ("#NAME?", "date", None, None, "invalid", "parse-excel-error"),
    ("#NUM!", "any", None, None, "invalid", "parse-excel-error"),
    (" #NULL! ", "choice", OPS, None, "invalid", "parse-excel-error"),
    (None, "number", None, None, "blank", None),
    (None, "text", None, None, "blank", None),
    ("", "date", None, None, "blank", None),
    ("   ", "any", None, None, "blank", None),
    ("\u3000\n", "money", "万元", None, "blank", None),
    ("\x00", "text", None, None, "blank", None),
    ("12\x0b", "number", None, 12.0, "converted", "parse-text-as-number"),
    ("\x0712", "any", None, 12.0, "converted", "parse-text-as-number"),
    ("是\x07", "bool", None, "是", "converted", "parse-control-characters"),
]  # fmt: skip


def _parse(raw: Any, field_type: str, extra: Any) -> Parsed:
    if field_type == "choice":
        return parse_value(raw, field_type, choices=extra)
    return parse_value(raw, field_type, unit=extra)


@pytest.mark.parametrize(("raw", "field_type", "extra", "value", "status", "code"), CASES)
def test_reading(
    raw: Any, field_type: str, extra: Any, value: Any, status: str, code: str | None
) -> None:
    parsed = _parse(raw, field_type, extra)
    assert (parsed.value, parsed.status, parsed.code) == (value, status, code), parsed.message
    if isinstance(value, float):
        assert type(parsed.value) is float
    if status in ("ok", "blank"):
        assert parsed.message is None
    else:
        assert parsed.message, "every finding needs a message"
    assert parsed.usable == (status in ("ok", "converted"))


def test_converted_message_says_what_was_read_and_how() -> None:
    assert parse_value("63万", "money", unit="万元").message == "文本 “63万” 按 63 万元 读取"
    assert "0.95" in (parse_value(95, "percent", unit="%").message or "")
    assert "U+0007" in (parse_value("ab\x07c", "text").message or "")


def test_errors_say_what_to_do() -> None:
    full = parse_value("全覆盖", "number")
    assert full.value is None and "100%" in (full.message or "")
    operator = parse_value("≥95%", "percent", unit="%").message or ""
    assert "符号" in operator
    choice = parse_value("大约", "choice", choices=OPS).message or ""
    assert all(op in choice for op in OPS)
    assert "≥" in (parse_value(">", "choice", choices=OPS).message or "")


def test_every_phrase_in_the_table_is_refused_with_its_hint() -> None:
    for phrase, hint in NON_NUMERIC_PHRASES.items():
        for field_type in ("integer", "number", "money", "percent"):
            parsed = parse_value(phrase, field_type, unit="%" if field_type == "percent" else None)
            if field_type == "percent" and phrase in FULL_COVERAGE:
                assert (parsed.status, parsed.value) == ("converted", 1.0)  # a coverage rate
                continue
            assert (parsed.status, parsed.code) == ("invalid", "parse-not-a-number"), phrase
            assert hint in (parsed.message or "")


def test_every_spec_field_type_is_read() -> None:
    for field_type in FIELD_TYPES:
        assert parse_value(None, field_type).status == "blank"


def test_unknown_field_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_value(1, "float")


# ---- properties ---------------------------------------------------------------------------------


class _AnyMessage:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)


ANY_MSG: Any = _AnyMessage()


finite_floats = st.floats(allow_nan=False, allow_infinity=False)
_FULL_WIDTH = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


@given(finite_floats)
def test_any_float_in_a_number_field_is_itself(x: float) -> None:
    parsed = parse_value(x, "number")
    assert parsed.status == "ok"
    assert parsed.value == x
    assert math.copysign(1, parsed.value) == math.copysign(1, x)  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_any_int_in_a_number_or_integer_field_is_itself(n: int) -> None:
    assert parse_value(n, "number") == Parsed(float(n), "ok")
    assert parse_value(n, "integer") == Parsed(float(n), "ok")


@given(
    st.decimals(
        min_value=Decimal("-1e12"),
        max_value=Decimal("1e12"),
        places=3,
        allow_nan=False,
        allow_infinity=False,
    ),
    st.booleans(),
    st.booleans(),
)
def test_formatted_numbers_read_back(d: Decimal, grouped: bool, full_width: bool) -> None:
    text = f"{d:,f}" if grouped else f"{d:f}"
    if full_width:
        text = text.translate(_FULL_WIDTH)
    for field_type in ("number", "any"):
        parsed = parse_value(text, field_type)
        assert parsed.status == "converted", (text, parsed)
        assert parsed.value == float(d), text


@given(st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False))
def test_percent_text_reads_as_a_fraction(d: Decimal) -> None:
    parsed = parse_value(f"{d:f}%", "percent", unit="%")
    assert (parsed.status, parsed.value) == ("converted", float(d / 100))


@given(st.dates(min_value=D(1990, 1, 1), max_value=D(2099, 12, 31)))
def test_written_dates_read_back(day: D) -> None:
    for text in (
        day.isoformat(),
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        day.strftime("%Y%m%d"),
    ):
        assert parse_value(text, "date") == Parsed(day, "converted", "parse-date-text", ANY_MSG)
    serial = (day - D(1899, 12, 30)).days
    assert parse_value(serial, "date").value == day


cell_values = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="0123456789,.%-+ 万亿元人个年月日号()（）≥≤约以上左右１２３．，％－/:eE#"),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.datetimes(),
    st.dates(),
    st.sampled_from(["#DIV/0!", "#REF!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"]),
)
units = st.sampled_from([None, "", "万元", "元", "亿元", "%", "人", "万人次", "公里"])


@given(cell_values, st.sampled_from(FIELD_TYPES), units)
def test_never_raises(raw: Any, field_type: str, unit: str | None) -> None:
    choices = OPS if field_type == "choice" else None
    parsed = parse_value(raw, field_type, unit=unit, choices=choices)
    assert parsed.status in ("ok", "converted", "ambiguous", "invalid", "blank")
    if parsed.status in ("ambiguous", "invalid", "blank"):
        assert parsed.value is None
    if parsed.status != "ok" and parsed.status != "blank":
        assert parsed.code and parsed.message
    if isinstance(parsed.value, float):
        assert math.isfinite(parsed.value)
    assert not isinstance(parsed.value, dt.datetime)
