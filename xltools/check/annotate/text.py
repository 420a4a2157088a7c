"""Text and cell references for the checked copy: report text made safe as cell and attribute
text, display widths (from :mod:`xltools.textfit`), A1 references."""

from __future__ import annotations

import re

from ...cellref import column_letter, column_number
from ...textfit import lines_needed

_CELL_RE = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_RANGE_RE = re.compile(r"^\$?[A-Za-z]{1,3}\$?[0-9]{1,7}(:\$?[A-Za-z]{1,3}\$?[0-9]{1,7})?$")
_ILLEGAL_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EXCEL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_MAX_CELL_TEXT = 32767


# ---------------------------------------------------------------------------------------------
# Text


def _clean(text: object) -> str:
    """Report text as cell text: illegal XML 1.0 characters stripped, Excel's ``_xHHHH_`` escape
    neutralised (so ``_x0041_`` stays literal), cut to what a cell can hold."""
    value = _ILLEGAL_XML.sub("", str(text))
    if len(value) > _MAX_CELL_TEXT:
        value = value[: _MAX_CELL_TEXT - 1] + "…"
    return _EXCEL_ESCAPE.sub(r"_x005F_\1", value)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: object) -> str:
    value = _ILLEGAL_XML.sub("", str(text))
    return (
        _esc(value)
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def _lines(text: str, width: float) -> int:
    # One estimate for every sheet we write (xltools.textfit), so rows sized here pass the
    # overflow check that measures them.
    return lines_needed(text, width)


# ---------------------------------------------------------------------------------------------
# Cell references


def _parse_cell(ref: str) -> tuple[int, int] | None:
    """``"C5"`` → ``(5, 3)`` (row, column), or ``None`` when not a single valid cell."""
    match = _CELL_RE.match(ref.strip())
    if not match:
        return None
    row, col = int(match.group(2)), column_number(match.group(1))
    if not (1 <= row <= 1_048_576 and 1 <= col <= 16_384):
        return None
    return row, col


def _ref(row: int, col: int) -> str:
    return f"{column_letter(col - 1)}{row}"


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"
