"""A1 cell references without importing a spreadsheet library."""

from __future__ import annotations

import re
from functools import lru_cache

_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def column_letter(col: int) -> str:
    """0-based column index -> letters (0 -> A)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_number(letters: str) -> int:
    """Column letters -> 1-based number (A -> 1)."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


@lru_cache(maxsize=1 << 16)
def a1(row: int, col: int) -> str:
    """0-based (row, col) -> "C5". Cached: a check asks for the same few hundred cells of
    every form it reads."""
    return f"{column_letter(col)}{row + 1}"


@lru_cache(maxsize=1 << 16)
def parse_a1(ref: str) -> tuple[int, int]:
    """ "C5" or "$C$5" -> 0-based (row, col)."""
    match = _A1.match(ref.strip())
    if not match:
        raise ValueError(f"not a cell reference: {ref!r}")
    letters, digits = match.groups()
    return int(digits) - 1, column_number(letters) - 1
