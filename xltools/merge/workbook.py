"""The summary workbook (XlsxWriter), streamed from the spool.

Sheets: 概况 first (:mod:`~xltools.merge.cover`: title, date, verdict, next step, counts, the
files to chase); 汇总, 指标明细, 问题清单, 未采纳, 清单 — each one Excel table (filters, banded rows,
frozen header, number formats: money ``#,##0.00``, percent ``0.00%``; text wrapped, rows as
tall as their text; ids in hidden columns) — 统计, with the overview, grade distribution,
score histogram and execution rate by bureau as tables and as native Excel charts, and
字段说明 last (:mod:`~xltools.merge.legend`). Every sheet prints on A4, one page wide, with
repeated headers and page numbers (:mod:`~xltools.merge.sheet_setup`).

Memory stays flat however many rows there are: the workbook is written in XlsxWriter's
``constant_memory`` mode, row after row, straight from the spool's cursor. XlsxWriter refuses
``add_table`` in that mode only because ``add_table`` may write cells out of order; the
tables here write no cells through it (:func:`_add_table` declares the range, then the header
and the rows are written in order like any others), so the refusal is stepped around there.

Every string is written as a string cell — by :func:`~xltools.merge.safe.write_cell`
(``write_string``) or, for the rows of the tables, by :class:`~xltools.merge.safe.RowWriter`,
which writes the same inline-string markup without XlsxWriter's per-cell overhead: text a unit
typed that looks like a formula stays text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..atomic import atomic_path
from .cover import cover_sheet
from .legend import legend_sheet
from .safe import RowWriter, write_cell
from .sheet_setup import RowHeights, page_setup
from .spool import Kind, Spool, Table

if TYPE_CHECKING:
    from .result import MergeResult

MAX_DATA_ROWS: Final = 1_048_575  # Excel's rows, less the header
FORMATS: Final[dict[Kind, str | None]] = {
    "text": None,
    "any": None,
    "int": "0",
    "money": "#,##0.00",
    "percent": "0.00%",
    "score": "0.00",
}
TABLE_STYLE: Final = "Table Style Medium 2"
RATE_CHART_BARS: Final = 50
HISTOGRAM_BINS: Final = 10


def write_summary(spool: Spool, tables: list[Table], target: Path, result: MergeResult) -> None:
    """Write the summary workbook atomically to ``target``."""
    import xlsxwriter

    with atomic_path(target) as temporary:
        workbook = xlsxwriter.Workbook(
            str(temporary),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        workbook.set_properties({"title": "绩效自评表汇总", "comments": result.line})
        formats: dict[str, Any] = {
            # top-aligned: a number beside a wrapped text stands on the text's first line
            kind: workbook.add_format({"valign": "top", **({"num_format": code} if code else {})})
            for kind, code in FORMATS.items()
        }
        # Excel draws the table style; LibreOffice and WPS show this.
        formats["header"] = workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "bottom": 1, "text_wrap": True, "valign": "top"}
        )
        formats["wrap"] = workbook.add_format({"text_wrap": True, "valign": "top"})
        cover_sheet(workbook, spool, result)  # first: what an officer reads, and does next
        for table in tables:
            _table_sheet(workbook, spool, table, formats, result)
        _statistics_sheet(workbook, spool, formats, result)
        legend_sheet(workbook, spool, tables)
        workbook.worksheets()[0].activate()
        workbook.close()


def _add_table(
    worksheet: Any,
    first_row: int,
    first_col: int,
    data_rows: int,
    headers: list[str],
    name: str,
    formats: list[Any],
    header_format: Any = None,
) -> None:
    """An Excel table over a range whose cells are written afterwards, in order."""
    from xlsxwriter.utility import xl_range

    last_row = first_row + max(data_rows, 1)
    last_col = first_col + len(headers) - 1
    columns = [{"header": h, "format": f} for h, f in zip(headers, formats, strict=True)]
    worksheet.constant_memory = False  # see the module's docstring: no cell is written here
    try:
        status = worksheet.add_table(
            first_row,
            first_col,
            first_row,
            last_col,
            {"name": name, "columns": columns, "header_row": False, "style": TABLE_STYLE},
        )
    finally:
        worksheet.constant_memory = True
    if status != 0:
        raise RuntimeError(f"XlsxWriter add_table refused table {name} ({status})")
    table = worksheet.tables[-1]
    table["range"] = table["autofilter"] = xl_range(first_row, first_col, last_row, last_col)
    table["header_row_count"] = 1
    for col, header in enumerate(headers):
        worksheet.write_string(first_row, first_col + col, header, header_format)


def _table_sheet(
    workbook: Any, spool: Spool, table: Table, formats: dict[str, Any], result: MergeResult
) -> None:
    worksheet = workbook.add_worksheet(table.sheet)
    count = table.count(spool)
    if count > MAX_DATA_ROWS:
        result.notes.append(
            f"{table.sheet} 有 {count} 行，超过 Excel 的行数上限，工作簿中只写了前 {MAX_DATA_ROWS} 行；"
            "完整数据见 --csv、--parquet 或 --sqlite 输出"
        )
        count = MAX_DATA_ROWS
    # Text wraps within its column (a long reason or path reads whole, and prints whole).
    wrapped = [c.kind in ("text", "any") for c in table.columns]
    column_formats = [
        formats["wrap"] if wrap else formats[c.kind]
        for c, wrap in zip(table.columns, wrapped, strict=True)
    ]
    for col, column in enumerate(table.columns):
        # ids (template ids, finding codes, hashes) are for machines: hidden, not dropped
        worksheet.set_column(col, col, column.width, None, {"hidden": column.hidden})
    page_setup(worksheet)
    worksheet.freeze_panes(1, 0)
    headers = [c.header for c in table.columns]
    heights = RowHeights([c.width for c in table.columns], [True] * len(headers))
    header_height = heights(headers)
    if header_height is not None:
        worksheet.set_row(0, header_height)
    _add_table(
        worksheet,
        0,
        0,
        count,
        headers,
        f"tbl_{table.key}",
        column_formats,
        formats["header"],
    )
    _percent_where_unit_is_percent(worksheet, table, count, formats["percent"])
    labelled = [(n, c.labels) for n, c in enumerate(table.columns) if c.labels is not None]
    write_row = RowWriter(worksheet, 0, column_formats).write_row
    row_height = RowHeights([c.width for c in table.columns], wrapped)
    row = 0
    for batch in table.rows(spool, analyst=False):
        for values in batch:
            row += 1
            if row > count:
                return
            shown = _labelled(values, labelled) if labelled else values
            height = row_height(shown)
            if height is not None:
                worksheet.set_row(row, height)
            write_row(row, shown)


def _percent_where_unit_is_percent(worksheet: Any, table: Table, rows: int, percent: Any) -> None:
    """指标明细 keeps a percent target as the fraction the rules use (0.95): shown as 95.00%
    in a row whose unit is ``%``, as the form shows it, instead of 0.95 beside a % column."""
    from xlsxwriter.utility import xl_col_to_name

    keys = [c.key for c in table.columns]
    if "measure_unit" not in keys or rows < 1:
        return
    unit = f"${xl_col_to_name(keys.index('measure_unit'))}2"
    for key in ("target", "actual"):
        if key in keys:
            col = keys.index(key)
            worksheet.conditional_format(
                1, col, rows, col,
                {"type": "formula", "criteria": f'={unit}="%"', "format": percent},
            )  # fmt: skip


def _labelled(values: Sequence[Any], labelled: list[tuple[int, Mapping[str, str]]]) -> list[Any]:
    """``values`` with the coded ones (status, severity) shown by their labels."""
    shown = list(values)
    for n, mapping in labelled:
        value = shown[n]
        if isinstance(value, str):
            shown[n] = mapping.get(value, value)
    return shown


def _statistics_sheet(
    workbook: Any, spool: Spool, formats: dict[str, Any], result: MergeResult
) -> None:
    counts = result.counts
    connection = spool.connection
    (with_errors, average) = connection.execute(
        "SELECT SUM(errors > 0), AVG(total) FROM files WHERE status = 'accepted'"
    ).fetchone()
    overview: list[tuple[Any, ...]] = [
        ("输入文件", counts.inputs),
        ("采纳", counts.accepted),
        ("被替代", counts.superseded),
        ("未采纳", counts.rejected),
        *([("跳过", counts.skipped)] if counts.skipped else []),
        ("采纳但有错误", int(with_errors or 0)),
        ("平均总分", round(average, 2) if average is not None else None),
    ]
    grades = [
        (grade or "（无等次）", n)
        for grade, n, _ in connection.execute(
            "SELECT grade, COUNT(*), AVG(total) FROM files WHERE status = 'accepted'"
            " GROUP BY grade ORDER BY AVG(total) DESC, grade"
        )
    ]
    bins = [0] * HISTOGRAM_BINS
    for (total,) in connection.execute(
        "SELECT total FROM files WHERE status = 'accepted' AND total IS NOT NULL"
    ):
        if math.isfinite(total):  # a self-score of 1e308 typed twice sums to infinity
            bins[min(HISTOGRAM_BINS - 1, max(0, int(total // 10)))] += 1
    histogram = [
        (f"{n * 10}–{n * 10 + 10}" if n < HISTOGRAM_BINS - 1 else f"{n * 10}–100", count)
        for n, count in enumerate(bins)
    ]
    rate_query = (
        "SELECT COALESCE(NULLIF(MAX(unit), ''), bureau) AS name, SUM(funds_budget),"
        " SUM(funds_spent), SUM(funds_spent) / SUM(funds_budget) AS rate FROM ("
        "  SELECT COALESCE(NULLIF(bureau_id, ''), unit) AS bureau, unit, funds_budget,"
        "   funds_spent FROM files WHERE status = 'accepted' AND funds_budget > 0"
        "   AND funds_spent IS NOT NULL)"
        " GROUP BY bureau ORDER BY rate, name"
    )
    (bureaus,) = connection.execute(f"SELECT COUNT(*) FROM ({rate_query})").fetchone()

    worksheet = workbook.add_worksheet("统计")
    for col, width in ((0, 14), (1, 10), (3, 12), (4, 8), (6, 10), (7, 8), (9, 28), (10, 14)):
        worksheet.set_column(col, col, width)
    worksheet.set_column(11, 12, 12)
    page_setup(worksheet)
    worksheet.freeze_panes(1, 0)
    text, number, header = formats["text"], formats["int"], formats["header"]
    blocks: list[tuple[int, list[tuple[Any, ...]], list[Any]]] = [
        (0, overview, [text, text]),
        (3, grades, [text, number]),
        (6, histogram, [text, number]),
    ]
    _add_table(
        worksheet, 0, 0, len(overview), ["项目", "数量"], "tbl_overview", blocks[0][2], header
    )
    _add_table(worksheet, 0, 3, len(grades), ["等次", "份数"], "tbl_grades", blocks[1][2], header)
    _add_table(
        worksheet, 0, 6, len(histogram), ["总分段", "份数"], "tbl_scores", blocks[2][2], header
    )
    rate_formats = [text, formats["money"], formats["money"], formats["percent"]]
    _add_table(
        worksheet,
        0,
        9,
        min(bureaus, MAX_DATA_ROWS),
        ["单位", "全年预算数", "全年执行数", "执行率"],
        "tbl_rates",
        rate_formats,
        header,
    )
    rates = connection.execute(rate_query)
    small_blocks = max(len(overview), len(grades), len(histogram))
    longest = max(small_blocks, min(bureaus, MAX_DATA_ROWS))
    rate_row = RowWriter(worksheet, 9, rate_formats).write_row
    for row in range(1, longest + 1):
        found = rates.fetchone() if row <= bureaus else None
        if row > small_blocks:  # the rates alone
            if found is not None:
                rate_row(row, found)
            continue
        for first_col, rows, cell_formats in blocks:
            if row <= len(rows):
                for col, value in enumerate(rows[row - 1]):
                    write_cell(worksheet, row, first_col + col, value, cell_formats[col])
        if found is not None:
            for col, value in enumerate(found):
                write_cell(worksheet, row, 9 + col, value, rate_formats[col])

    column = workbook.add_chart({"type": "column"})
    column.add_series(
        {
            "name": "份数",
            "categories": ["统计", 1, 3, max(len(grades), 1), 3],
            "values": ["统计", 1, 4, max(len(grades), 1), 4],
            "data_labels": {"value": True},
        }
    )
    column.set_title({"name": "评价等次分布"})
    column.set_legend({"none": True})
    worksheet.insert_chart(1, 14, column, {"x_scale": 1.2})

    histogram_chart = workbook.add_chart({"type": "column"})
    histogram_chart.add_series(
        {
            "name": "份数",
            "categories": ["统计", 1, 6, HISTOGRAM_BINS, 6],
            "values": ["统计", 1, 7, HISTOGRAM_BINS, 7],
            "gap": 10,
        }
    )
    histogram_chart.set_title({"name": "总分分布"})
    histogram_chart.set_x_axis({"name": "总分"})
    histogram_chart.set_y_axis({"name": "份数"})
    histogram_chart.set_legend({"none": True})
    worksheet.insert_chart(17, 14, histogram_chart, {"x_scale": 1.2})

    shown = max(1, min(bureaus, RATE_CHART_BARS))
    bar = workbook.add_chart({"type": "bar"})
    bar.add_series(
        {
            "name": "执行率",
            "categories": ["统计", 1, 9, shown, 9],
            "values": ["统计", 1, 12, shown, 12],
            "data_labels": {"value": True, "num_format": "0.0%"},
        }
    )
    bar.set_title(
        {
            "name": "各单位预算执行率"
            if bureaus <= RATE_CHART_BARS
            else f"预算执行率最低的 {RATE_CHART_BARS} 个单位（共 {bureaus} 个）"
        }
    )
    bar.set_x_axis({"num_format": "0%", "min": 0})
    bar.set_y_axis({"reverse": True})
    bar.set_legend({"none": True})
    worksheet.insert_chart(33, 14, bar, {"x_scale": 1.2, "y_scale": max(1.0, shown * 18 / 288)})
