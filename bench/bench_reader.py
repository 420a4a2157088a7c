"""Benchmark: xltools.xlsx.read_workbook against openpyxl, python-calamine and bare zipfile.

What it does
------------
1. Generates the ``project_expense_2023`` template once and fills it N times (default 200) with
   the bundled example, each copy with its own project name and amounts, into a temp dir.
   With ``--libreoffice`` every filled copy is also re-saved by LibreOffice (one soffice run)
   and the readers are timed on those copies too — they are what Excel-family programs return.
2. Times, on the same files (read from the page cache, best of ``--repeats`` passes per file):

   * ``read_workbook``       — this module: values, formulas, locked flags, names, protection,
                               validations, merged ranges, in one pass;
   * ``openpyxl``            — ``load_workbook`` twice (formulas, then ``data_only=True``),
                               which is what it takes openpyxl to see values *and* formulas;
   * ``calamine``            — python-calamine, cell values of every sheet (no formulas,
                               protection or validation); skipped with a note if not installed
                               (``pip install python-calamine``: bench only, never a dependency);
   * ``zipfile``             — opening the zip and inflating every part, no parsing;
   * ``expat-floor``         — zipfile + a defusedxml-guarded expat pass with no-op handlers over
                               exactly the parts ``read_workbook`` reads: the floor of its design.

3. Prints per-file milliseconds (mean, median, p95) and each reader's ratio to
   ``read_workbook``, and writes everything to ``bench/results/reader.json``.

How to run
----------
From the repository root, with xltools installed (``pip install -e '.[test]'``)::

    python3 bench/bench_reader.py                  # N=200, 3 passes (about two minutes)
    python3 bench/bench_reader.py --n 50 --repeats 5
    python3 bench/bench_reader.py --libreoffice    # also time LibreOffice-saved copies

The machine is shared: run it on an idle machine, or compare ratios rather than milliseconds.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xltools.fill import fill_workbook  # noqa: E402
from xltools.generate import generate_template  # noqa: E402
from xltools.spec import load_spec  # noqa: E402
from xltools.xlsx import read_workbook  # noqa: E402
from xltools.xlsx import reader as _reader  # noqa: E402

SPEC = ROOT / "specs" / "project_expense_2023.yaml"
EXAMPLE = ROOT / "examples" / "project_expense_2023.yaml"
RESULTS = ROOT / "bench" / "results" / "reader.json"

try:  # bench only: never imported by xltools itself
    _calamine: Any = importlib.import_module("python_calamine")
except ImportError:  # pragma: no cover - depends on the machine
    _calamine = None


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _vary(data: dict[str, Any], index: int) -> dict[str, Any]:
    """The example with its own project name and amounts scaled a little, per copy."""
    varied = copy.deepcopy(data)
    factor = 1 + (index % 17) / 100
    for key, value in list(varied.items()):
        if (
            key.startswith("funds_")
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            varied[key] = round(value * factor, 2)
    if "project_name" in varied:
        varied["project_name"] = f"{varied['project_name']}（第 {index + 1} 份）"
    return varied


def build_files(work: Path, count: int) -> list[Path]:
    spec = load_spec(SPEC)
    template = work / "template.xlsx"
    generate_template(spec, template, bureau_id="B001", bureau_name="基准测试局")
    with EXAMPLE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    files = []
    for index in range(count):
        path = work / "filled" / f"form_{index:04d}.xlsx"
        errors = fill_workbook(template, spec, _vary(data, index), path)
        if errors:  # an amount pushed out of range: fall back to the example itself
            errors = fill_workbook(template, spec, data, path)
        if errors:
            raise SystemExit(f"fill failed: {errors[:3]}")
        files.append(path)
    return files


def libreoffice_copies(files: list[Path], work: Path) -> list[Path]:
    from xltools.libreoffice import recalculate

    return recalculate(files, work / "libreoffice", timeout=1800)


# --------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------


def read_ours(path: Path) -> int:
    workbook = read_workbook(path)
    return sum(len(sheet.cells) for sheet in workbook.sheets)


def read_openpyxl(path: Path) -> int:
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    return len(formulas.sheetnames) + len(values.sheetnames)


def read_calamine(path: Path) -> int:
    assert _calamine is not None
    workbook = _calamine.CalamineWorkbook.from_path(str(path))
    return sum(len(workbook.get_sheet_by_name(name).to_python()) for name in workbook.sheet_names)


def read_zipfile(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(len(archive.read(info)) for info in archive.infolist())


def _noop_start(name: str, attrs: dict[str, str]) -> None:
    pass


def _noop_end(name: str) -> None:
    pass


def _noop_data(text: str) -> None:
    pass


_PARTS_READ = frozenset(
    {
        "_rels/.rels",
        "xl/_rels/workbook.xml.rels",
        "xl/workbook.xml",
        "xl/sharedStrings.xml",
        "xl/styles.xml",
    }
)


def read_expat_floor(path: Path) -> int:
    """zipfile + guarded expat with no-op handlers over the parts read_workbook reads."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename
            if name not in _PARTS_READ and not name.startswith("xl/worksheets/sheet"):
                continue
            parser = _reader._expat(_noop_start, _noop_end, _noop_data)
            data = archive.read(info)
            parser.Parse(data, True)
            total += len(data)
    return total


READERS: dict[str, Callable[[Path], int]] = {
    "read_workbook": read_ours,
    "openpyxl": read_openpyxl,
    "calamine": read_calamine,
    "zipfile": read_zipfile,
    "expat-floor": read_expat_floor,
}


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def time_reader(reader: Callable[[Path], int], files: list[Path], repeats: int) -> list[float]:
    """Per-file milliseconds: the best of ``repeats`` passes over all files."""
    for path in files[:3]:
        reader(path)  # warm imports and caches
    best = [float("inf")] * len(files)
    for _ in range(repeats):
        for index, path in enumerate(files):
            started = time.perf_counter()
            reader(path)
            elapsed = (time.perf_counter() - started) * 1000
            best[index] = min(best[index], elapsed)
    return best


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "mean_ms": statistics.fmean(ordered),
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "min_ms": ordered[0],
        "max_ms": ordered[-1],
    }


def run_set(label: str, files: list[Path], repeats: int, notes: list[str]) -> dict[str, Any]:
    print(f"\n== {label}: {len(files)} files, best of {repeats} passes ==")
    results: dict[str, Any] = {}
    for name, reader in READERS.items():
        if name == "calamine" and _calamine is None:
            note = (
                "python-calamine is not installed: calamine skipped (pip install python-calamine)"
            )
            if note not in notes:
                notes.append(note)
            print(f"  {name:14s} skipped (not installed)")
            continue
        times = time_reader(reader, files, repeats if name != "openpyxl" else max(1, repeats // 3))
        results[name] = summary(times)
    ours = results["read_workbook"]["median_ms"]
    for name, stats in results.items():
        stats["ratio_to_read_workbook"] = stats["median_ms"] / ours
        print(
            f"  {name:14s} mean {stats['mean_ms']:8.3f} ms   median {stats['median_ms']:8.3f} ms"
            f"   p95 {stats['p95_ms']:8.3f} ms   x{stats['ratio_to_read_workbook']:7.2f}"
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="number of filled workbooks")
    parser.add_argument("--repeats", type=int, default=3, help="passes per reader (best kept)")
    parser.add_argument("--libreoffice", action="store_true", help="also LibreOffice-saved copies")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)

    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="xltools-bench-") as temporary:
        work = Path(temporary)
        started = time.perf_counter()
        files = build_files(work, args.n)
        print(f"built {len(files)} filled workbooks in {time.perf_counter() - started:.1f} s")
        sizes = [path.stat().st_size for path in files]
        sets = {"filled": run_set("filled (openpyxl-saved)", files, args.repeats, notes)}
        if args.libreoffice:
            started = time.perf_counter()
            saved = libreoffice_copies(files, work)
            print(f"LibreOffice re-saved them in {time.perf_counter() - started:.1f} s")
            sets["libreoffice"] = run_set("LibreOffice-saved", saved, args.repeats, notes)

    report = {
        "benchmark": "xltools.xlsx.read_workbook vs openpyxl / python-calamine / zipfile",
        "spec": SPEC.name,
        "files": args.n,
        "repeats": args.repeats,
        "file_bytes_mean": statistics.fmean(sizes),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        },
        "versions": {
            "openpyxl": openpyxl.__version__,
            "python-calamine": _calamine_version(),
        },
        "results": sets,
        "notes": notes
        + [
            "per-file times are the best of the passes; openpyxl is two loads (formulas + values)",
            "expat-floor: the same parts through the same guarded expat, handlers doing nothing",
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    for note in notes:
        print(f"note: {note}")
    return 0


def _calamine_version() -> str | None:
    if _calamine is None:
        return None
    from importlib.metadata import version

    return version("python-calamine")


if __name__ == "__main__":
    raise SystemExit(main())
