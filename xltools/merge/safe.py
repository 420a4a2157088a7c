"""Formula injection: text copied from returned files must never become a formula elsewhere.

A unit can type ``=HYPERLINK("http://…","点击")`` (or ``+…``, ``-…``, ``@…``) into any text cell.
Copied verbatim into a CSV that Excel opens, or into a cell written with a generic ``write``,
it would run as a formula on the reviewer's machine (CSV/formula injection, OWASP).

Two rules, used by every output of ``xltools merge``:

* xlsx: every string is written with ``write_string`` (:func:`write_cell`), never ``write``,
  so a text that looks like a formula stays text, character for character;
* everything else (CSV, Parquet, SQLite, the DataFrames of the Python API): text that starts
  with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote
  (:func:`neutralise`), as OWASP recommends. Numbers are numbers and are left alone.
"""

from __future__ import annotations

from typing import Any, Final

#: First characters that make a spreadsheet read a cell as a formula (or a DDE payload).
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` made safe for a text-based output: a string that a spreadsheet could read as a
    formula gets a leading ``'``; anything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_cell(worksheet: Any, row: int, col: int, value: Any, cell_format: Any = None) -> None:
    """Write one value into an XlsxWriter worksheet without ever interpreting text: strings go
    through ``write_string``, numbers through ``write_number``, empties as blanks."""
    if value is None or value == "":
        worksheet.write_blank(row, col, None, cell_format)
    elif isinstance(value, bool):
        worksheet.write_string(row, col, "是" if value else "否", cell_format)
    elif isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):  # NaN, ±inf
            worksheet.write_blank(row, col, None, cell_format)
        else:
            worksheet.write_number(row, col, value, cell_format)
    else:
        worksheet.write_string(row, col, str(value), cell_format)
