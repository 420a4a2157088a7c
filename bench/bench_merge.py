"""Throughput and peak memory of `xltools merge`, serial and on every core.

Run:  python3 bench/bench_merge.py [--n 2000] [--copies 1] [--work DIR] [--workers N] [--json F]

It builds N filled returns of the 2023 项目支出绩效自评表 — distributed to a generated roster of
N bureaus, every field pre-filled as if the unit had filled and returned it, figures varied —
in parallel (generation dominates the set-up: ~0.1–0.25 s a workbook). `--copies K` links
each return K times under other names, to reach 10,000+ inputs cheaply: the copies are checked
in full and then superseded, so they cost the merge what distinct files would. With `--work
DIR` the returns are kept there and reused by the next run.

Then it times, each as a fresh process (start-up included), `xltools merge` of a quarter of the
inputs and of all of them, with `--workers 1` (in-process) and with one worker per core, each
writing the summary workbook and the CSV files. For every run it reports files/s and peak
memory: the merge process's own maximum RSS and the largest of its worker processes' (from
`resource.getrusage`, read by a tiny wrapper inside the measured process). A flat memory
profile shows as the same peak for a quarter and for all the inputs.

It prints a table and writes bench/results/merge.json. Figures, not assertions: machines are
noisy; compare rows of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from common import machine, write_results

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "project_expense_2023"

# Runs inside the measured process: the merge command, then its own peak RSS and its
# children's (the pool's workers), in KiB as Linux reports them, on stderr's last line.
WRAPPER = """
import json, resource, sys
from xltools.merge.command import merge_command
try:
    merge_command(sys.argv[1:], standalone_mode=False)
finally:
    print("@@" + json.dumps({
        "self_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "children_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }), file=sys.stderr)
"""


def bureau_values(i: int, example: dict[str, Any]) -> dict[str, Any]:
    budget = float(50 + (i * 37) % 400)
    target = round(budget * 0.9, 2)
    return {
        **example,
        "bureau_id": f"B{i:05d}",
        "bureau_name": f"第{i:05d}单位",
        "project_name": f"第{i:05d}号项目",
        "department": f"第{i:05d}单位",
        "unit_name": f"第{i:05d}单位",
        "funds_current_initial": budget,
        "funds_current_budget": budget,
        "funds_current_spent": round(budget * (0.55 + (i % 50) / 100), 2),
        "ind_output_quantity_1_target": target,
        "ind_output_quantity_1_actual": round(target * (0.6 + (i % 41) / 100), 2),
        "ind_output_quality_1_actual": round(0.70 + (i % 27) / 100, 2),
        "ind_satisfaction_service_1_actual": round(0.80 + (i % 16) / 100, 2),
    }


def build(start: int, stop: int, folder: str) -> int:
    """Distribute bureaus [start, stop) into ``folder`` (one worker process's share)."""
    import yaml

    from xltools.fill import flatten
    from xltools.registry import Registry
    from xltools.roster import RosterRow, distribute, validate_roster

    spec = Registry.load(ROOT / "specs").find(TEMPLATE, 1)
    assert spec is not None
    example = flatten(
        yaml.safe_load((ROOT / "examples" / f"{TEMPLATE}.yaml").read_text(encoding="utf-8"))
    )
    rows = [RosterRow(i + 2, bureau_values(i, example)) for i in range(start, stop)]
    good, bad = validate_roster(spec, rows)
    assert not bad, bad[:3]
    distribute(spec, good, Path(folder))
    (Path(folder) / "manifest.csv").unlink(missing_ok=True)
    return len(good)


def make_returns(work: Path, n: int, copies: int, workers: int) -> tuple[Path, Path, float]:
    """(folder of all inputs, folder of a quarter of them, seconds spent generating)."""
    generated = work / f"generated-{n}"
    started = time.perf_counter()
    have = len(list(generated.glob("*.xlsx"))) if generated.is_dir() else 0
    if have != n:
        shutil.rmtree(generated, ignore_errors=True)
        generated.mkdir(parents=True)
        step = -(-n // (workers * 4))
        bounds = [(s, min(s + step, n)) for s in range(0, n, step)]
        with ProcessPoolExecutor(workers) as pool:
            list(
                pool.map(
                    build,
                    [b[0] for b in bounds],
                    [b[1] for b in bounds],
                    [str(generated)] * len(bounds),
                )
            )
    seconds = time.perf_counter() - started if have != n else 0.0
    files = sorted(generated.glob("*.xlsx"))
    full, quarter = work / f"inputs-{n}x{copies}", work / f"quarter-{n}x{copies}"
    for folder, chosen in ((full, files), (quarter, files[: max(1, len(files) // 4)])):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for copy in range(copies):
            for path in chosen:
                name = path.name if copy == 0 else f"{path.stem}_copy{copy}.xlsx"
                os.link(path, folder / name)
    return full, quarter, seconds


def run_merge(inputs: Path, out: Path, workers: int) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable,
        "-c",
        WRAPPER,
        str(inputs),
        "-o",
        str(out / "summary.xlsx"),
        "--csv",
        str(out / "csv"),
        "--workers",
        str(workers),
        "--specs",
        str(ROOT / "specs"),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    last = [line for line in done.stderr.splitlines() if line.startswith("@@")]
    if not last:
        raise SystemExit(f"merge failed ({done.returncode}):\n{done.stderr[-2000:]}")
    memory = json.loads(last[-1][2:])
    accounting = next((line for line in done.stdout.splitlines() if line.startswith("输入")), "")
    files = sum(1 for p in inputs.rglob("*") if p.is_file())
    return {
        "inputs": files,
        "workers": workers,
        "seconds": round(seconds, 2),
        "files_per_second": round(files / seconds, 1),
        "peak_rss_mib_merge_process": round(memory["self_kib"] / 1024, 1),
        "peak_rss_mib_largest_worker": round(memory["children_kib"] / 1024, 1),
        "summary_bytes": (out / "summary.xlsx").stat().st_size,
        "accounting": accounting,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="distinct returns to generate")
    parser.add_argument("--copies", type=int, default=1, help="inputs per generated return")
    parser.add_argument("--work", type=Path, help="keep (and reuse) the returns here")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="all cores")
    parser.add_argument(
        "--json", type=Path, default=ROOT / "bench" / "results" / "merge.json", help="results file"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    work = args.work or Path(tempfile.mkdtemp(prefix="xltools-bench-merge-"))
    work.mkdir(parents=True, exist_ok=True)
    full, quarter, generation = make_returns(work, args.n, args.copies, args.workers)
    runs = []
    for inputs in (quarter, full):
        for workers in dict.fromkeys((1, args.workers)):
            runs.append(run_merge(inputs, work / "out", workers))
    print(f"generated {args.n} returns in {generation:.0f} s" if generation else "returns reused")
    print(
        f"{'inputs':>7} {'workers':>7} {'seconds':>8} {'files/s':>8} "
        f"{'RSS merge MiB':>14} {'RSS worker MiB':>15}"
    )
    for run in runs:
        print(
            f"{run['inputs']:>7} {run['workers']:>7} {run['seconds']:>8} "
            f"{run['files_per_second']:>8} {run['peak_rss_mib_merge_process']:>14} "
            f"{run['peak_rss_mib_largest_worker']:>15}"
        )
    print(runs[-1]["accounting"])
    results = {
        "n": args.n,
        "copies": args.copies,
        "machine": machine(),
        "generation_seconds": round(generation, 1),
        "runs": runs,
    }
    write_results(args.json, results)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
