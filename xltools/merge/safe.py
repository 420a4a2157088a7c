"""Formula injection: text copied from returned files must never become a formula elsewhere.

A unit can type ``=HYPERLINK("http://…","点击")`` (or ``+…``, ``-…``, ``@…``) into any text cell.
Copied verbatim into a CSV that Excel opens, or into a cell written with a generic ``write``,
it would run as a formula on the reviewer's machine (CSV/formula injection, OWASP).

Two rules, used by every output of ``xltools merge``:

* xlsx: every string is written as a string cell — by ``write_string`` (:func:`write_cell`),
  never ``write``, or as the inline-string XML that ``write_string`` writes (:class:`RowWriter`)
  — so a text that looks like a formula stays text, character for character;
* everything else (CSV, Parquet, SQLite, the DataFrames of the Python API): text that starts
  with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote
  (:func:`neutralise`), as OWASP recommends. Numbers are numbers and are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


#: Characters that make :class:`RowWriter` look at a string twice: XML specials (``<`` also
#: starts ``<r>``, which XlsxWriter takes for rich text) and control characters, which
#: XlsxWriter escapes as ``_xHHHH_``. So do ``_x`` (a literal ``_xHHHH_`` is escaped too) and
#: leading or trailing white space (``xml:space="preserve"``).
_SPECIAL: Final = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]")
#: …and of those, the ones it leaves to XlsxWriter's own ``write_string``.
_AWKWARD: Final = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$|^<r>")
#: Strings longer than this may exceed Excel's 32,767 UTF-16 units and be truncated by
#: XlsxWriter (``Worksheet.xls_strmax // 2``, the length below which it does not look).
_SHORT: Final = 16_383
_INFINITIES: Final = (float("inf"), float("-inf"))


class RowWriter:
    """Whole rows of cells written into a ``constant_memory`` XlsxWriter worksheet, cell for
    cell, byte for byte what :func:`write_cell` would have made XlsxWriter write, for a quarter
    of the CPU (``bench/bench_merge_output.py``).

    XlsxWriter's public ``write_*`` methods cost some 6 µs a cell (argument conversion,
    bookkeeping, a cell tuple, then attribute and text escaping with several regular expressions
    when the row is flushed). Here a row's cells are formatted with one f-string each and
    written with one ``write`` into the worksheet's row data file (a height set by ``set_row``
    first is written in the row element, as XlsxWriter does). What is written is exactly
    XlsxWriter's own markup: ``<row r="…">`` by its ``_write_row``; a string as the inline
    string ``write_string`` writes in ``constant_memory`` mode (``t="inlineStr"``: text, never
    a formula), with ``&``, ``<`` and ``>`` escaped as XlsxWriter escapes them; a number as
    ``write_number`` writes it (``{:.16G}``); ``None``, ``""``, NaN and ±inf as the formatted
    blank ``write_blank`` writes. A row holding anything else — a string with control
    characters, ``_xHHHH_``, leading or trailing white space, ``<r>…``, more than 16,383
    characters; a bool; any other type — is written through :func:`write_cell`, i.e. by
    XlsxWriter itself.

    This uses XlsxWriter internals (``fh``, ``table``, ``previous_row``, ``_write_single_row``,
    ``_write_row``, ``_check_dimensions``, ``Format._get_xf_index``); the tests in
    ``tests/test_merge_output_speed.py`` compare every worksheet part written this way with the
    one XlsxWriter writes through :func:`write_cell`, byte for byte, and fail if XlsxWriter
    changes any of it. Rows must come in increasing order, after any row written otherwise; every
    column needs a format (so that every cell, blank or not, is written, as with
    :func:`write_cell`); the format indices are taken at the first row, after the rows before
    it are flushed, which is when XlsxWriter would take them.
    """

    def __init__(self, worksheet: Any, first_col: int, formats: Sequence[Any]) -> None:
        if not worksheet.constant_memory:
            raise ValueError("RowWriter needs a constant_memory worksheet")
        if not formats or any(f is None for f in formats):
            raise ValueError("RowWriter needs a format for every column")
        self.worksheet = worksheet
        self.first_col = first_col
        self.last_col = first_col + len(formats) - 1
        self.formats = list(formats)
        self._cells: list[tuple[str, str]] | None = None  # per column: '<c r="B' and '" s="3"'

    def _prepare(self) -> list[tuple[str, str]]:
        from xlsxwriter.utility import xl_col_to_name

        self._cells = [
            (f'<c r="{xl_col_to_name(self.first_col + n)}', f'" s="{f._get_xf_index()}"')
            for n, f in enumerate(self.formats)
        ]
        return self._cells

    def write_row(self, row: int, values: Sequence[Any]) -> None:
        """Write ``values`` into ``row`` from the first column on (one value per format)."""
        worksheet = self.worksheet
        if row < worksheet.previous_row or row in worksheet.table:
            raise ValueError(f"RowWriter: row {row} is not after the rows already written")
        if len(values) != len(self.formats):
            raise ValueError(f"RowWriter: {len(values)} values for {len(self.formats)} columns")
        if worksheet.table:
            worksheet._write_single_row(row)  # the row the public methods left pending
        cells = self._cells or self._prepare()
        special = _SPECIAL.search
        number = str(row + 1)
        parts = []
        for (head, tail), value in zip(cells, values, strict=True):
            kind = value.__class__
            if kind is str:
                if not value:
                    parts.append(f"{head}{number}{tail}/>")
                    continue
                if (
                    special(value) is not None
                    or "_x" in value
                    or value[0].isspace()
                    or value[-1].isspace()
                ):
                    if _AWKWARD.search(value) is not None:
                        return self._fallback(row, values)
                    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                if len(value) > _SHORT:  # escaped or not: longer still
                    return self._fallback(row, values)
                parts.append(f'{head}{number}{tail} t="inlineStr"><is><t>{value}</t></is></c>')
            elif kind is float or kind is int:
                if value != value or value in _INFINITIES:
                    parts.append(f"{head}{number}{tail}/>")
                else:
                    parts.append(f"{head}{number}{tail}><v>{value:.16G}</v></c>")
            elif value is None:
                parts.append(f"{head}{number}{tail}/>")
            else:
                return self._fallback(row, values)
        if row in worksheet.comments:
            return self._fallback(row, values)
        if worksheet._check_dimensions(row, self.first_col) or worksheet._check_dimensions(
            row, self.last_col
        ):
            raise ValueError(f"RowWriter: row {row} is outside the worksheet")
        # A height given by set_row (a row of wrapped text) is written as XlsxWriter writes it.
        worksheet._write_row(row, None, worksheet.row_info.get(row))
        parts.append("</row>")
        worksheet.fh.write("".join(parts))
        worksheet.previous_row = row + 1

    def _fallback(self, row: int, values: Sequence[Any]) -> None:
        worksheet = self.worksheet
        for n, (value, cell_format) in enumerate(zip(values, self.formats, strict=True)):
            write_cell(worksheet, row, self.first_col + n, value, cell_format)
