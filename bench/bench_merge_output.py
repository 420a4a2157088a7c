"""CPU the merging process spends writing the outputs, per merged return: the old way and the
new way side by side.

Run:  python3 bench/bench_merge_output.py [--returns DIR] [--n 300] [--json F]

`xltools merge` checks the returns in worker processes; the merging process then writes the
summary workbook and the CSV files from the spool, alone: a serial tail. This script checks the
returns first (in this process, not measured), merges them once with an executor that hands
back those results (so the spool holds exactly what a real merge's would), and then times only
the writing, `time.process_time`, best of 3, divided by the number of returns:

  - summary workbook, old: every cell through `write_cell` (XlsxWriter's public `write_string`,
    `write_number`, `write_blank`), the loop the summary used before `RowWriter`;
  - summary workbook, public API tuned: the same cells through `write_string` / `write_number`
    with row and column numbers and no `write_cell` dispatch (the best the public API offers;
    measured to choose, not used);
  - summary workbook, new: `RowWriter` (the cells' markup written by us, see its docstring);
  - CSV, old: texts neutralised by a Python function called by SQLite for every value;
  - CSV, new: texts neutralised in SQL (`neutralised_sql`);
  - the spool's rows alone (the floor: fetching what is written, writing nothing).

`--returns DIR` takes the returns from a folder (e.g. one made by bench_merge.py --work);
otherwise N returns of the 2023 项目支出绩效自评表 are generated into a temporary folder first
(~0.1–0.25 s each, not measured). The outputs of the old and new ways are checked to be the
same (every part of the workbook but its timestamps; the CSV files byte for byte) before
anything is reported. It prints a table with ratios and writes bench/results/merge_output.json.
Figures, not assertions: machines are noisy, compare ratios from one run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import machine, write_results

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xltools.merge import spool as spool_module  # noqa: E402
from xltools.merge.analyst import write_csv  # noqa: E402
from xltools.merge.core import merge  # noqa: E402
from xltools.merge.safe import RowWriter, write_cell  # noqa: E402
from xltools.merge.spool import tables  # noqa: E402
from xltools.merge.workbook import write_summary  # noqa: E402
from xltools.merge.worker import FileResult, check_one  # noqa: E402

INFINITIES = (float("inf"), float("-inf"))
RATIOS = (
    "summary workbook: old ÷ new",
    "summary workbook: old ÷ public API tuned",
    "CSV: old ÷ new",
    "workbook + CSV: old ÷ new",
)


def old_rows(self: RowWriter, row: int, values: Sequence[Any]) -> None:
    """The old way: each cell through write_cell."""
    worksheet = self.worksheet
    for n, (value, cell_format) in enumerate(zip(values, self.formats, strict=True)):
        write_cell(worksheet, row, self.first_col + n, value, cell_format)


def public_rows(self: RowWriter, row: int, values: Sequence[Any]) -> None:
    """The public API at its cheapest: the write_* method for the value's type, row/col ints."""
    worksheet = self.worksheet
    write_string, write_number = worksheet.write_string, worksheet.write_number
    col = self.first_col
    for value, cell_format in zip(values, self.formats, strict=True):
        kind = value.__class__
        if kind is str and value:
            write_string(row, col, value, cell_format)
        elif (kind is float or kind is int) and value == value and value not in INFINITIES:
            write_number(row, col, value, cell_format)
        else:
            write_cell(worksheet, row, col, value, cell_format)
        col += 1


@contextmanager
def rows_written_by(method: Callable[..., None] | None) -> Iterator[None]:
    saved = RowWriter.write_row
    if method is not None:
        RowWriter.write_row = method  # type: ignore[method-assign]
    try:
        yield
    finally:
        RowWriter.write_row = saved  # type: ignore[method-assign]


@contextmanager
def python_neutralise(enabled: bool) -> Iterator[None]:
    """The old CSV query: the spool's ``neutralise`` Python function around every text."""
    saved = spool_module.neutralised_sql
    if enabled:
        spool_module.neutralised_sql = lambda expression: f"neutralise({expression})"
    try:
        yield
    finally:
        spool_module.neutralised_sql = saved


def best_of_3(action: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        action()
        best = min(best, time.process_time() - started)
    return best


def generate(folder: Path, n: int) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from bench_merge import build

    workers = os.cpu_count() or 1
    step = -(-n // (workers * 2))
    bounds = [(s, min(s + step, n)) for s in range(0, n, step)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(build, *zip(*bounds, strict=True), [str(folder)] * len(bounds)))


def workbook_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["docProps/core.xml"] = re.sub(
        rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", parts["docProps/core.xml"]
    )
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--returns", type=Path, help="folder of returned workbooks")
    parser.add_argument("--n", type=int, default=300, help="returns (generated or taken)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench/results/merge_output.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="xltools-bench-output-"))
    try:
        if args.returns is None:
            args.returns = work / "returns"
            args.returns.mkdir()
            print(f"generating {args.n} returns …", flush=True)
            generate(args.returns, args.n)
        files = sorted(str(p) for p in args.returns.rglob("*.xlsx"))[: args.n]
        print(f"checking {len(files)} returns (not measured) …", flush=True)
        results = [check_one(path, None) for path in files]

        class Checked:
            def run(
                self, paths: Sequence[str], specs_dir: str | None
            ) -> Iterator[tuple[int, FileResult]]:
                yield from enumerate(results)

        merged = merge(files, executor=Checked())
        spool = merged._spool
        assert spool is not None
        all_tables = tables(spool)
        n = len(files)
        cells = sum(len(t.columns) * t.count(spool) for t in all_tables)  # the table sheets' cells

        def summary(name: str, method: Callable[..., None] | None) -> float:
            with rows_written_by(method):
                return best_of_3(
                    lambda: write_summary(spool, all_tables, work / f"{name}.xlsx", merged)
                )

        def csv_files(name: str, old: bool) -> float:
            with python_neutralise(old):
                return best_of_3(lambda: write_csv(spool, all_tables, work / name))

        def fetch() -> None:
            for table in all_tables:
                for _ in table.rows(spool, analyst=False):
                    pass

        seconds = {
            "rows fetched from the spool (floor)": best_of_3(fetch),
            "summary workbook, old (write_cell)": summary("old", old_rows),
            "summary workbook, public API tuned": summary("public", public_rows),
            "summary workbook, new (RowWriter)": summary("new", None),
            "CSV, old (Python neutralise)": csv_files("csv-old", True),
            "CSV, new (neutralised in SQL)": csv_files("csv-new", False),
        }
        merged.close()

        reference = workbook_parts(work / "old.xlsx")
        for name in ("public", "new"):
            assert workbook_parts(work / f"{name}.xlsx") == reference, f"{name}.xlsx differs"
        for table in all_tables:
            old_csv = (work / "csv-old" / f"{table.key}.csv").read_bytes()
            assert (work / "csv-new" / f"{table.key}.csv").read_bytes() == old_csv, table.key
    finally:
        shutil.rmtree(work, ignore_errors=True)

    per_return = {k: v / n * 1000 for k, v in seconds.items()}
    old_total = (
        per_return["summary workbook, old (write_cell)"]
        + per_return["CSV, old (Python neutralise)"]
    )
    new_total = (
        per_return["summary workbook, new (RowWriter)"]
        + per_return["CSV, new (neutralised in SQL)"]
    )
    print(f"\n{n} returns, {cells / n:.0f} cells of table sheets per return; ms of CPU per return")
    width = max(map(len, [*per_return, *RATIOS]))
    for name, ms in per_return.items():
        print(f"  {name:<{width}}  {ms:7.3f}")
    print(f"  {'workbook + CSV, old':<{width}}  {old_total:7.3f}")
    print(f"  {'workbook + CSV, new':<{width}}  {new_total:7.3f}")
    old_summary = per_return["summary workbook, old (write_cell)"]
    ratios = dict(
        zip(
            RATIOS,
            (
                old_summary / per_return["summary workbook, new (RowWriter)"],
                old_summary / per_return["summary workbook, public API tuned"],
                per_return["CSV, old (Python neutralise)"]
                / per_return["CSV, new (neutralised in SQL)"],
                old_total / new_total,
            ),
            strict=True,
        )
    )
    for name, ratio in ratios.items():
        print(f"  {name:<{width}}  {ratio:7.2f}")
    print("  (outputs of every way checked identical)")
    write_results(
        args.json,
        {
            "machine": machine(),
            "returns": n,
            "cells_per_return": cells / n,
            "ms_per_return": per_return,
            "ratios": ratios,
        },
    )


if __name__ == "__main__":
    main()
