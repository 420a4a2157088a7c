"""Spreadsheet values and the coercions between them, with Excel's semantics.

One place decides how a blank, a text, a boolean or an error behaves in arithmetic, comparison
and concatenation, so that the Python evaluation agrees with what Excel and LibreOffice compute
from the formula we write into the template.

Numbers are floats. Excel and LibreOffice show and store 15 significant digits and snap sums
of opposite numbers that are equal to 15 digits to exactly zero; ``approx_add`` and
``approx_equal`` reproduce that (LibreOffice's ``rtl::math::approxAdd`` / ``approxEqual``).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Final, TypeAlias


class _Blank:
    """An empty cell. Only a reference can produce it."""

    _instance: _Blank | None = None

    def __new__(cls) -> _Blank:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "BLANK"

    def __bool__(self) -> bool:
        return False


BLANK: Final = _Blank()


@dataclass(frozen=True)
class ExcelError:
    """An error value such as ``#DIV/0!``: carried through formulas like any other value."""

    code: str

    def __str__(self) -> str:
        return self.code


DIV0: Final = ExcelError("#DIV/0!")
VALUE: Final = ExcelError("#VALUE!")
NUM: Final = ExcelError("#NUM!")
NA: Final = ExcelError("#N/A")
REF: Final = ExcelError("#REF!")
NAME: Final = ExcelError("#NAME?")
ERROR_CODES: Final = frozenset(e.code for e in (DIV0, VALUE, NUM, NA, REF, NAME))

Scalar: TypeAlias = float | str | bool | _Blank | ExcelError
# A reference to several cells (a list column), as a tuple of cell values.
RangeValue: TypeAlias = tuple[Scalar, ...]
Value: TypeAlias = Scalar | RangeValue

_SMALLEST_NORMAL: Final = 2.2250738585072014e-308
_EPSILON: Final = 2.0**-48  # LibreOffice's approxEqual tolerance (about 15 digits)


_MAX_EXACT_INTEGER: Final = 2.0**53


def _is_exact_integer(x: float) -> bool:
    return x < _MAX_EXACT_INTEGER and x.is_integer()


def approx_equal(a: float, b: float) -> bool:
    if a == b:
        return True
    if a == 0.0 or b == 0.0:
        return False
    d = abs(a - b)
    if not math.isfinite(d) or d >= abs(a) * _EPSILON or d >= abs(b) * _EPSILON:
        return False
    # Two different integers that a double holds exactly are never "equal": without this,
    # 1E+15 = 1E+15+1 would be TRUE (LibreOffice's rtl_math_approxEqual has the same rule).
    return not (_is_exact_integer(abs(a)) and _is_exact_integer(abs(b)))


def approx_add(a: float, b: float) -> float:
    """a + b, snapped to 0 when a and -b are equal to 15 digits (as both applications do)."""
    if ((a < 0 < b) or (b < 0 < a)) and approx_equal(a, -b):
        return 0.0
    return a + b


def finite(x: float) -> float | ExcelError:
    return x if math.isfinite(x) else NUM


# A number typed as text, as Excel (and LibreOffice) convert it whatever the locale: ASCII
# digits only (full-width "１２" is not a number for them, although Python's float() takes it),
# spaces around, thousands separators in groups of three ("1,234.5") and a trailing percent
# sign ("85%", "-5 %") but not together with an exponent. Locale-dependent forms (currency,
# dates, times, "(5)", "5-") stay #VALUE!, as do "TRUE"/"FALSE" (Excel: #VALUE!).
_NUMBER_TEXT = re.compile(
    r"^ *(?P<number>[+-]?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<exponent>[eE][+-]?[0-9]+)|(?P<percent> *%))? *$"
)


def text_to_number(text: str) -> float | ExcelError:
    """Text used where a number is needed: converted only when it is unambiguously a number."""
    match = _NUMBER_TEXT.match(text)
    if not match:
        return VALUE
    number = float(match["number"].replace(",", "") + (match["exponent"] or ""))
    if match["percent"]:
        number /= 100
    if abs(number) < _SMALLEST_NORMAL:
        number = 0.0  # neither application has subnormal numbers: "2.2E-308" reads as 0
    # "1E+400" names no double: not a number (rather than an infinity leaking into formulas).
    return number if math.isfinite(number) else VALUE


def to_number(value: Scalar) -> float | ExcelError:
    """A value as an operand of arithmetic."""
    if isinstance(value, ExcelError):
        return value
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        return float(value)
    if value is BLANK:
        return 0.0
    assert isinstance(value, str)
    return text_to_number(value)


def to_bool(value: Scalar) -> bool | ExcelError:
    """A value used as a condition (IF, NOT)."""
    if isinstance(value, ExcelError):
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if value is BLANK:
        return False
    assert isinstance(value, str)
    upper = value.strip().upper()
    if upper == "TRUE":
        return True
    if upper == "FALSE":
        return False
    return VALUE


def significant(x: float, digits: int = 15) -> Decimal:
    """``x`` rounded half away from zero to ``digits`` significant digits.

    Rounds the shortest decimal that reads back as ``x`` (``repr``), not the exact binary
    value: 0.1234567890123455 shows as 0.123456789012346, as LibreOffice shows it (its
    rtl::math works from that decimal), where ``f"{x:.15g}"`` would give ...345.
    """
    exact = Decimal(repr(x))
    if exact == 0 or not exact.is_finite():
        return exact
    quantum = Decimal(1).scaleb(exact.adjusted() - digits + 1)
    return exact.quantize(quantum, rounding=ROUND_HALF_UP)


def approx_value(x: float) -> float:
    """``x`` rounded to 15 significant digits (LibreOffice's approxValue): what INT floors, so
    that INT of 2.9999999999999996 or of (0.1+0.7)*10 is 3 or 8, as shown."""
    if not math.isfinite(x) or x.is_integer():
        return x
    return float(significant(x))


def format_general(x: float) -> str:
    """A number as text the way the General format shows it: up to 15 significant digits."""
    if x == 0:
        return "0"
    rounded = significant(x)
    if Decimal("1e-5") <= abs(rounded) < Decimal("1e15"):
        text = f"{rounded:f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    mantissa, exponent = f"{rounded:.14E}".split("E")
    mantissa = mantissa.rstrip("0").rstrip(".")
    sign = "-" if exponent.startswith("-") else "+"
    return f"{mantissa}E{sign}{abs(int(exponent)):02d}"


def to_text(value: Scalar) -> str | ExcelError:
    """A value as an operand of ``&``."""
    if isinstance(value, ExcelError):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return format_general(float(value))
    if value is BLANK:
        return ""
    assert isinstance(value, str)
    return value


def _type_rank(value: Scalar) -> int:
    # Excel orders mixed types as: numbers < text < booleans.
    if isinstance(value, bool):
        return 2
    if isinstance(value, str):
        return 1
    return 0


def compare(left: Scalar, right: Scalar) -> int | ExcelError:
    """-1, 0 or 1 as Excel's comparison operators see the two values."""
    kind = type(left)
    if kind is type(right):  # the common cases first: two numbers, two texts
        if kind is float:
            if approx_equal(left, right):  # type: ignore[arg-type]
                return 0
            return -1 if left < right else 1  # type: ignore[operator]
        if kind is str:
            a, b = _fold_case(left), _fold_case(right)
            return 0 if a == b else (-1 if a < b else 1)
    if isinstance(left, ExcelError):
        return left
    if isinstance(right, ExcelError):
        return right
    # A blank takes the type of the other side: 0, "" or FALSE.
    if left is BLANK:
        left = _blank_like(right)
    if right is BLANK:
        right = _blank_like(left)
    rank_l, rank_r = _type_rank(left), _type_rank(right)
    if rank_l != rank_r:
        return -1 if rank_l < rank_r else 1
    if isinstance(left, str) and isinstance(right, str):
        a, b = _fold_case(left), _fold_case(right)
        return 0 if a == b else (-1 if a < b else 1)
    a_num, b_num = float(left), float(right)  # type: ignore[arg-type]
    if approx_equal(a_num, b_num):
        return 0
    return -1 if a_num < b_num else 1


@functools.lru_cache(maxsize=4096)  # the same few choice texts are compared in every file
def _fold_case(text: str) -> str:
    # Case-insensitive, one character at a time: "ß" does not equal "ss" (str.casefold would
    # make them equal; Excel and LibreOffice do not), while "ς" equals "σ".
    return "".join(c if len(c.casefold()) > 1 else c.casefold() for c in text)


def _blank_like(other: Scalar) -> Scalar:
    if isinstance(other, bool):
        return False
    if isinstance(other, str):
        return ""
    return 0.0


def round_to(x: float, digits: int, mode: str = ROUND_HALF_UP) -> float | ExcelError:
    """ROUND / ROUNDUP / ROUNDDOWN: away from zero on halves, as Excel does.

    Works on the 15 significant digits the applications work with, so that 2.675 is 2.675.
    """
    if digits < -308:  # coarser than any double: everything rounds to 0
        return 0.0
    value = significant(x)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent >= -digits:
        # Already no finer than asked (ROUND(1E+300, 2), ROUND(1.5, 400)): nothing to round,
        # and quantize would need more than the context's 28 digits.
        return float(value)
    quantum = Decimal(1).scaleb(-digits)
    return finite(float(value.quantize(quantum, rounding=mode)))


ROUNDING_MODES: Final = {"ROUND": ROUND_HALF_UP, "ROUNDUP": ROUND_UP, "ROUNDDOWN": ROUND_DOWN}


def top_level(value: Value) -> Scalar:
    """What a formula cell shows for a result: a blank reference shows as 0."""
    if isinstance(value, tuple):
        return VALUE
    if value is BLANK:
        return 0.0
    if isinstance(value, float) and not math.isfinite(value):
        return NUM
    return value
