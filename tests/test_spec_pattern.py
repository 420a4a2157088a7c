"""The pattern compiler: the expression it writes for a ``pattern:`` says what
``re.fullmatch`` says, on drawn texts and on numbers stored as numbers."""

from __future__ import annotations

import functools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xltools.expr import BLANK, Node, evaluate, top_level
from xltools.expr.values import format_general
from xltools.spec.pattern import PatternUnsupported, pattern_node, pattern_source, sequences

PHONE = r"(1\d{10}|0\d{2,3}-?\d{7,8})"
PATTERNS = [
    PHONE,
    r"\d{6}",
    r"\d{17}[0-9Xx]",
    r"[A-Z]{2}-?\d{3}",
    r"(?:ab|a)c?",
    r'a"b\.c',
    r"(0|1){1,3}x?",
    r"[ab-]\d?",
    r"",
]


@functools.cache
def _node(pattern: str) -> Node:
    return pattern_node(pattern, "x")  # one tree per pattern: the evaluator compiles it once


def matches(pattern: str, value: object) -> bool:
    result = top_level(evaluate(_node(pattern), {"x": value}))
    assert isinstance(result, bool), result
    return result


def near_miss(pattern: str) -> st.SearchStrategy[str]:
    """Texts close to a match: a matching text mutated by one edit."""
    full = st.from_regex(re.compile(pattern or "x?", re.ASCII), fullmatch=True)

    def mutate(text: str, data: st.DataObject) -> str:
        if not text:
            return text
        i = data.draw(st.integers(0, len(text) - 1))
        op = data.draw(st.sampled_from(["drop", "swap", "dup", "wide"]))
        if op == "drop":
            return text[:i] + text[i + 1 :]
        if op == "dup":
            return text[:i] + text[i] + text[i:]
        if op == "wide" and text[i].isdigit():  # a full-width digit is no \d
            return text[:i] + chr(ord(text[i]) + 0xFEE0) + text[i + 1 :]
        return text[:i] + data.draw(st.sampled_from("0a-X x测.")) + text[i + 1 :]

    return st.tuples(full, st.data()).map(lambda pair: mutate(*pair))


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_compiled_pattern_is_fullmatch(pattern: str, data: st.DataObject) -> None:
    text = data.draw(
        st.one_of(
            st.from_regex(re.compile(pattern or "x?", re.ASCII), fullmatch=True),
            near_miss(pattern),
            st.text(alphabet='0123456789-abcXx "中１', max_size=15),
        )
    )
    expected = re.fullmatch(pattern, text, re.ASCII) is not None or text == ""
    assert matches(pattern, text) is expected, text


@pytest.mark.parametrize("pattern", [PHONE, r"\d{6}"])
@given(number=st.integers(0, 10**14) | st.floats(0, 1e16, allow_nan=False))
@settings(max_examples=300, deadline=None)
def test_a_number_in_the_cell_is_read_as_the_text_it_shows(pattern: str, number: float) -> None:
    # Excel's MID and LEN read a number as its general-format text: 13812345678 typed into the
    # phone cell is a number, and it passes; a 0731 number typed without the dash lost its 0.
    value = float(number)
    assert matches(pattern, value) is (re.fullmatch(pattern, format_general(value)) is not None)


def test_phone_examples() -> None:
    assert matches(PHONE, "13812345678")
    assert matches(PHONE, 13812345678.0)
    assert matches(PHONE, "0731-88889999")
    assert matches(PHONE, "073188889999")
    assert not matches(PHONE, "测试604987")
    assert not matches(PHONE, 73188889999.0)  # the leading 0 is gone
    assert not matches(PHONE, "１３８１２３４５６７８")  # full-width digits
    assert matches(PHONE, BLANK)  # blank is the required check's business
    assert not matches(r"\d{6}", "41000")
    assert not matches(r"\d{6}", True)


@pytest.mark.parametrize(
    "pattern",
    [r"\d+", r"\d*", r"a.b", r"^\d$", r"[^0-9]", r"\w{3}", r"\d{3,}", r"(?=a)a", r"a{2}?",
     r"(a", r"a)", r"[a", r"\d{40}", r"(a|b)?(c|d)?(e|f)?(g|h)?", r"\d{2,1}"],
)  # fmt: skip
def test_unsupported_patterns_are_refused_in_chinese(pattern: str) -> None:
    with pytest.raises(PatternUnsupported) as raised:
        sequences(pattern)
    assert re.search(r"[\u4e00-\u9fff]", str(raised.value))


def test_phone_formula_stays_well_under_excels_limit() -> None:
    # the longest field id of a bundled phone field, compiled as the panel writes it
    assert len(pattern_source(PHONE, "manager_phone")) < 5000
