"""Batch `xltools fill` of N returns against N single `xltools fill` calls, in one run.

Run:  python3 bench/bench_fill_batch.py [--n 100]

It generates the 2023 项目支出绩效自评表 template, writes N data rows (the bundled example, each
with its own invented unit and amounts moved by up to ±20 %) both as one CSV and as N YAML
files, then times, each as fresh processes (what a user waits for, start-up included):
  - `xltools fill TEMPLATE data.csv -o DIR` (one call, N workbooks);
  - N calls of `xltools fill TEMPLATE row.yaml -o row.xlsx`;
  - `xltools generate SPEC --roster roster.csv -o DIR` of N rows (the "generate speed" the
    batch fill is measured against: the same number of workbooks written by the generator).
It checks that every batch output is byte for byte the single call's output, prints the
times and ratios, and writes bench/results/fill_batch.json. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import machine, write_results  # noqa: E402


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, check=False, capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode()[-2000:]}")
    return time.perf_counter() - started


def _rows(n: int) -> list[dict[str, Any]]:
    import yaml

    from xltools.fill import flatten

    base = flatten(
        yaml.safe_load((ROOT / "examples" / "project_expense_2023.yaml").read_text("utf-8"))
    )
    draw = random.Random(18)
    rows = []
    for k in range(n):
        row = dict(base, unit_name=f"测试单位{k:04d}")
        for key in ("funds_current_initial", "funds_current_budget", "funds_current_spent"):
            if isinstance(base.get(key), int | float):
                row[key] = round(base[key] * draw.uniform(0.8, 1.2), 2)
        if row.get("funds_current_spent", 0) > row.get("funds_current_budget", 0):
            row["funds_current_spent"] = row["funds_current_budget"]
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "fill_batch.json")
    args = parser.parse_args()
    import yaml

    from xltools.generate import generate_template
    from xltools.spec import load_spec

    work = Path(tempfile.mkdtemp(prefix="xltools-bench-fill-"))
    spec_path = ROOT / "specs" / "project_expense_2023.yaml"
    template = work / "template.xlsx"
    generate_template(load_spec(spec_path), template)
    rows = _rows(args.n)
    keys = list(rows[0])
    with (work / "data.csv").open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["file", *keys])
        writer.writerows([f"r{k:04d}", *[row[key] for key in keys]] for k, row in enumerate(rows))
    (work / "yaml").mkdir()
    for k, row in enumerate(rows):
        text = yaml.safe_dump(row, allow_unicode=True)
        (work / "yaml" / f"r{k:04d}.yaml").write_text(text, encoding="utf-8")
    roster_keys = ["unit_name", "project_name", "funds_current_initial", "funds_current_budget"]
    with (work / "roster.csv").open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["bureau_id", *roster_keys])
        writer.writerows(
            [f"B{k:04d}", *[row[key] for key in roster_keys]] for k, row in enumerate(rows)
        )

    cli = [sys.executable, "-m", "xltools.cli"]
    specs = ["--specs", str(ROOT / "specs")]
    batch = _timed(
        [*cli, "fill", str(template), str(work / "data.csv"), "-o", str(work / "batch"), *specs]
    )
    (work / "single").mkdir()
    single = 0.0
    for k in range(args.n):
        single += _timed(
            [
                *cli,
                "fill",
                str(template),
                str(work / "yaml" / f"r{k:04d}.yaml"),
                "-o",
                str(work / "single" / f"r{k:04d}.xlsx"),
                *specs,
            ]
        )
    roster = _timed(
        [
            *cli,
            "generate",
            str(spec_path),
            "--roster",
            str(work / "roster.csv"),
            "-o",
            str(work / "roster"),
        ]
    )
    identical = all(
        (work / "batch" / f"r{k:04d}.xlsx").read_bytes()
        == (work / "single" / f"r{k:04d}.xlsx").read_bytes()
        for k in range(args.n)
    )
    results = {
        "n": args.n,
        "machine": machine(),
        "seconds": {
            "fill batch (one call, CSV)": round(batch, 3),
            "fill single calls (N processes)": round(single, 3),
            "generate --roster (one call)": round(roster, 3),
        },
        "ms_per_workbook": {
            "fill batch": round(1000 * batch / args.n, 1),
            "fill single": round(1000 * single / args.n, 1),
            "generate --roster": round(1000 * roster / args.n, 1),
        },
        "ratios": {
            "single calls ÷ batch": round(single / batch, 2),
            "batch ÷ generate --roster": round(batch / roster, 2),
        },
        "batch outputs byte-identical to single fills": identical,
    }
    for section in ("seconds", "ms_per_workbook", "ratios"):
        for name, value in results[section].items():
            print(f"{section:16} {name:38} {value}")
    print(f"byte-identical: {identical}")
    write_results(args.json, results)


if __name__ == "__main__":
    main()
