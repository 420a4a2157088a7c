"""How much room a text needs in a spreadsheet cell: one estimate for every sheet we write.

Widths are in Excel's column units (the width of "0" in the default 11 pt font); a CJK
character is about two. Heights are in points. The estimate errs on the generous side: a row
a little too tall reads fine, a row too short hides the end of a message in Excel and WPS,
which (unlike LibreOffice) do not grow rows with a fixed height.
"""

from __future__ import annotations

import math
import unicodedata

DEFAULT_FONT_PT = 11.0
# Cell padding Excel keeps inside a column, in column units.
_PADDING = 0.8
# Line pitch of a CJK font relative to its size (WenQuanYi/SimSun/等线 at 11 pt: about 14.5 pt).
_LINE_PITCH = 1.32
_MARGIN_PT = 3.0


def display_width(text: str, font_pt: float = DEFAULT_FONT_PT) -> float:
    """Width of one line of text in column units."""
    units = sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.1 for ch in text)
    return units * font_pt / DEFAULT_FONT_PT


def lines_needed(text: str, width: float, font_pt: float = DEFAULT_FONT_PT) -> int:
    """Lines the text wraps into in a cell (or merged range) `width` columns wide."""
    room = max(width - _PADDING, 1.0)
    return sum(
        max(1, math.ceil(display_width(part, font_pt) / room)) for part in str(text).split("\n")
    )


def line_height(font_pt: float = DEFAULT_FONT_PT) -> float:
    return font_pt * _LINE_PITCH


def height_for(lines: int, font_pt: float = DEFAULT_FONT_PT) -> float:
    """Row height in points that shows `lines` lines of wrapped text whole."""
    return round(max(lines, 1) * line_height(font_pt) + _MARGIN_PT, 1)


def row_height(text: str, width: float, font_pt: float = DEFAULT_FONT_PT) -> float:
    return height_for(lines_needed(text, width, font_pt), font_pt)
