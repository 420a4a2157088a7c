"""The whole performance picture in one command: xltools beside the alternatives, same files.

Run:  python3 bench/run.py [--n 2000] [--templates all] [--work DIR] [--sample 200]
                           [--generate-n 3000] [--lo-n 250] [--lo-batch 50]
                           [--json bench/results/latest.json]

1. Builds the data set: N returned workbooks of each template in ``specs/`` (default 2,000
   each; ``--n 20000`` for a larger run), every one distributed to its own invented bureau
   with the template's bundled example filled in and its amounts varied. Kept under
   ``--work`` and reused by the next run with the same N.
2. Measures, in this run and on these files:
   - the floors: python-calamine reading the cell values (every sheet, and the form sheets
     only) and a bare zipfile read inflating every part, each serial and on all cores;
   - the analyst's loop, ``pandas.read_excel`` (openpyxl engine, today's default; every
     sheet and the form sheet only), and an ``openpyxl.load_workbook`` of each file: these
     take 25–200 ms a file, so they run on a sample of ``--sample`` files of each template
     and their total is the per-file time × all files (say ``--sample 0`` for all files);
   - ``xltools check`` over all files (one process, serial) and ``xltools merge`` of all
     files with ``--workers 1`` and on all cores, each a fresh process, with the merge's peak
     memory (its own and its largest worker's);
   - ``xltools generate --roster`` of ``--generate-n`` stamped templates beside plain
     XlsxWriter writing the same content (``bench/bench_generate.py``);
   - ``xltools check one.xlsx`` wall time, start-up included (``bench/bench_check_one.py``);
   - the pandas loop also with ``engine="calamine"`` (pandas 3 makes it the default; the
     engine is always passed explicitly), on the same sample;
   - **application-saved returns**: ``--lo-n`` returns of each template (default 250)
     re-saved by LibreOffice (``bench/bench_lo.py``, ``--lo-batch`` files per soffice), and
     python-calamine and ``xltools merge`` timed on them beside the very same returns as
     xltools wrote them (``--lo-n 0`` skips this).
3. Prints a table of times and the ratios the performance issue names, and writes all of it
   as JSON, so that runs can be compared over time.

Figures, not assertions: the machines are noisy. Compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

from bench_lo import libreoffice_sample, written_sample  # noqa: E402
from bench_merge import run_merge  # noqa: E402  (sibling scripts, not a package)
from common import machine, write_results  # noqa: E402

INTERNAL_SHEETS = ("自检", "_lists", "_xltools")


# --------------------------------------------------------------------------------------------
# The data set
# --------------------------------------------------------------------------------------------


def _varied(i: int, values: dict[str, Any], numbers: set[str], texts: set[str]) -> dict[str, Any]:
    """The example's values for bureau ``i``: its own stamp and names, every amount and rate
    moved by up to ±20 % and every free text its own, so that no two returns are alike."""
    draw = random.Random(i)
    out = dict(values)
    for key, value in values.items():
        if key in numbers and isinstance(value, float):
            out[key] = round(value * draw.uniform(0.8, 1.2), 2)
        elif key in texts and isinstance(value, str) and value:
            out[key] = f"{value}（{i}）"
    for key in ("unit_name", "department", "department_name", "dept_name", "project_unit"):
        if isinstance(out.get(key), str):
            out[key] = f"第{i:05d}单位"
    if isinstance(out.get("project_name"), str):
        out["project_name"] = f"第{i:05d}号项目"
    return {**out, "bureau_id": f"B{i:05d}", "bureau_name": f"第{i:05d}单位"}


def build(spec_path: str, start: int, stop: int, folder: str) -> int:
    """Distribute bureaus [start, stop) of one template into ``folder`` (a worker's share)."""
    import yaml

    from xltools.fill import flatten
    from xltools.roster import RosterRow, distribute, validate_roster
    from xltools.spec import load_spec

    spec = load_spec(Path(spec_path))
    example_path = ROOT / "examples" / f"{Path(spec_path).stem}.yaml"
    example = flatten(yaml.safe_load(example_path.read_text(encoding="utf-8")))
    numbers = {f.id for f in spec.inputs() if f.type in ("money", "number", "percent")}
    texts = {f.id for f in spec.inputs() if f.type == "text"}
    good = []
    for i in range(start, stop):
        row = RosterRow(i + 2, _varied(i, example, numbers, texts))
        fits, bad = validate_roster(spec, [row])
        if bad:  # a varied value broke a limit: the example as it is, stamped
            fits, bad = validate_roster(spec, [RosterRow(i + 2, _varied(i, example, set(), set()))])
        assert not bad, bad[:3]
        good += fits
    distribute(spec, good, Path(folder))
    (Path(folder) / "manifest.csv").unlink(missing_ok=True)
    return len(good)


def dataset(work: Path, n: int, templates: Sequence[Path], cores: int) -> tuple[Path, float]:
    """The folder of N returns per template (one subfolder each) and the seconds spent."""
    root = work / f"returns-{n}"
    started = time.perf_counter()
    jobs: list[tuple[str, int, int, str]] = []
    for spec_path in templates:
        folder = root / spec_path.stem
        if folder.is_dir() and len(list(folder.glob("*.xlsx"))) == n:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        step = max(1, -(-n // (cores * 4)))
        jobs += [(str(spec_path), s, min(s + step, n), str(folder)) for s in range(0, n, step)]
    if jobs:
        with ProcessPoolExecutor(cores) as pool:
            list(pool.map(build, *zip(*jobs, strict=True)))
    return root, (time.perf_counter() - started) if jobs else 0.0


# --------------------------------------------------------------------------------------------
# Readers measured in this process
# --------------------------------------------------------------------------------------------


def read_zipfile(path: str) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(len(archive.read(info)) for info in archive.infolist())


def read_calamine_all(path: str) -> int:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(path)
    return sum(len(book.get_sheet_by_name(name).to_python()) for name in book.sheet_names)


def read_calamine_forms(path: str) -> int:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(path)
    names = [name for name in book.sheet_names if name not in INTERNAL_SHEETS]
    return sum(len(book.get_sheet_by_name(name).to_python()) for name in names)


def read_pandas_all(path: str) -> int:
    import pandas as pd

    return len(pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl"))


def read_pandas_form(path: str) -> int:
    import pandas as pd

    # the first sheet after the 自检 panel: the form, as an analyst would name it
    return len(pd.read_excel(path, sheet_name=1, header=None, engine="openpyxl"))


def read_pandas_calamine_all(path: str) -> int:
    import pandas as pd

    return len(pd.read_excel(path, sheet_name=None, header=None, engine="calamine"))


def read_pandas_calamine_form(path: str) -> int:
    import pandas as pd

    return len(pd.read_excel(path, sheet_name=1, header=None, engine="calamine"))


def read_openpyxl(path: str) -> int:
    import openpyxl

    return len(openpyxl.load_workbook(path).sheetnames)


def _chunk(reader: Callable[[str], int], paths: Sequence[str]) -> int:
    return sum(reader(path) for path in paths)


def _serial(reader: Callable[[str], int], paths: Sequence[str]) -> float:
    started = time.perf_counter()
    _chunk(reader, paths)
    return time.perf_counter() - started


def _parallel(reader: Callable[[str], int], paths: Sequence[str], cores: int) -> float:
    size = max(1, len(paths) // (cores * 16))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    started = time.perf_counter()
    with ProcessPoolExecutor(cores) as pool:
        list(pool.map(_chunk, [reader] * len(chunks), chunks))
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# Commands measured as fresh processes
# --------------------------------------------------------------------------------------------


def run_check(root: Path, files: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "xltools.cli", "check", "--no-copy", "-q", str(root)]
    command += ["--specs", str(ROOT / "specs")]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"check failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return {"inputs": files, "seconds": round(seconds, 2)}


def run_script(script: str, arguments: list[str], out: Path) -> dict[str, Any]:
    command = [sys.executable, str(BENCH / script), *arguments, "--json", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.exists():
        return {"error": f"{script} failed ({done.returncode}): {done.stderr[-500:]}"}
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


SETS = ("as written", "LibreOffice-saved")


def application_saved(
    work: Path,
    n: int,
    by_template: dict[str, list[str]],
    per_template: int,
    batch: int,
    cores: int,
) -> dict[str, Any]:
    """python-calamine and ``xltools merge`` on returns LibreOffice re-saved, beside the same
    returns as xltools wrote them (see bench/bench_lo.py)."""
    per_template = min(per_template, n)
    written = written_sample(by_template, per_template, work / f"written-{n}-{per_template}")
    print(f"LibreOffice re-saves {per_template} returns of each template …", flush=True)
    saved, resave_seconds = libreoffice_sample(
        written, work / f"libreoffice-{n}-{per_template}", batch=batch, cores=cores
    )
    files = sum(len(v) for v in written.values())
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    merges: dict[str, list[dict[str, Any]]] = {}
    for label, sample in zip(SETS, (written, saved), strict=True):
        paths = [p for group in sample.values() for p in group]
        folder = Path(paths[0]).parent.parent
        measured = rows[label] = {}
        for name, reader in (
            ("calamine values (every sheet)", read_calamine_all),
            ("calamine values (form sheets)", read_calamine_forms),
        ):
            measured[f"{name}, 1 core"] = _row(_serial(reader, paths), len(paths), 1)
            measured[f"{name}, {cores} cores"] = _row(
                _parallel(reader, paths, cores), len(paths), cores
            )
        merges[label] = []
        for workers in dict.fromkeys((1, cores)):
            merged = run_merge(folder, work / "merge-out-saved", workers)
            merges[label].append(merged)
            name = f"xltools merge, {workers} core{'s' * (workers > 1)}"
            measured[name] = _row(merged["seconds"], len(paths), workers)
        for name, row in measured.items():
            print(f"  {label:18} {name:38} {row['ms_per_file']:9.2f} ms/file", flush=True)
    top = f"xltools merge, {cores} core{'s' * (cores > 1)}"
    ratios: dict[str, float] = {}
    for label in SETS:
        merge = rows[label][top]["seconds"]
        for what in ("every sheet", "form sheets"):
            floor = rows[label][f"calamine values ({what}), {cores} cores"]["seconds"]
            ratios[f"{label}: merge ÷ calamine {what} (same cores)"] = round(merge / floor, 2)
    for name in rows[SETS[0]]:
        ratios[f"LibreOffice-saved ÷ as written: {name}"] = round(
            rows[SETS[1]][name]["seconds"] / rows[SETS[0]][name]["seconds"], 2
        )
    return {
        "per_template": per_template,
        "files": files,
        "lo_batch": batch,
        "resave_seconds": round(resave_seconds, 1),  # 0: reused from an earlier run
        "rows": rows,
        "ratios": ratios,
        "merge_runs": merges,
    }


def _row(seconds: float, files: int, cores: int) -> dict[str, Any]:
    return {
        "files": files,
        "cores": cores,
        "seconds": round(seconds, 3),
        "ms_per_file": round(seconds / files * 1000, 3),
    }


def print_saved(saved: dict[str, Any]) -> None:
    print()
    print(
        f"| what ({saved['files']} returns, {saved['per_template']} a template) "
        "| ms a file, as written | ms a file, LibreOffice-saved |"
    )
    print("|---|---:|---:|")
    written, resaved = (saved["rows"][label] for label in SETS)
    for name, row in written.items():
        print(f"| {name} | {row['ms_per_file']:.2f} | {resaved[name]['ms_per_file']:.2f} |")
    print()
    print("| ratio | value |")
    print("|---|---:|")
    for name, value in saved["ratios"].items():
        print(f"| {name} | {value:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="returns per template")
    parser.add_argument(
        "--templates", default="all", help="comma-separated spec names (default: every spec)"
    )
    parser.add_argument("--work", type=Path, help="keep (and reuse) the data set here")
    parser.add_argument(
        "--sample",
        type=int,
        default=200,
        help="files per template for the slow alternatives (0: all)",
    )
    parser.add_argument(
        "--generate-n",
        type=int,
        default=3000,
        help="stamped templates for generate --roster (0: skip)",
    )
    parser.add_argument(
        "--lo-n",
        type=int,
        default=250,
        help="returns per template re-saved by LibreOffice for the application-saved set (0: skip)",
    )
    parser.add_argument("--lo-batch", type=int, default=50, help="files per soffice process")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json")
    args = parser.parse_args()

    specs = sorted((ROOT / "specs").glob("*.yaml"))
    if args.templates != "all":
        wanted = set(args.templates.split(","))
        specs = [s for s in specs if s.stem in wanted]
    work = args.work or Path(tempfile.mkdtemp(prefix="xltools-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cores = args.cores

    root, built = dataset(work, args.n, specs, cores)
    by_template = {s.stem: sorted(str(p) for p in (root / s.stem).glob("*.xlsx")) for s in specs}
    paths = [p for group in by_template.values() for p in group]
    sample = [
        p
        for group in by_template.values()
        for p in (group[: args.sample] if args.sample else group)
    ]
    total = len(paths)
    print(
        f"{total} returns of {len(specs)} templates"
        + (f" (built in {built:.0f} s)" if built else " (reused)")
    )

    rows: dict[str, dict[str, Any]] = {}

    def record(name: str, seconds: float, files: int, cores_used: int, note: str = "") -> None:
        per_file = seconds / files
        rows[name] = {
            "files": files,
            "cores": cores_used,
            "seconds": round(seconds, 3),
            "ms_per_file": round(per_file * 1000, 3),
            # the time this would take over every file of the data set
            "seconds_all_files": round(per_file * total, 2),
            "note": note,
        }
        print(f"  {name:44} {per_file * 1000:9.2f} ms/file", flush=True)

    for label, reader in (
        ("zipfile (inflate every part)", read_zipfile),
        ("calamine values (every sheet)", read_calamine_all),
        ("calamine values (form sheets)", read_calamine_forms),
    ):
        record(f"{label}, 1 core", _serial(reader, paths), total, 1)
        record(f"{label}, {cores} cores", _parallel(reader, paths, cores), total, cores)
    note = f"sample of {len(sample)} files" if len(sample) < total else ""
    for label, reader in (
        ("pandas.read_excel loop (every sheet)", read_pandas_all),
        ("pandas.read_excel loop (form sheet)", read_pandas_form),
        ("pandas.read_excel loop, calamine engine (every sheet)", read_pandas_calamine_all),
        ("pandas.read_excel loop, calamine engine (form sheet)", read_pandas_calamine_form),
        ("openpyxl.load_workbook loop", read_openpyxl),
    ):
        record(f"{label}, 1 core", _serial(reader, sample), len(sample), 1, note)

    check = run_check(root, total)
    record("xltools check (all files), 1 core", check["seconds"], total, 1)
    merges = []
    for workers in dict.fromkeys((1, cores)):
        merged = run_merge(root, work / "merge-out", workers)
        merges.append(merged)
        record(
            f"xltools merge, {workers} core{'s' * (workers > 1)}", merged["seconds"], total, workers
        )

    saved = (
        application_saved(work, args.n, by_template, args.lo_n, args.lo_batch, cores)
        if args.lo_n
        else {}
    )

    generate = (
        run_script("bench_generate.py", ["--n", str(args.generate_n)], work / "generate.json")
        if args.generate_n
        else {}
    )
    check_one = run_script("bench_check_one.py", ["--runs", "9"], work / "check_one.json")

    def all_files(name: str) -> float:
        return float(rows[name]["seconds_all_files"])

    merge_all = all_files(f"xltools merge, {cores} core{'s' * (cores > 1)}")
    ratios = {
        "merge ÷ calamine every sheet (same cores)": merge_all
        / all_files(f"calamine values (every sheet), {cores} cores"),
        "merge ÷ calamine form sheets (same cores)": merge_all
        / all_files(f"calamine values (form sheets), {cores} cores"),
        "pandas loop every sheet ÷ merge": all_files("pandas.read_excel loop (every sheet), 1 core")
        / merge_all,
        "pandas loop form sheet ÷ merge": all_files("pandas.read_excel loop (form sheet), 1 core")
        / merge_all,
        "openpyxl loop ÷ merge": all_files("openpyxl.load_workbook loop, 1 core") / merge_all,
        "pandas loop (calamine engine) every sheet ÷ merge": all_files(
            "pandas.read_excel loop, calamine engine (every sheet), 1 core"
        )
        / merge_all,
        "pandas loop (calamine engine) form sheet ÷ merge": all_files(
            "pandas.read_excel loop, calamine engine (form sheet), 1 core"
        )
        / merge_all,
        "check (1 core) ÷ calamine every sheet (1 core)": all_files(
            "xltools check (all files), 1 core"
        )
        / all_files("calamine values (every sheet), 1 core"),
    }
    # Markdown, so the README's table is this output as it is
    print()
    print(f"| what ({total} returns) | ms a file | s, all files |")
    print("|---|---:|---:|")
    for name, row in rows.items():
        sampled = f" ({row['note']})" if row["note"] else ""
        print(f"| {name}{sampled} | {row['ms_per_file']:.2f} | {row['seconds_all_files']:.1f} |")
    print()
    print("| ratio | value |")
    print("|---|---:|")
    for name, value in ratios.items():
        print(f"| {name} | {value:.2f} |")
    peak = max(m["peak_rss_mib_merge_process"] for m in merges)
    worker_peak = max(m["peak_rss_mib_largest_worker"] for m in merges)
    print(f"| merge peak memory, MiB (merge process / largest worker) | {peak} / {worker_peak} |")
    for key, value in generate.get("ratio_to_plain", {}).items():
        print(f"| generate --roster ÷ plain XlsxWriter ({key}) | {value:.2f} |")
    seconds_one = check_one.get("seconds", {})
    if "xltools check --no-copy" in seconds_one:
        wall = seconds_one["xltools check --no-copy"]
        print(f"| xltools check one.xlsx, wall s (start-up included) | {wall:.3f} |")
    if saved:
        print_saved(saved)
    for problem in (generate.get("error"), check_one.get("error")):
        if problem:
            print(problem)

    results = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "n_per_template": args.n,
        "templates": [s.stem for s in specs],
        "files": total,
        "rows": rows,
        "ratios": {k: round(v, 2) for k, v in ratios.items()},
        "merge_runs": merges,
        "generate": generate,
        "check_one": check_one,
        "application_saved": saved,
    }
    write_results(args.json, results)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
