"""The rule language in pure Python: parser, compiler to formula text, evaluator semantics.

Fast and without LibreOffice; ``test_expr_libreoffice.py`` checks the same semantics
against a real spreadsheet engine.
"""

from __future__ import annotations

from typing import Any

import pytest

from xltools.expr import (
    BLANK,
    Binary,
    Boolean,
    Call,
    ExcelError,
    ExpressionError,
    Name,
    Number,
    Percent,
    Scalar,
    Text,
    Unary,
    Value,
    evaluate,
    names,
    number_literal,
    parse,
    substitute,
    to_formula,
    top_level,
)
from xltools.expr.values import (
    approx_equal,
    compare,
    format_general,
    round_to,
    text_to_number,
    to_bool,
)

DIV0, VALUE, NUM, NA, NAME = (
    ExcelError(c) for c in ("#DIV/0!", "#VALUE!", "#NUM!", "#N/A", "#NAME?")
)


def n(value: float) -> Number:
    return Number(value)


a, b, c = Name("a"), Name("b"), Name("c")

# --------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "tree"),
    [
        ("1+2*3", Binary("+", n(1), Binary("*", n(2), n(3)))),
        ("(1+2)*3", Binary("*", Binary("+", n(1), n(2)), n(3))),
        ("a-b-c", Binary("-", Binary("-", a, b), c)),  # left associative
        ("a/b/c", Binary("/", Binary("/", a, b), c)),
        ("2^3^2", Binary("^", Binary("^", n(2), n(3)), n(2))),  # Excel: (2^3)^2 = 64
        ("-2^2", Binary("^", Unary("-", n(2)), n(2))),  # Excel: (-2)^2 = 4
        ("-a%", Unary("-", Percent(a))),
        ("a%^2", Binary("^", Percent(a), n(2))),
        ("5%%", Percent(Percent(n(5)))),
        ("a&b=c", Binary("=", Binary("&", a, b), c)),  # & binds tighter than comparisons
        ("a+1&b", Binary("&", Binary("+", a, n(1)), b)),  # + tighter than &
        ("a*b+c", Binary("+", Binary("*", a, b), c)),
        ("a<=b", Binary("<=", a, b)),
        ("a<>b", Binary("<>", a, b)),
        ("--a", Unary("-", Unary("-", a))),
        ("+a", Unary("+", a)),
        ("1.5E+3", n(1500.0)),
        (".5", n(0.5)),
        ('"say ""hi"""', Text('say "hi"')),
        ('""', Text("")),
        ("TRUE", Boolean(True)),
        ("false", Boolean(False)),
        ("sum(a, b)", Call("SUM", (a, b))),
        ("IF(a>0,1)", Call("IF", (Binary(">", a, n(0)), n(1)))),
        ("预算金额*2", Binary("*", Name("预算金额"), n(2))),
        ("  =  a + 1 ", Binary("+", a, n(1))),
        ("=a", a),
    ],
)
def test_parse(source: str, tree: object) -> None:
    assert parse(source) == tree


@pytest.mark.parametrize(
    ("source", "ascii_source"),
    [
        ("a≥1", "a>=1"),
        ("a≤1", "a<=1"),
        ("a≠1", "a<>1"),
        ("a＞1", "a>1"),
        ("a＜1", "a<1"),
        ("a＝1", "a=1"),
        ("（a+b）*2", "(a+b)*2"),
        ("SUM(a，b)", "SUM(a,b)"),
        ("IF（a≥b，1，2）", "IF(a>=b,1,2)"),
    ],
)
def test_full_width_punctuation_from_chinese_input_methods(source: str, ascii_source: str) -> None:
    assert parse(source) == parse(ascii_source)


def test_full_width_operator_inside_a_string_stays_as_typed() -> None:
    assert parse('a="≥（"') == Binary("=", a, Text("≥（"))


@pytest.mark.parametrize(
    ("source", "offset"),
    [
        ("", 0),
        ("   ", 0),
        ("1+", 2),  # the end
        ("(1", 2),
        ("1 2", 2),  # extra content
        ("#", 0),  # unknown character
        ("a+#", 2),
        ("1+*2", 2),
        ("f(1,)", 4),
        ("SUM(1;2)", 5),
        ('"abc', 0),  # unterminated string
        ("a（1", 3),
        ("=1+", 2),  # offsets count from after the leading "="
    ],
)
def test_syntax_errors_carry_the_offset(source: str, offset: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert caught.value.offset == offset
    assert caught.value.message
    assert f"第 {offset + 1} 个字符" in str(caught.value)


def test_names_and_substitute() -> None:
    tree = parse("IF(b>a, a*c, b)")
    assert names(tree) == ["b", "a", "c"]
    assert substitute(tree, {"a": n(1)}) == parse("IF(b>1, 1*c, b)")


# --------------------------------------------------------------------------------------
# Compiler
# --------------------------------------------------------------------------------------

CELLS = {"a": "$B2", "b": "$C2", "c": "$D2", "r": "$E2:$H2"}


@pytest.mark.parametrize(
    ("source", "formula"),
    [
        ("a+b*c", "$B2+($C2*$D2)"),
        ("(a+b)*c", "($B2+$C2)*$D2"),
        ("-a^2", "(-$B2)^2"),  # never ambiguous: LibreOffice reads -2^2 as 4, others as -4
        ("-(a^2)", "-($B2^2)"),
        ("a%", "$B2%"),
        ("(a+b)%", "($B2+$C2)%"),
        ('a&"x""y"', '$B2&"x""y"'),
        ("TRUE", "TRUE"),
        ("SUM(r, a)", "SUM($E2:$H2,$B2)"),
        ("if(a≥1, 1.5, -b)", "IF($B2>=1,1.5,-$C2)"),
        ("a-b-c", "($B2-$C2)-$D2"),
        ("2^3^2", "(2^3)^2"),
    ],
)
def test_to_formula(source: str, formula: str) -> None:
    assert to_formula(parse(source), CELLS.__getitem__) == formula


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (-3.0, "-3"),
        (0.5, "0.5"),
        (1e20, "1E+20"),
        (1.5e-7, "1.5E-07"),
        (123456789012345.0, "123456789012345"),
    ],
)
def test_number_literal(value: float, text: str) -> None:
    assert number_literal(value) == text
    assert float(text) == value


# --------------------------------------------------------------------------------------
# Evaluator
# --------------------------------------------------------------------------------------


def shown(source: str, **env: Value) -> Scalar:
    return top_level(evaluate(parse(source), env))


@pytest.mark.parametrize(
    ("source", "env", "expected"),
    [
        # arithmetic and coercion
        ("1+2*3", {}, 7.0),
        ("a+1", {"a": BLANK}, 1.0),
        ("a+1", {"a": "12"}, 13.0),
        ("a+1", {"a": " 1,234.5 "}, 1235.5),
        ("a*100", {"a": "85%"}, 85.0),
        ("a+1", {"a": "abc"}, VALUE),
        ("a+1", {"a": ""}, VALUE),
        ("a+1", {"a": "TRUE"}, VALUE),
        ("a+1", {"a": "１２"}, VALUE),
        ("a+1", {"a": True}, 2.0),
        ("a+1", {"a": DIV0}, DIV0),
        ("a+b", {"a": NA, "b": DIV0}, NA),  # the first error wins
        ("1/0", {}, DIV0),
        ("a/b", {"a": 1.0, "b": BLANK}, DIV0),
        ("0^0", {}, NUM),
        ("0^-1", {}, DIV0),
        ("(-8)^(1/3)", {}, NUM),
        ("(-8)^3", {}, -512.0),
        ("1E+308*10", {}, NUM),
        ("-2^2", {}, 4.0),
        ("2^3^2", {}, 64.0),
        ("-a%", {"a": 50.0}, -0.5),
        ("0.1+0.2-0.3", {}, 0.0),
        ("a-b", {"a": 1e15 + 1, "b": 1e15}, 1.0),
        # comparison
        ("0.1+0.2=0.3", {}, True),
        ("a=b", {"a": 1e15, "b": 1e15 + 1}, False),
        ("a=b", {"a": 0.3, "b": 0.300000000000001}, True),
        ('"a"="A"', {}, True),
        ('"ß"="ss"', {}, False),
        ('a=""', {"a": BLANK}, True),
        ("a=0", {"a": BLANK}, True),
        ("a=FALSE", {"a": BLANK}, True),
        ("1=TRUE", {}, False),
        ('1<"a"', {}, True),
        ('"z"<TRUE', {}, True),
        ("a<b", {"a": "abc", "b": "ABD"}, True),
        ("a>b", {"a": DIV0, "b": 1.0}, DIV0),
        # concatenation
        ('"x"&1/3', {}, "x0.333333333333333"),
        ('"x"&a', {"a": 0.1 + 0.2}, "x0.3"),
        ('"x"&1E+20', {}, "x1E+20"),
        ('"x"&0.000001', {}, "x1E-06"),
        ('TRUE&""', {}, "TRUE"),
        ('a&"!"', {"a": BLANK}, "!"),
        ("a&b", {"a": NA, "b": DIV0}, NA),
        # functions
        ("IF(a,1,2)", {"a": BLANK}, 2.0),
        ('IF("abc",1,2)', {}, VALUE),
        ('IF(" true ",1,2)', {}, 1.0),
        ("IF(a,1,2)", {"a": "12"}, VALUE),
        ("IF(FALSE,1)", {}, False),
        ("IF(TRUE,a)", {"a": BLANK}, 0.0),
        ("IFERROR(1/0,a)", {"a": "x"}, "x"),
        ("IFERROR(a,0)", {"a": NA}, 0.0),
        ("NOT(a)", {"a": BLANK}, True),
        ('NOT("")', {}, VALUE),
        ("AND(r)", {"r": (True, "abc", BLANK)}, True),
        ("AND(r)", {"r": (BLANK, BLANK)}, VALUE),
        ("OR(r,a)", {"r": (False, 0.0), "a": 1.0}, True),
        ("AND(r)", {"r": (True, NA)}, NA),
        ("SUM(r)", {"r": (1.0, "12", BLANK, True, 2.0)}, 3.0),  # references skip text, TRUE
        ('SUM("12",TRUE,1)', {}, 14.0),  # values are converted
        ('SUM("abc")', {}, VALUE),
        ("SUM(r)", {"r": (0.1, 0.2, -0.3)}, 0.0),
        ("SUM(r)", {"r": (1.0, DIV0)}, DIV0),
        ("SUM(IF(TRUE,a))", {"a": "12"}, 0.0),  # IF hands the reference through
        ('SUM(IF(TRUE,a&""))', {"a": 12.0}, 12.0),
        ("COUNT(IFERROR(a,0))", {"a": "12"}, 0.0),
        ("MIN(r)", {"r": ("a", BLANK)}, 0.0),
        ("MAX(r,a)", {"r": (1.0, 5.0), "a": -2.0}, 5.0),
        ("AVERAGE(r)", {"r": ("a", BLANK)}, DIV0),
        ("AVERAGE(r)", {"r": (1.0, "2", BLANK, 3.0)}, 2.0),
        ("COUNT(r)", {"r": (1.0, "2", "abc", BLANK, DIV0, True)}, 1.0),
        ('COUNT(1,"2","abc",TRUE)', {}, 3.0),
        ("COUNTA(r)", {"r": (1.0, "", BLANK, DIV0, "a")}, 4.0),
        ("ABS(a)", {"a": "-3"}, 3.0),
        ("INT(-1.5)", {}, -2.0),
        ("INT((0.1+0.7)*10)", {}, 8.0),
        ("ROUND(2.675,2)", {}, 2.68),
        ("ROUND(-2.5,0)", {}, -3.0),
        ("ROUND(1.005,2)", {}, 1.01),
        ("ROUND(1234.5,-2)", {}, 1200.0),
        ("ROUND(a,1.9)", {"a": 1.45}, 1.5),  # digits are truncated
        ("ROUND(1E+300,2)", {}, 1e300),
        ("ROUND(1.5,400)", {}, 1.5),
        ("ROUND(123,-400)", {}, 0.0),
        ("ROUNDUP(-1.1,0)", {}, -2.0),
        ("ROUNDUP(1E-300,2)", {}, 0.01),
        ("ROUNDDOWN(-1.9,0)", {}, -1.0),
        ("ROUND(a,2)", {"a": "abc"}, VALUE),
        ("ISBLANK(a)", {"a": BLANK}, True),
        ("ISBLANK(a)", {"a": ""}, False),
        ("ISNUMBER(a)", {"a": "12"}, False),
        ("ISNUMBER(a)", {"a": True}, False),
        ("ISTEXT(a)", {"a": ""}, True),
        ("ISERROR(a)", {"a": NA}, True),
        ("LEN(a)", {"a": BLANK}, 0.0),
        ("LEN(1/3)", {}, 17.0),
        ("LEN(TRUE)", {}, 4.0),
        # names, unknown functions, ranges outside aggregates
        ("missing+1", {}, NAME),
        ("NOSUCH(1)", {}, NAME),
        ("r+1", {"r": (1.0, 2.0)}, VALUE),
        ("r", {"r": (1.0, 2.0)}, VALUE),
        ("a", {"a": BLANK}, 0.0),  # a blank reference shows as 0
    ],
)
def test_evaluate(source: str, env: dict[str, Value], expected: Scalar) -> None:
    got = shown(source, **env)
    assert type(got) is type(expected)
    assert got == expected


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("12", 12.0),
        (" 12 ", 12.0),
        ("+3", 3.0),
        ("-1.5", -1.5),
        (".5", 0.5),
        ("3.", 3.0),
        ("1e3", 1000.0),
        ("1,000", 1000.0),
        ("-1,234,567.891", -1234567.891),
        ("0,100", 100.0),
        ("50%", 0.5),
        ("-5 %", -0.05),
        ("1,000.5%", 10.005),
        ("5e-400", 0.0),
        ("2.2250738585072E-308", 0.0),  # subnormal: read as 0
        ("1e400", VALUE),
        ("1e2%", VALUE),
        ("1,00", VALUE),
        ("12,34", VALUE),
        ("1 000", VALUE),
        ("１２", VALUE),
        ("٣", VALUE),
        ("\t12", VALUE),
        ("TRUE", VALUE),
        ("", VALUE),
        ("$5", VALUE),
        ("(5)", VALUE),
    ],
)
def test_text_to_number(text: str, number: float | ExcelError) -> None:
    assert text_to_number(text) == number


def test_to_bool() -> None:
    assert to_bool("true") is True
    assert to_bool(" FALSE ") is False
    assert to_bool("12") == VALUE
    assert to_bool(BLANK) is False
    assert to_bool(-0.5) is True


def test_approx_equal() -> None:
    assert approx_equal(0.1 + 0.2, 0.3)
    assert approx_equal(0.3, 0.300000000000001)
    assert not approx_equal(0.3, 0.300000000000002)
    assert not approx_equal(1e15, 1e15 + 1)  # exact integers
    assert approx_equal(1e15, 1e15 + 0.125)
    assert not approx_equal(1e-300, 0.0)
    assert not approx_equal(1.0, -1.0)


def test_compare_orders_types_like_excel() -> None:
    assert compare(1e300, "") == -1  # numbers < text < booleans
    assert compare("zzz", False) == -1
    assert compare(BLANK, BLANK) == 0
    assert compare("b", "A") == 1


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-0.5, "-0.5"),
        (1 / 3, "0.333333333333333"),
        (2 / 3, "0.666666666666667"),
        (0.1234567890123455, "0.123456789012346"),  # half up from the shortest decimal
        (1e-5, "0.00001"),
        (1.23e-10, "1.23E-10"),
        (123456789012345.0, "123456789012345"),
        (999999999999999.5, "1E+15"),
        (1e15, "1E+15"),
        (123456789012345678.0, "1.23456789012346E+17"),
        (1e100, "1E+100"),
    ],
)
def test_format_general(number: float, text: str) -> None:
    assert format_general(number) == text


def test_round_to_never_raises_on_extreme_digits() -> None:
    for x in (1e300, -1e-300, 1.7976931348623157e308, 123.456):
        for digits in (-(10**9), -309, -308, -1, 0, 1, 15, 400, 10**9):
            result = round_to(x, digits)
            assert isinstance(result, float | ExcelError)


def test_nested_ifs_compile_each_node_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chain of nested IFs (a grade rule) is compiled in time linear in its size: each node
    is needed for its value and again as the branch an IF passes through."""
    import importlib

    from xltools.expr.ast import walk

    module = importlib.import_module("xltools.expr.evaluate")  # not the function of that name

    text = "0"
    for n in range(30):
        text = f"IF(x>{n},{n},{text})"
    tree = parse(f"SUM({text})")
    calls = 0
    compile_one = module._Compiler._node

    def counted(self: Any, node: Any) -> Any:
        nonlocal calls
        calls += 1
        return compile_one(self, node)

    monkeypatch.setattr(module._Compiler, "_node", counted)
    assert module.compile_node(tree)({"x": 12.5}) == 12.0
    assert calls == len({id(n) for n in walk(tree)})
