"""Spreadsheet values and the coercions between them, with Excel's semantics.

One place decides how a blank, a text, a boolean or an error behaves in arithmetic, comparison
and concatenation, so that the Python evaluation agrees with what Excel and LibreOffice compute
from the formula we write into the template.

Numbers are floats. Excel and LibreOffice show and store 15 significant digits and snap sums
of opposite numbers that are equal to 15 digits to exactly zero; ``approx_add`` and
``approx_equal`` reproduce that (LibreOffice's ``rtl::math::approxAdd`` / ``approxEqual``).
"""

from __future__ import annotations

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

_EPSILON: Final = 2.0**-48  # LibreOffice's approxEqual tolerance (about 15 digits)


def approx_equal(a: float, b: float) -> bool:
    if a == b:
        return True
    if a == 0.0 or b == 0.0:
        return False
    return abs(a - b) < abs(a) * _EPSILON and abs(a - b) < abs(b) * _EPSILON


def approx_add(a: float, b: float) -> float:
    """a + b, snapped to 0 when a and -b are equal to 15 digits (as both applications do)."""
    if ((a < 0 < b) or (b < 0 < a)) and approx_equal(a, -b):
        return 0.0
    return a + b


def finite(x: float) -> float | ExcelError:
    return x if math.isfinite(x) else NUM


_NUMBER_TEXT = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


def text_to_number(text: str) -> float | ExcelError:
    """Text used where a number is needed: converted only when it is unambiguously a number."""
    if _NUMBER_TEXT.match(text):
        return float(text)
    return VALUE


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


def format_general(x: float) -> str:
    """A number as text the way the General format shows it: up to 15 significant digits."""
    if x == 0:
        return "0"
    if 1e-5 <= abs(x) < 1e15:
        text = f"{x:.15g}"
        if "e" in text:  # .15g switches to exponent for small numbers; expand it
            text = f"{Decimal(text):f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    mantissa, exponent = f"{x:.14E}".split("E")
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
        a, b = left.casefold(), right.casefold()
        return 0 if a == b else (-1 if a < b else 1)
    a_num, b_num = float(left), float(right)  # type: ignore[arg-type]
    if approx_equal(a_num, b_num):
        return 0
    return -1 if a_num < b_num else 1


def _blank_like(other: Scalar) -> Scalar:
    if isinstance(other, bool):
        return False
    if isinstance(other, str):
        return ""
    return 0.0


def _decimal(x: float) -> Decimal:
    # Round to the 15 significant digits the applications work with, so that 2.675 is 2.675.
    return Decimal(f"{x:.15g}")


def round_to(x: float, digits: int, mode: str = ROUND_HALF_UP) -> float:
    """ROUND / ROUNDUP / ROUNDDOWN: away from zero on halves, as Excel does."""
    quantum = Decimal(1).scaleb(-digits)
    return float(_decimal(x).quantize(quantum, rounding=mode)) if digits >= -300 else 0.0


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
