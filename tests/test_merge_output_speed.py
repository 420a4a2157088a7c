"""The merge's outputs, written the fast way, are exactly what the plain way writes.

The summary workbook's table rows are written by :class:`~xltools.merge.safe.RowWriter`, which
writes XlsxWriter's cell markup itself instead of calling ``write_string`` / ``write_number`` /
``write_blank`` for every cell (see its docstring). The reference here is the plain way: every
cell through :func:`~xltools.merge.safe.write_cell`, XlsxWriter's public methods. Both
workbooks are compared part by part, byte for byte, so these tests fail if XlsxWriter changes the
markup or the internals ``RowWriter`` relies on. The CSV files, whose texts are now neutralised in
SQL, are compared byte for byte with CSV written from the same rows neutralised in Python.

The returns are made up (a fake executor hands the merge its results) so that they can hold what
checked workbooks rarely do: text that looks like a formula, control characters, ``_xHHHH_``,
``<r>…</r>``, XML specials, white space at either end, text too long for a cell, ±inf, huge and
tiny numbers, empty strings, NULLs, bools.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import sqlite3
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from xltools.merge import Outputs, merge, neutralise
from xltools.merge.analyst import write_csv
from xltools.merge.safe import RowWriter, write_cell
from xltools.merge.spool import neutralised_sql, tables
from xltools.merge.workbook import write_summary
from xltools.merge.worker import FileResult, GroupScore

INJECTION = '=HYPERLINK("http://example.invalid","点击")'
AWKWARD_TEXT = [
    INJECTION,
    "+1",
    "-x",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "'=already quoted",
    " leading space",
    "trailing space ",
    "\u3000全角空格",
    "nbsp\xa0",
    "line\nbreak",
    "ends with newline\n",
    "tab\tinside",
    "bell\x07",
    "nul\x00",
    "cr\rinside",
    "_x0041_ looks escaped",
    "x_x00e9_y",
    "_x not escaped",
    "_xZZZZ_",
    "<r><t>rich?</t></r>",
    "<r>not closed",
    "a & b < c > d \"q\" 'a'",
    "&amp;",
    "]]>",
    "\ufffe\uffff",
    "emoji 🙂 and 𠀀",
    "长文本" * 6000,  # 18,000 characters: checked against the 32,767 UTF-16 limit
    "🙂" * 17_000,  # 34,000 UTF-16 units: truncated by XlsxWriter
    "x" * 40_000,
    "R&D" * 12_000,  # XML specials in a text cut by XlsxWriter
    "",
    "0",
    "1e5",
    "TRUE",
]
AWKWARD_NUMBERS: list[Any] = [
    float("inf"),
    float("-inf"),
    float("nan"),
    10**18,
    -(2**63),
    1e300,
    -1e-300,
    5e-324,
    -0.0,
    0.1 + 0.2,
    123456789.123456789,
    True,
    False,
    0,
    None,
]


def _result(i: int, text: str, other: Any) -> FileResult:
    """A checked return whose every text field may carry ``text`` and whose numbers ``other``."""
    kind = i % 4
    return FileResult(
        path=f"r{i}.xlsx",
        sha256=f"{i:064x}",
        bytes=1000 + i,
        mtime=1_700_000_000.0 + i,
        template="project_expense_2023" if kind else "department_overall",
        version=1,
        title="项目支出绩效自评表",
        bureau_id=f"B{i:04d}" if kind != 3 else "",
        unit=text if kind == 1 else f"第{i:04d}单位",
        project=text if kind == 2 else f"第{i:04d}号项目",
        total=other if isinstance(other, float) and abs(other) < 1e300 else 60 + i % 40,
        grade=["优", "良", "中", "差", ""][i % 5],
        errors=i % 3,
        warnings=i % 2,
        infos=0,
        funds={
            "funds_initial": other,
            "funds_budget": 100.0 + i if i % 7 else other,
            "funds_spent": 90.5 + i,
            "execution_rate": 0.905,
        },
        groups=[
            GroupScore("output", "产出指标", 40 - i % 5, 50),
            GroupScore("effect", "效益指标", other, 30),
            GroupScore("Output", "产出指标", 1, 1),  # the same label: the key tells them apart
        ],
        indicators=[
            ("产出指标", "数量指标", text, ">=", other, text, "万元", 10, 9.5, text),
            ("产出指标", "质量指标", "合格率", "=", 0.95, "95%", "%", 10, other, ""),
            ("效益指标", "社会效益", "服务对象", "定性", "好", None, None, None, None, None),
        ],
        findings=[
            ("error", "value-required", "表", "C5", "project_name", text, "", "", "项目名称"),
            ("warning", "custom-code", "表", "D7", text, "说明", text, "found", text),
            ("info", "unknown-severity", "", "", "", "", "", "", ""),
        ],
    )


def _results() -> list[FileResult]:
    rng = random.Random(20240611)
    results = []
    awkward = 4 * len(AWKWARD_TEXT)  # each text in each kind of return, then plain ones
    for i in range(awkward + 40):
        text = AWKWARD_TEXT[i // 4] if i < awkward else f"普通文本{i}"
        other = AWKWARD_NUMBERS[i % len(AWKWARD_NUMBERS)] if i % 2 else rng.uniform(-1e6, 1e6)
        results.append(_result(i, text, other))
    results[5].reject_code = "tampered"  # rejected after checking, with its reason
    results[5].reject_reason = INJECTION
    results[9].bureau_id = results[45].bureau_id  # superseded (same template, older)
    return results


class _Fake:
    def __init__(self, results: list[FileResult]) -> None:
        self.results = results

    def run(self, paths: Sequence[str], specs_dir: str | None) -> Iterator[tuple[int, FileResult]]:
        for position, _ in enumerate(paths):
            yield position, self.results[position]


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("returns")
    results = _results()
    paths = []
    for i in range(len(results)):
        path = folder / f"r{i:03d}.xlsx"
        path.write_bytes(b"not really a workbook")
        paths.append(path)
    (folder / "~$r000.xlsx").write_bytes(b"lock")  # refused without a check
    with merge([folder], executor=_Fake(results)) as result:
        yield result


def _write_cell_rows(self: RowWriter, row: int, values: Sequence[Any]) -> None:
    """The plain way: every cell through :func:`write_cell` (the summary before RowWriter)."""
    for n, (value, cell_format) in enumerate(zip(values, self.formats, strict=True)):
        write_cell(self.worksheet, row, self.first_col + n, value, cell_format)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    # The only difference allowed: when each was written.
    parts["docProps/core.xml"] = re.sub(
        rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", parts["docProps/core.xml"]
    )
    return parts


class _Counting:
    """Counts the rows RowWriter writes itself and those it leaves to write_cell."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rows = self.fallbacks = 0
        write_row, fallback = RowWriter.write_row, RowWriter._fallback

        def counted_row(writer: RowWriter, row: int, values: Sequence[Any]) -> None:
            self.rows += 1
            write_row(writer, row, values)

        def counted_fallback(writer: RowWriter, row: int, values: Sequence[Any]) -> None:
            self.fallbacks += 1
            fallback(writer, row, values)

        monkeypatch.setattr(RowWriter, "write_row", counted_row)
        monkeypatch.setattr(RowWriter, "_fallback", counted_fallback)


def test_summary_workbook_is_the_plain_write_cell_workbook_byte_for_byte(
    merged: Any, tmp_path: Path
) -> None:
    spool = merged._spool
    with pytest.MonkeyPatch.context() as patch:
        counting = _Counting(patch)
        write_summary(spool, tables(spool), tmp_path / "fast.xlsx", merged)
    # Both ways were taken: most rows by RowWriter itself, the awkward ones by write_cell.
    assert counting.rows > 500
    assert 20 < counting.fallbacks < counting.rows / 2
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RowWriter, "write_row", _write_cell_rows)
        write_summary(spool, tables(spool), tmp_path / "plain.xlsx", merged)
    fast, plain = _parts(tmp_path / "fast.xlsx"), _parts(tmp_path / "plain.xlsx")
    assert sorted(fast) == sorted(plain)
    for name in plain:
        assert fast[name] == plain[name], name


def test_summary_cells_hold_the_spool_values(merged: Any, tmp_path: Path) -> None:
    """Independently of XlsxWriter's markup: every cell of every table sheet, read back with
    openpyxl, is the spool's value (labels shown for codes), as a string when it is text, with
    its column's number format."""
    spool = merged._spool
    target = tmp_path / "summary.xlsx"
    all_tables = tables(spool)
    write_summary(spool, all_tables, target, merged)
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["概况", *(t.sheet for t in all_tables), "统计", "字段说明"]
    formats = {"int": "0", "money": "#,##0.00", "percent": "0.00%", "score": "0.00"}
    seen_text = set()
    for table in all_tables:
        sheet = book[table.sheet]
        rows = list(sheet.iter_rows())
        assert [c.value for c in rows[0]] == [c.header for c in table.columns]
        expected = [r for batch in table.rows(spool, analyst=False) for r in batch]
        assert len(rows) - 1 == len(expected) > 0
        for cells, values in zip(rows[1:], expected, strict=True):
            for cell, value, column in zip(cells, values, table.columns, strict=True):
                assert cell.number_format == formats.get(column.kind, "General")
                if column.labels is not None and isinstance(value, str):
                    value = column.labels.get(value, value)
                if value is None or value == "" or value in (float("inf"), float("-inf")):
                    assert cell.value is None
                elif isinstance(value, str):
                    assert cell.data_type == "s"
                    readable = _as_openpyxl_reads(value)
                    if readable is not None:
                        assert cell.value == readable, (table.sheet, cell.coordinate)
                        seen_text.add(value)
                else:
                    assert cell.data_type == "n"
                    assert cell.value == pytest.approx(value, rel=1e-15)
    assert {INJECTION, "+1", "-x", "@SUM(A1)", "\t=1", " leading space", "x" * 40_000} <= seen_text


def _as_openpyxl_reads(value: str) -> str | None:
    """What a cell holding ``value`` reads as: XlsxWriter cuts text at Excel's 32,767 UTF-16
    units. ``None`` for text that XlsxWriter escapes (control characters, ``_xHHHH_``) or takes
    for rich text (``<r>…``), which openpyxl reads back as written: the byte-for-byte test
    covers those."""
    if re.search(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^<r>", value):
        return None
    units = 0
    for n, char in enumerate(value):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > 32_767:
            return value[:n]
    return value


def test_csv_is_what_python_neutralise_writes(merged: Any, tmp_path: Path) -> None:
    spool = merged._spool
    all_tables = tables(spool)
    write_csv(spool, all_tables, tmp_path / "csv")
    for table in all_tables:
        stream = io.StringIO(newline="")
        writer = csv.writer(stream)
        writer.writerow([c.key for c in table.columns])
        text = [c.kind in ("text", "any") for c in table.columns]
        for batch in table.rows(spool, analyst=False, sheet=False):  # ids, not titles
            writer.writerows(
                [neutralise(v) if t else v for v, t in zip(row, text, strict=True)] for row in batch
            )
        expected = stream.getvalue().encode("utf-8-sig")
        assert (tmp_path / "csv" / f"{table.key}.csv").read_bytes() == expected, table.key
    summary = (tmp_path / "csv" / "summary.csv").read_text(encoding="utf-8-sig")
    assert "'" + INJECTION.replace('"', '""') in summary
    assert merged.counts.superseded == 1 and merged.counts.rejected == 1  # the junk
    assert merged.counts.skipped == 1  # the lock file: not a return, 跳过


def test_neutralised_sql_is_neutralise() -> None:
    values: list[Any] = [*AWKWARD_TEXT, *AWKWARD_NUMBERS, b"=blob", "＝全角", "'", "=", "-"]
    database = sqlite3.connect(":memory:")
    database.execute("CREATE TABLE t (n INTEGER, v)")
    database.executemany("INSERT INTO t VALUES (?, ?)", enumerate(values))
    found = database.execute(f"SELECT v, {neutralised_sql('v')} FROM t ORDER BY n").fetchall()
    database.close()
    assert len(found) == len(values)
    changed = 0
    for stored, neutral in found:
        assert neutral == neutralise(stored) and type(neutral) is type(neutralise(stored))
        changed += neutral != stored
    assert changed == 8  # the six triggers of AWKWARD_TEXT, "=" and "-"


def _random_value(rng: random.Random) -> Any:
    pieces = ["a", "中", " ", "\t", "\n", "\r", "\x01", "\x1f", "&", "<", ">", '"', "_", "x", "0",
              "F", "r", "/", "=", "+", "\u3000", "\xa0", "\ufffe", "🙂", "_x000D_", "<r>", "</r>"]  # fmt: skip
    kind = rng.random()
    if kind < 0.7:
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
    if kind < 0.8:
        return rng.choice(AWKWARD_NUMBERS)
    if kind < 0.9:
        return rng.uniform(-1e9, 1e9)
    return rng.randint(-(2**40), 2**40)


def _sheet_xml(path: Path) -> list[bytes]:
    with zipfile.ZipFile(path) as archive:
        return [
            archive.read(name)
            for name in sorted(archive.namelist())
            if name.startswith("xl/worksheets/") or name == "xl/styles.xml"
        ]


def _random_book(path: Path, rng: random.Random, fast: bool) -> None:
    """Two sheets; in each a header written by write_string, then rows by RowWriter (or the plain
    way) in two column blocks, some rows in between written cell by cell."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    formats = [book.add_format({"num_format": code}) for code in ("0.00", "0%", "@", "0")]
    formats.append(book.add_format({}))
    for name in ("一", "二"):
        sheet = book.add_worksheet(name)
        sheet.write_string(0, 0, "表头", formats[4])
        wide = RowWriter(sheet, 0, formats)
        narrow = RowWriter(sheet, 6, formats[::-1][:3])
        for row in range(1, 300):
            choice = rng.random()
            width = 5 if choice < 0.5 else 3
            values = [_random_value(rng) for _ in range(width)]
            writer = wide if width == 5 else narrow
            if choice > 0.9:
                for n, value in enumerate(values):
                    write_cell(sheet, row, writer.first_col + n, value, writer.formats[n])
            elif fast:
                writer.write_row(row, values)
            else:
                _write_cell_rows(writer, row, values)
    book.close()


@pytest.mark.parametrize("seed", range(5))
def test_row_writer_writes_what_write_cell_writes(seed: int, tmp_path: Path) -> None:
    _random_book(tmp_path / "fast.xlsx", random.Random(seed), fast=True)
    _random_book(tmp_path / "plain.xlsx", random.Random(seed), fast=False)
    assert _sheet_xml(tmp_path / "fast.xlsx") == _sheet_xml(tmp_path / "plain.xlsx")


def test_row_writer_refuses_what_it_cannot_write_in_order(tmp_path: Path) -> None:
    book = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"), {"constant_memory": True})
    number = book.add_format({"num_format": "0"})
    sheet = book.add_worksheet()
    with pytest.raises(ValueError, match="format for every column"):
        RowWriter(sheet, 0, [number, None])
    writer = RowWriter(sheet, 0, [number, number])
    writer.write_row(3, [1, "a"])
    with pytest.raises(ValueError, match="not after"):
        writer.write_row(3, [1, "a"])
    with pytest.raises(ValueError, match="2 columns"):
        writer.write_row(4, [1])
    sheet.write_string(5, 0, "pending", number)
    with pytest.raises(ValueError, match="not after"):
        writer.write_row(5, [1, 2])
    book.close()
    plain = xlsxwriter.Workbook(str(tmp_path / "y.xlsx"), {"constant_memory": False})
    with pytest.raises(ValueError, match="constant_memory"):
        RowWriter(plain.add_worksheet(), 0, [number])
    plain.close()


def test_infinite_and_missing_totals_stay_out_of_the_histogram(tmp_path: Path) -> None:
    """A total that summed to ±infinity (self-scores of 1e308) or NaN is no score band: the
    统计 sheet is still written, its histogram counting the finite totals only."""
    results = [_result(i, f"文本{i}", 1.0) for i in range(12)]
    for result, total in zip(results, (float("inf"), float("-inf"), float("nan")), strict=False):
        result.total = total
    paths = []
    for i in range(len(results)):
        path = tmp_path / f"r{i:03d}.xlsx"
        path.write_bytes(b"not really a workbook")
        paths.append(path)
    target = tmp_path / "summary.xlsx"
    with merge(paths, executor=_Fake(results), outputs=Outputs(xlsx=target)) as result:
        accepted = result.summary
    totals = [t for t in accepted["total"] if t is not None and math.isfinite(t)]
    assert 0 < len(totals) < len(accepted)
    sheet = openpyxl.load_workbook(target)["统计"]
    counted = [sheet.cell(row, 8).value for row in range(2, 12)]
    assert sum(counted) == len(totals)
