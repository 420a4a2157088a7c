"""Wall time of `xltools check one.xlsx`, start-up included, beside the obvious alternatives.

Run:  python3 bench/bench_check_one.py [--runs 15]

It generates and fills one 项目支出绩效自评表, then times, each as a fresh process (what a user
waits for), the median of N runs of:
  - `python3 -c pass` (the interpreter's own start-up, the floor);
  - a script that only loads the file with openpyxl (the obvious alternative, checking nothing);
  - `xltools check one.xlsx --no-copy -q` and `xltools check one.xlsx` (with the checked copy).
It prints a table with ratios to the floor and writes bench/results/check_one.json. Figures,
not assertions: machines are noisy, so compare ratios from one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=False, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "check_one.json")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import yaml

    from xltools.fill import fill_workbook
    from xltools.generate import generate_template
    from xltools.spec import load_spec

    work = Path(tempfile.mkdtemp(prefix="xltools-bench-"))
    spec = load_spec(ROOT / "specs" / "project_expense_2023.yaml")
    template, one = work / "template.xlsx", work / "one.xlsx"
    generate_template(spec, template)
    data = yaml.safe_load(
        (ROOT / "examples" / "project_expense_2023.yaml").read_text(encoding="utf-8")
    )
    assert fill_workbook(template, spec, data, one) == []
    python = sys.executable
    specs = ["--specs", str(ROOT / "specs")]
    rows = {
        "python -c pass (floor)": [python, "-c", "pass"],
        "openpyxl load only": [
            python,
            "-c",
            f"import openpyxl; openpyxl.load_workbook({str(one)!r})",
        ],
        "xltools check --no-copy": [
            python,
            "-m",
            "xltools.cli",
            "check",
            str(one),
            "--no-copy",
            "-q",
            *specs,
        ],
        "xltools check (with copy)": [
            python,
            "-m",
            "xltools.cli",
            "check",
            str(one),
            "-q",
            "-o",
            str(work / "c.xlsx"),
            *specs,
        ],
    }
    results = {name: _median_seconds(command, args.runs) for name, command in rows.items()}
    floor = results["python -c pass (floor)"]
    print(f"{'what':32} {'median s':>9} {'÷ floor':>8}")
    for name, seconds in results.items():
        print(f"{name:32} {seconds:9.3f} {seconds / floor:8.1f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"runs": args.runs, "seconds": results}, indent=2), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
