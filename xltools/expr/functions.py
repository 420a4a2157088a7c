"""Every function of the rule language: its arity and its Python semantics, in one table.

Each entry is also the Excel function of the same name, so the compiler writes it as is. The
implementations follow Excel (and LibreOffice, which agrees on these): references and ranges
skip text and blanks in aggregates, while values typed directly are converted or rejected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final, NamedTuple

from .values import (
    BLANK,
    DIV0,
    ROUNDING_MODES,
    VALUE,
    ExcelError,
    Scalar,
    Value,
    approx_add,
    approx_value,
    finite,
    round_to,
    text_to_number,
    to_bool,
    to_number,
    to_text,
)


class Arg(NamedTuple):
    """An evaluated argument, and whether it came from a reference (which changes coercion).
    A named tuple: one is made for every argument of every call, thousands per file."""

    value: Value
    is_reference: bool


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    impl: Callable[[list[Arg]], Value]
    aggregate: bool = False  # accepts ranges (list columns) as arguments
    summary: str = ""


def _cells(arg: Arg) -> Iterator[tuple[Scalar, bool]]:
    """The scalar values inside an argument, each with whether it came through a reference."""
    if isinstance(arg.value, tuple):
        for cell in arg.value:
            yield cell, True
    else:
        yield arg.value, arg.is_reference


def _numbers(args: list[Arg]) -> list[float] | ExcelError:
    """The numbers an aggregate (SUM, MIN, MAX, AVERAGE) sees among its arguments."""
    found: list[float] = []
    for arg in args:
        for cell, via_reference in _cells(arg):
            if isinstance(cell, ExcelError):
                return cell
            if via_reference:
                if isinstance(cell, float | int) and not isinstance(cell, bool):
                    found.append(float(cell))
                continue
            if cell is BLANK:
                continue
            number = to_number(cell)
            if isinstance(number, ExcelError):
                return number
            found.append(number)
    return found


def _sum(args: list[Arg]) -> Value:
    numbers = _numbers(args)
    if isinstance(numbers, ExcelError):
        return numbers
    total = 0.0
    for n in numbers:
        total = approx_add(total, n)
    return finite(total)


def _min(args: list[Arg]) -> Value:
    numbers = _numbers(args)
    if isinstance(numbers, ExcelError):
        return numbers
    return min(numbers) if numbers else 0.0


def _max(args: list[Arg]) -> Value:
    numbers = _numbers(args)
    if isinstance(numbers, ExcelError):
        return numbers
    return max(numbers) if numbers else 0.0


def _average(args: list[Arg]) -> Value:
    numbers = _numbers(args)
    if isinstance(numbers, ExcelError):
        return numbers
    if not numbers:
        return DIV0
    total = 0.0
    for n in numbers:
        total = approx_add(total, n)
    return finite(total / len(numbers))


def _count(args: list[Arg]) -> Value:
    count = 0
    for arg in args:
        for cell, via_reference in _cells(arg):
            if isinstance(cell, bool):
                count += 0 if via_reference else 1
            elif isinstance(cell, float | int):
                count += 1
            elif isinstance(cell, str) and not via_reference:
                count += 0 if isinstance(text_to_number(cell), ExcelError) else 1
    return float(count)


def _counta(args: list[Arg]) -> Value:
    return float(sum(1 for arg in args for cell, _ in _cells(arg) if cell is not BLANK))


def _logical(args: list[Arg], combine: Callable[[list[bool]], bool]) -> Value:
    flags: list[bool] = []
    for arg in args:
        if type(arg.value) is bool:  # a comparison or a logical function: most arguments
            flags.append(arg.value)
            continue
        for cell, via_reference in _cells(arg):
            if isinstance(cell, ExcelError):
                return cell
            if cell is BLANK or (via_reference and isinstance(cell, str)):
                continue
            flag = to_bool(cell)
            if isinstance(flag, ExcelError):
                return flag
            flags.append(flag)
    return combine(flags) if flags else VALUE


def _scalar(arg: Arg) -> Scalar:
    return VALUE if isinstance(arg.value, tuple) else arg.value


def _if(args: list[Arg]) -> Value:
    condition = to_bool(_scalar(args[0]))
    if isinstance(condition, ExcelError):
        return condition
    if condition:
        return args[1].value
    return args[2].value if len(args) > 2 else False


def _iferror(args: list[Arg]) -> Value:
    value = _scalar(args[0])
    return args[1].value if isinstance(value, ExcelError) else value


def _not(args: list[Arg]) -> Value:
    flag = to_bool(_scalar(args[0]))
    return flag if isinstance(flag, ExcelError) else not flag


def _numeric(fn: Callable[[float], Value]) -> Callable[[list[Arg]], Value]:
    def impl(args: list[Arg]) -> Value:
        x = to_number(_scalar(args[0]))
        return x if isinstance(x, ExcelError) else fn(x)

    return impl


def _rounding(name: str) -> Callable[[list[Arg]], Value]:
    def impl(args: list[Arg]) -> Value:
        x = to_number(_scalar(args[0]))
        if isinstance(x, ExcelError):
            return x
        digits = to_number(_scalar(args[1]))
        if isinstance(digits, ExcelError):
            return digits
        return round_to(x, math.trunc(digits), ROUNDING_MODES[name])

    return impl


def _is(test: Callable[[Scalar], bool]) -> Callable[[list[Arg]], Value]:
    def impl(args: list[Arg]) -> Value:
        return test(_scalar(args[0]))

    return impl


def _len(args: list[Arg]) -> Value:
    text = to_text(_scalar(args[0]))
    return text if isinstance(text, ExcelError) else float(len(text))


def _mid(args: list[Arg]) -> Value:
    """MID(text, start, count): a number is read as the text it shows (general format)."""
    text = to_text(_scalar(args[0]))
    if isinstance(text, ExcelError):
        return text
    start, count = to_number(_scalar(args[1])), to_number(_scalar(args[2]))
    if isinstance(start, ExcelError):
        return start
    if isinstance(count, ExcelError):
        return count
    first, length = math.trunc(start), math.trunc(count)
    if first < 1 or length < 0:
        return VALUE
    return text[first - 1 : first - 1 + length]


def _find(args: list[Arg]) -> Value:
    """FIND(needle, haystack, [start]): case-sensitive, no wildcards; "" is found at start."""
    needle, haystack = to_text(_scalar(args[0])), to_text(_scalar(args[1]))
    if isinstance(needle, ExcelError):
        return needle
    if isinstance(haystack, ExcelError):
        return haystack
    start = to_number(_scalar(args[2])) if len(args) > 2 else 1.0
    if isinstance(start, ExcelError):
        return start
    first = math.trunc(start)
    if first < 1 or first > len(haystack) + 1:
        return VALUE
    index = haystack.find(needle, first - 1)
    return VALUE if index < 0 else float(index + 1)


def _is_number(value: Scalar) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool)


FUNCTIONS: Final[dict[str, Function]] = {
    f.name: f
    for f in (
        Function("IF", 2, 3, _if, summary="IF(条件, 真值, [假值])"),
        Function("IFERROR", 2, 2, _iferror, summary="IFERROR(值, 出错时的值)"),
        Function("AND", 1, None, lambda a: _logical(a, all), aggregate=True),
        Function("OR", 1, None, lambda a: _logical(a, any), aggregate=True),
        Function("NOT", 1, 1, _not),
        Function("SUM", 1, None, _sum, aggregate=True),
        Function("MIN", 1, None, _min, aggregate=True),
        Function("MAX", 1, None, _max, aggregate=True),
        Function("AVERAGE", 1, None, _average, aggregate=True),
        Function("COUNT", 1, None, _count, aggregate=True),
        Function("COUNTA", 1, None, _counta, aggregate=True),
        Function("ABS", 1, 1, _numeric(abs)),
        # INT floors the value as shown (15 digits): INT((0.1+0.7)*10) is 8, not 7, as in
        # LibreOffice (rtl::math::approxFloor); Excel documents no rule for this corner.
        Function("INT", 1, 1, _numeric(lambda x: float(math.floor(approx_value(x))))),
        Function("ROUND", 2, 2, _rounding("ROUND")),
        Function("ROUNDUP", 2, 2, _rounding("ROUNDUP")),
        Function("ROUNDDOWN", 2, 2, _rounding("ROUNDDOWN")),
        Function("ISBLANK", 1, 1, _is(lambda v: v is BLANK)),
        Function("ISNUMBER", 1, 1, _is(_is_number)),
        Function("ISTEXT", 1, 1, _is(lambda v: isinstance(v, str))),
        Function("ISERROR", 1, 1, _is(lambda v: isinstance(v, ExcelError))),
        Function("LEN", 1, 1, _len),
        Function("MID", 3, 3, _mid, summary="MID(文本, 起始位置, 字符数)"),
        Function("FIND", 2, 3, _find, summary="FIND(要找的文本, 在其中查找的文本, [起始位置])"),
    )
}
