"""Formula text: translating a shared formula to each cell it fills, and splitting a plain
reference (``'Sheet'!$C$5``) into sheet and cell.

Shared formulas
---------------
Excel (and WPS) write a formula filled down or across once, on the range's first cell
(``<f t="shared" ref="B2:B9" si="0">A2*2</f>``), and mark the others ``<f t="shared"
si="0"/>``. This reader **translates** the master's text for every dependent cell, shifting
each relative reference (``A2`` → ``A3``; ``$A$2`` and the absolute half of ``$A2``/``A$2``
stay; ranges, whole columns ``A:A`` and whole rows ``2:2`` included) by the cell's offset from
the master and leaving strings, quoted sheet names, names, functions and bracketed parts
untouched. A reference shifted off the sheet becomes ``#REF!``, as in Excel. So
``RawCell.formula`` is always the cell's own formula text, whoever wrote the file. (LibreOffice
7.4 writes every formula in full; the translation matters for files Excel re-saved.)
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from ..cellref import column_letter, column_number

_MAX_ROW: Final = 1_048_576
_MAX_COL: Final = 16_384


# --------------------------------------------------------------------------------------------
# Formula translation (shared formulas)
# --------------------------------------------------------------------------------------------

_FORMULA_TOKEN: Final = re.compile(
    r"""
      "(?:[^"]|"")*"                                   # string literal
    | '(?:[^']|'')*'                                   # quoted sheet name
    | \[(?:[^\[\]]|\[[^\[\]]*\])*\]                    # [1] external index, structured refs
    | \#[A-Za-z0-9/_]+[!?]?                            # error literal: #REF! #N/A #DIV/0!
    | (?P<area>\$?[A-Za-z]{1,3}\$?[0-9]+(?::\$?[A-Za-z]{1,3}\$?[0-9]+)?)(?![\w.(!\[])
    | (?P<cols>\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3})(?![\w.(!\[])
    | (?P<rows>\$?[0-9]+:\$?[0-9]+)(?![\w.(!\[])
    | [\w.\\?$]+                                       # names, functions, numbers, sheets
    | .                                                # operators, spaces, anything else
    """,
    re.VERBOSE | re.DOTALL,
)
_REF_PART: Final = re.compile(r"(\$?)([A-Za-z]{1,3})?(\$?)([0-9]+)?")


def _shift_part(text: str, rows: int, cols: int) -> str | None:
    """Shift one reference end ("A1", "$A1", "A", "$3", …); None when it leaves the sheet."""
    match = _REF_PART.fullmatch(text)
    if match is None:  # pragma: no cover - callers pass only matched references
        return text
    col_abs, letters, row_abs, digits = match.groups()
    if letters is None:  # a whole-row end such as "$3": the "$" is the row's
        col_abs, row_abs = "", col_abs + row_abs
    out = ""
    if letters is not None:
        col = column_number(letters)
        if not col_abs:
            col += cols
        if not 1 <= col <= _MAX_COL:
            return None
        out += col_abs + column_letter(col - 1)
    if digits is not None:
        row = int(digits)
        if not row_abs:
            row += rows
        if not 1 <= row <= _MAX_ROW:
            return None
        out += row_abs + str(row)
    return out


def _in_sheet(text: str) -> bool:
    """Whether a reference end names a real column/row (else it is a name like "ABCD1")."""
    match = _REF_PART.fullmatch(text)
    if match is None:
        return False
    _, letters, _, digits = match.groups()
    if letters is not None and column_number(letters) > _MAX_COL:
        return False
    return digits is None or 1 <= int(digits) <= _MAX_ROW


def translate_formula(formula: str, rows: int, cols: int) -> str:
    """``formula`` as it reads ``rows`` rows down and ``cols`` columns right of where it was
    written: relative references move, absolute ones stay (Excel's copy/fill rule)."""
    if not rows and not cols:
        return formula

    def shift(match: re.Match[str]) -> str:
        token = match.group(0)
        if match.lastgroup is None:
            return token
        ends = token.split(":")
        if not all(_in_sheet(end) for end in ends):
            return token  # a name that only looks like a reference, e.g. "XFE1"
        moved = [_shift_part(end, rows, cols) for end in ends]
        if any(end is None for end in moved):
            return "#REF!"
        return ":".join(end for end in moved if end is not None)

    return _FORMULA_TOKEN.sub(shift, formula)


_REFERENCE: Final = re.compile(
    r"(?:'((?:[^']|'')+)'|([^'!\[\]]+))!"
    r"(\$?[A-Za-z]{1,3}\$?[0-9]+(?::\$?[A-Za-z]{1,3}\$?[0-9]+)?"
    r"|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}|\$?[0-9]+:\$?[0-9]+)"
)


@lru_cache(maxsize=1 << 14)  # every return of a template carries the same names
def split_reference(text: str) -> tuple[str, str] | None:
    """``'My ''x'' sheet'!$C$5`` -> ("My 'x' sheet", "C5"); None when ``text`` is not one plain
    reference into a sheet of this workbook (a formula, several areas, an external link)."""
    match = _REFERENCE.fullmatch(text.strip().removeprefix("="))
    if match is None:
        return None
    quoted, bare, ref = match.groups()
    sheet = quoted.replace("''", "'") if quoted is not None else bare
    return sheet, ref.replace("$", "").upper()
