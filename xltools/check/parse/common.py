"""What a reading gives back (``Parsed``) and the small helpers every kind of value shares:
half-width folding, control characters, number formatting for messages."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
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


def _unexpected(raw: Cell) -> Parsed:
    return _invalid("parse-unexpected-type", f"无法识别的单元格内容（{type(raw).__name__}）")
