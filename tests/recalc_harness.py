"""Cross-check expressions between our Python evaluator and a real LibreOffice recalculation.

Give :func:`recalc_cases` a list of *cases*, each an expression text and a list of input rows
(a row maps every variable of the expression to a value). All cases go into ONE xlsx (one
sheet per case, one row per input row), LibreOffice recalculates it in one ``soffice`` run,
and each row comes back as ``(python_value, libreoffice_value)``; :func:`agree` compares the
two and :func:`describe_disagreements` formats every row that differs.

How values are put in cells
---------------------------
* a number: ``write_number``. XlsxWriter stores numbers with 16 significant digits
  (``{:.16G}``), so the Python side evaluates the number the workbook really holds
  (:func:`as_stored`), not the full 17-digit float it was given;
* a text: ``write_string``; the empty text "" as the formula ``=""`` (XlsxWriter would
  otherwise write "" as an empty, i.e. blank, cell);
* a boolean: ``write_boolean``;
* BLANK: the cell is left unwritten;
* an error: the error literal as a formula (``=#DIV/0!``, ``=#N/A`` ...); LibreOffice
  round-trips all six codes of :data:`xltools.expr.ERROR_CODES` this way;
* a tuple (a range variable): its cells in consecutive columns, and the variable resolves to
  the range, e.g. ``$C7:$F7``; shorter tuples are padded with BLANK to the widest one (the
  Python side sees the padded tuple too).

Every formula cell gets a deliberately wrong cached value (:data:`STALE`), so a workbook that
LibreOffice did not recalculate is detected instead of silently "agreeing".
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import openpyxl
import xlsxwriter
from openpyxl.cell.cell import Cell, MergedCell
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from xltools.expr import (
    BLANK,
    ERROR_CODES,
    ExcelError,
    Resolver,
    Scalar,
    Value,
    evaluate,
    names,
    parse,
    to_formula,
    top_level,
)
from xltools.libreoffice import recalculate

Row = Mapping[str, Value]
Case = tuple[str, Sequence[Row]]
Pair = tuple[Scalar, Scalar]

#: Cached value written into every formula cell: only a real recalculation replaces it.
STALE = "<<not recalculated>>"

# How LibreOffice writes an error into xlsx, mapped to the Excel code we use. This is the ONE
# place where LibreOffice's error codes are normalised. LibreOffice has more internal errors
# than Excel (Err:502 "invalid argument", Err:504, Err:511 ...); its xlsx export already maps
# them to Excel's codes (Err:502, e.g. from SQRT(-1), is written as #VALUE!, where Excel would
# show #NUM!), so the six codes below come back unchanged; anything else is kept verbatim and
# will show up as a disagreement.
_LIBREOFFICE_ERRORS: Mapping[str, str] = {code: code for code in ERROR_CODES}


def as_stored(value: Value) -> Value:
    """``value`` as the workbook holds it after XlsxWriter wrote it (16 significant digits)."""
    if isinstance(value, tuple):
        return tuple(_stored_scalar(v) for v in value)
    return _stored_scalar(value)


def _stored_scalar(value: Scalar) -> Scalar:
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.16G}")
    return value


def _write_input(sheet: Worksheet, row: int, col: int, value: Scalar) -> None:
    if value is BLANK:
        return
    if isinstance(value, ExcelError):
        if value.code not in ERROR_CODES:
            raise ValueError(f"cannot write error {value.code} as an input")
        sheet.write_formula(row, col, "=" + value.code, None, STALE)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, float | int):
        if not math.isfinite(value) or 0 < abs(value) < sys.float_info.min:
            raise ValueError(f"a cell cannot hold {value!r} (infinite or subnormal)")
        sheet.write_number(row, col, value)
    elif isinstance(value, str):
        if value == "":
            sheet.write_formula(row, col, '=""', None, "")
        else:
            sheet.write_string(row, col, value)
    else:
        raise TypeError(f"unsupported input {value!r}")


def read_libreoffice(cell: Cell | MergedCell) -> Scalar:
    """A recalculated formula cell as one of our values."""
    value = cell.value
    if cell.data_type == "e":
        code = str(value)
        return ExcelError(_LIBREOFFICE_ERRORS.get(code, code))
    if value is None:
        # LibreOffice writes an empty-text result as an empty <v/>, which openpyxl reads as
        # None. (A formula returning a blank reference is written as 0, never as None.)
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value == STALE:
            raise RuntimeError(f"cell {cell.coordinate} was not recalculated by LibreOffice")
        return value
    raise TypeError(f"unexpected cell value {value!r} in {cell.coordinate}")


def python_value(expression: str, row: Row) -> Scalar:
    """What our evaluator says the formula cell shows for this row.

    An exception in the evaluator is a bug too: it comes back as a pseudo error that cannot
    agree with any LibreOffice value, so the row is listed with the others.
    """
    try:
        return top_level(evaluate(parse(expression), row))
    except Exception as exc:  # noqa: BLE001 - reported as a disagreement, not swallowed
        return ExcelError(f"<evaluator raised {type(exc).__name__}: {exc}>")


def _widths(variables: Sequence[str], rows: Sequence[Row]) -> dict[str, int]:
    """How many columns each variable needs; 0 means a single cell (not a range)."""
    widths = dict.fromkeys(variables, 0)
    for row in rows:
        for name in variables:
            value = row[name]
            if isinstance(value, tuple):
                widths[name] = max(widths[name], len(value), 1)
    return widths


def _padded(value: Value, width: int) -> Value:
    if width == 0:
        return value
    if not isinstance(value, tuple):
        raise ValueError(f"a range variable needs a tuple in every row, got {value!r}")
    return value + (BLANK,) * (width - len(value))


def _resolver(columns: Mapping[str, int], widths: Mapping[str, int], row: int) -> Resolver:
    """Each variable as a reference to its cell(s) in ``row`` (0-based): $B7 or $C7:$F7."""

    def resolve(name: str) -> str:
        first = xl_col_to_name(columns[name], True) + str(row + 1)
        if widths[name] == 0:
            return first
        last = xl_col_to_name(columns[name] + widths[name] - 1, True) + str(row + 1)
        return f"{first}:{last}"

    return resolve


def recalc_cases(cases: Sequence[Case], work_dir: Path) -> list[list[Pair]]:
    """Evaluate every row of every case in Python and in LibreOffice.

    Returns, per case and per row, ``(python_value, libreoffice_value)``. The rows the
    Python side evaluated (numbers as stored, ranges padded) are :func:`stored_rows`.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    source_dir = work_dir / "in"
    source_dir.mkdir(exist_ok=True)
    source = source_dir / "cases.xlsx"
    workbook = xlsxwriter.Workbook(str(source))
    layouts: list[tuple[int, list[Row]]] = []  # result column and stored rows, per case
    for index, (expression, rows) in enumerate(cases):
        node = parse(expression)
        variables = names(node)
        widths = _widths(variables, rows)
        sheet = workbook.add_worksheet(f"C{index:03d}")
        columns: dict[str, int] = {}
        col = 0
        for name in variables:
            columns[name] = col
            sheet.write_string(0, col, name)
            col += max(widths[name], 1)
        result_col = col
        sheet.write_string(0, result_col, expression)
        stored: list[Row] = []
        for r, row in enumerate(rows, start=1):
            values = {n: as_stored(_padded(row[n], widths[n])) for n in variables}
            stored.append(values)
            for name in variables:
                value = values[name]
                cells = value if isinstance(value, tuple) else (value,)
                for offset, cell in enumerate(cells):
                    _write_input(sheet, r, columns[name] + offset, cell)
            formula = to_formula(node, _resolver(columns, widths, r))
            sheet.write_formula(r, result_col, "=" + formula, None, STALE)
        layouts.append((result_col, stored))
    workbook.close()

    [output] = recalculate([source], work_dir / "out")
    book = openpyxl.load_workbook(output, data_only=True)
    results: list[list[Pair]] = []
    for index, ((expression, _), (result_col, stored)) in enumerate(
        zip(cases, layouts, strict=True)
    ):
        sheet = book[f"C{index:03d}"]
        pairs: list[Pair] = []
        for r, row in enumerate(stored, start=1):
            lo = read_libreoffice(sheet.cell(row=r + 1, column=result_col + 1))
            pairs.append((python_value(expression, row), lo))
        results.append(pairs)
    book.close()
    return results


def stored_rows(rows: Sequence[Row]) -> list[dict[str, Value]]:
    """The rows as the workbook holds them (for messages): numbers at 16 digits."""
    return [{n: as_stored(v) for n, v in row.items()} for row in rows]


def agree(python: Scalar, libreoffice: Scalar) -> bool:
    """Numbers within 1e-9 relative (LibreOffice stores 15 significant digits), everything
    else exactly and of the same type (an error by its code, text case-sensitively)."""
    if isinstance(python, bool) or isinstance(libreoffice, bool):
        return type(python) is type(libreoffice) and python == libreoffice
    if isinstance(python, float | int) and isinstance(libreoffice, float | int):
        return math.isclose(python, libreoffice, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(python, ExcelError) or isinstance(libreoffice, ExcelError):
        return python == libreoffice
    if isinstance(python, str) and isinstance(libreoffice, str):
        return python == libreoffice
    return python is libreoffice


def describe_disagreements(cases: Sequence[Case], results: Sequence[Sequence[Pair]]) -> list[str]:
    """One line per disagreeing row: expression, inputs, Python value, LibreOffice value."""
    lines: list[str] = []
    for (expression, rows), pairs in zip(cases, results, strict=True):
        for row, (py, lo) in zip(stored_rows(rows), pairs, strict=True):
            if not agree(py, lo):
                inputs = ", ".join(f"{n}={v!r}" for n, v in row.items())
                lines.append(f"{expression} with {inputs}: python={py!r} libreoffice={lo!r}")
    return lines
