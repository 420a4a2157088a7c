"""`xltools generate --roster` against plain XlsxWriter writing the same workbooks.

Run:  python3 bench/bench_generate.py [--n 3000] [--repeat R] [--work DIR] [--json F] [--keep]

Target (issue 7): generating N stamped workbooks takes at most 1.5 × what plain XlsxWriter
needs to write the same content.

How each side is measured
-------------------------
1. A roster of N bureaus (`roster.csv`, the columns of
   `examples/roster_project_expense_2023.csv`: bureau, unit, project, budget figures and one
   indicator with target and weight; figures varied per bureau) is written to the work folder.
2. **xltools**: `xltools generate specs/project_expense_2023.yaml --roster roster.csv -o DIR`
   as a fresh process, timed from start to exit (Python start-up, spec loading, roster reading
   and checking, N workbooks, their SHA-256 and the manifest — what a user waits for).
3. **Recording** (not timed): in a separate process the same roster is distributed with every
   public method of `xlsxwriter.Workbook` and `xlsxwriter.Worksheet` wrapped, so that each call
   our code makes on XlsxWriter (outermost calls only: XlsxWriter's calls to itself are not
   logged) is saved with its arguments — cell values, formulas with their cached results,
   format properties, validation and conditional-format options, defined names, protection
   (with the very password), sheet set-up — one pickle per workbook. Formats and worksheets
   are logged as references to the `add_format` / `add_worksheet` call that created them.
   XlsxWriter's own work (everything in `close()`) is therefore done alike on both sides.
4. **Fidelity check**: the first log is replayed (both ways below) and every part of the replayed zip except
   `docProps/core.xml` (its creation time) must be byte-identical to what xltools wrote for
   that bureau in step 3; the bench stops otherwise.
5. **plain XlsxWriter**: a fresh process (`--replay`) replays the N logs serially onto fresh
   workbooks: `Workbook(path, same options)`, the logged calls in order, `close()`. Its only
   difference from `xlsxwriter.Workbook` is the three-line subclass that writes the
   workbook-protection element (XlsxWriter has no API for it; xltools uses the same one).
   The time to unpickle each log (reading precomputed data from disk, which a program holding
   the data in memory would not pay) is measured inside the process and subtracted; Python
   start-up and `import xlsxwriter` are included, as on the xltools side.
6. **plain XlsxWriter + formula-preparation cache**: the same replay with worksheets that
   remember XlsxWriter's `_prepare_formula` by text, the one XlsxWriter-level trick xltools
   uses (generate/book.py; ~120 regular-expression substitutions per conditional-format
   formula otherwise). xltools ÷ this row is what the spec machinery itself costs.

Both sides are serial (one process, one core), write the same number of files with the same
options into sibling folders of the same work folder, and run back to back; with `--repeat R`
they alternate R times and the best run of each side counts (other work on the machine only
ever adds time). Each run is measured as wall time and as CPU time (user + system of the
process and its children, from `getrusage`); on a shared machine the CPU ratio is the steadier
of the two. The table shows seconds, milliseconds per file and the ratios xltools ÷ plain;
results go to bench/results/generate.json with the machine's description and every run.
Figures, not assertions: compare the rows of one run. `--n 300` for a quick run.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import functools
import json
import os
import pickle
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import FunctionType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "project_expense_2023.yaml"
EXAMPLE_ROSTER = ROOT / "examples" / "roster_project_expense_2023.csv"
VOLATILE_PARTS = {"docProps/core.xml"}  # creation time, set by XlsxWriter at close
SIDES = {
    "xltools": "xltools generate --roster",
    "plain": "plain XlsxWriter (replayed calls)",
    "plain_cached": "plain XlsxWriter + formula-preparation cache",
}


# --- the roster -------------------------------------------------------------------------


def write_roster(path: Path, n: int) -> None:
    with EXAMPLE_ROSTER.open(encoding="utf-8-sig") as stream:
        examples = list(csv.DictReader(stream))
    header = list(examples[0])
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=header)
        writer.writeheader()
        for i in range(n):
            row = dict(examples[i % len(examples)])
            budget = 50 + (i * 37) % 400
            row.update(
                {
                    "bureau_id": f"B{i:05d}",
                    "bureau_name": f"第{i:05d}单位",
                    "project_name": f"第{i:05d}号项目",
                    "department": f"第{i:05d}单位",
                    "unit_name": f"第{i:05d}单位",
                    "funds_current_initial": str(budget),
                    "funds_current_budget": f"{budget * 0.9:.2f}",
                }
            )
            writer.writerow(row)


# --- recording the XlsxWriter calls -------------------------------------------------------


class Ref:
    """A worksheet or format of the workbook being logged, by creation order."""

    __slots__ = ("kind", "index")

    def __init__(self, kind: str, index: int) -> None:
        self.kind, self.index = kind, index

    def __reduce__(self) -> tuple[Any, ...]:
        return (Ref, (self.kind, self.index))


def record(roster: Path, out_dir: Path, log_dir: Path) -> int:
    """Distribute the roster with XlsxWriter's public methods wrapped; one log per workbook."""
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

    from xltools.roster import distribute, read_roster, validate_roster
    from xltools.spec import load_spec

    state = threading.local()
    state.depth = 0
    logs: list[int] = []
    current: dict[str, Any] = {}

    def encode(value: Any) -> Any:
        if isinstance(value, Format | Worksheet):
            current["found_ref"] = True
            return current["refs"][id(value)]
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(encode(v) for v in value)
        return value

    def wrap(cls: type, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def logged(self: Any, *args: Any, **kwargs: Any) -> Any:
            outermost = state.depth == 0
            if outermost and name != "__init__":
                target = "wb" if isinstance(self, Workbook) else current["refs"][id(self)]
                current["found_ref"] = False
                encoded = (encode(args), encode(kwargs))
                entry = (target, name, *encoded, current["found_ref"])
            state.depth += 1
            try:
                result = method(self, *args, **kwargs)
            finally:
                state.depth -= 1
            if not outermost:
                return result
            if name == "__init__":
                current.clear()
                current.update(
                    options=dict(args[1] if len(args) > 1 else kwargs.get("options") or {}),
                    calls=[],
                    refs={},
                    counts={"ws": 0, "fmt": 0},
                )
                return result
            current["calls"].append(entry)
            if isinstance(result, Format | Worksheet):
                kind = "fmt" if isinstance(result, Format) else "ws"
                current["refs"][id(result)] = Ref(kind, current["counts"][kind])
                current["counts"][kind] += 1
            if name == "close":
                log = log_dir / f"{len(logs):05d}.pickle"
                with log.open("wb") as stream:
                    pickle.dump(
                        {"options": current["options"], "calls": current["calls"]},
                        stream,
                        protocol=pickle.HIGHEST_PROTOCOL,
                    )
                logs.append(1)
            return result

        return logged

    for cls in (Workbook, Worksheet):
        for name, member in list(vars(cls).items()):
            public = not name.startswith("_") or (cls is Workbook and name == "__init__")
            if isinstance(member, FunctionType) and public:
                setattr(cls, name, wrap(cls, name, member))
    spec = load_spec(SPEC)
    good, problems = validate_roster(spec, read_roster(roster))
    if problems:
        raise SystemExit(f"roster problems: {problems[:3]}")
    distribute(spec, good, out_dir)
    return len(logs)


# --- replaying them with plain XlsxWriter ------------------------------------------------


def replay(log_dir: Path, out_dir: Path, cached: bool = False) -> dict[str, float]:
    """Write one workbook per log; returns the seconds spent unpickling (to subtract).

    With ``cached``, worksheets remember XlsxWriter's formula preparation by text, as
    xltools' do (generate/book.py): plain XlsxWriter plus that one trick, to show what the
    spec machinery itself costs."""
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

    prepared: dict[tuple[Any, ...], str] = {}

    class CachingWorksheet(Worksheet):
        def _prepare_formula(self, formula: str, *args: Any, **kwargs: Any) -> str:
            key = (formula, self.use_future_functions, args, tuple(sorted(kwargs.items())))
            if key not in prepared:
                prepared[key] = super()._prepare_formula(formula, *args, **kwargs)
            return prepared[key]

    class ProtectedWorkbook(Workbook):  # the element XlsxWriter has no API for
        worksheet_class = CachingWorksheet if cached else Worksheet

        def _write_book_views(self) -> None:
            self._xml_empty_tag("workbookProtection", [("lockStructure", "1")])
            super()._write_book_views()

    def resolve(value: Any, objects: dict[str, list[Any]]) -> Any:
        kind = type(value)
        if kind is Ref:
            return objects[value.kind][value.index]
        if kind is dict:
            return {k: resolve(v, objects) for k, v in value.items()}
        if kind is tuple or kind is list:
            return kind(resolve(v, objects) for v in value)
        return value

    loading = loading_cpu = 0.0
    out_dir.mkdir(parents=True, exist_ok=True)
    for index, log in enumerate(sorted(log_dir.glob("*.pickle"))):
        started, started_cpu = time.perf_counter(), time.process_time()
        with log.open("rb") as stream:
            data = pickle.load(stream)
        loading += time.perf_counter() - started
        loading_cpu += time.process_time() - started_cpu
        workbook = ProtectedWorkbook(str(out_dir / f"{index:05d}.xlsx"), data["options"])
        objects: dict[str, list[Any]] = {"ws": [], "fmt": []}
        for target, name, args, kwargs, has_refs in data["calls"]:
            owner = workbook if target == "wb" else objects["ws"][target.index]
            if has_refs:
                args, kwargs = resolve(args, objects), resolve(kwargs, objects)
            result = getattr(owner, name)(*args, **kwargs)
            if name == "add_worksheet":
                objects["ws"].append(result)
            elif name == "add_format":
                objects["fmt"].append(result)
    return {"unpickle_seconds": loading, "unpickle_cpu_seconds": loading_cpu}


def same_parts(a: Path, b: Path) -> list[str]:
    """Parts of two xlsx files that differ (the volatile creation time aside)."""
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        names = set(za.namelist()) | set(zb.namelist())
        return sorted(
            n
            for n in names - VOLATILE_PARTS
            if n not in za.namelist() or n not in zb.namelist() or za.read(n) != zb.read(n)
        )


# --- timing -------------------------------------------------------------------------------


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, the process and its children) and stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, cpu, done.stdout


def xltools_command() -> list[str]:
    found = shutil.which("xltools")
    if found:
        return [found]
    return [sys.executable, "-c", "from xltools.cli import main; main()"]


def machine() -> dict[str, Any]:
    import xlsxwriter

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "xlsxwriter": xlsxwriter.__version__,
        "commit": commit,
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=3000, help="bureaus (workbooks)")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="alternate runs of each side; the best counts"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--json",
        type=Path,
        default=ROOT / "bench" / "results" / "generate.json",
        help="results file",
    )
    parser.add_argument(
        "--replay", nargs=2, type=Path, metavar=("LOGS", "OUT"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--record", nargs=3, type=Path, metavar=("ROSTER", "OUT", "LOGS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--cached", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay:  # the plain-XlsxWriter process
        print(json.dumps(replay(*args.replay, cached=args.cached)))
        return
    if args.record:
        print(record(*args.record))
        return

    work = args.work or Path(tempfile.mkdtemp(prefix="xltools-bench-generate-"))
    work.mkdir(parents=True, exist_ok=True)
    roster, logs = work / "roster.csv", work / "calls"
    write_roster(roster, args.n)
    for folder in ("recorded", "calls", "check", *SIDES):
        shutil.rmtree(work / folder, ignore_errors=True)
    logs.mkdir()
    try:
        me = [sys.executable, str(Path(__file__).resolve())]
        print(f"recording the XlsxWriter calls of {args.n} workbooks …", file=sys.stderr)
        _, _, recorded = timed([*me, "--record", str(roster), str(work / "recorded"), str(logs)])
        if int(recorded.strip()) != args.n:
            raise SystemExit(f"recorded {recorded.strip()} workbooks, expected {args.n}")
        first = sorted((work / "recorded").glob("*.xlsx"))[0]
        _check_fidelity(logs, first, work / "check")

        ours_command = [*xltools_command(), "generate", str(SPEC), "--roster", str(roster)]
        runs: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
        written: dict[str, int] = {}
        for attempt in range(args.repeat):  # alternated, so every side sees the same machine
            for side in SIDES:
                print(f"timing {SIDES[side]} ({attempt + 1}) …", file=sys.stderr)
                out_dir = work / side
                shutil.rmtree(out_dir, ignore_errors=True)
                if side == "xltools":
                    wall, cpu, _ = timed([*ours_command, "-o", str(out_dir)])
                    runs[side].append({"wall": wall, "cpu": cpu})
                else:
                    cached = ["--cached"] if side == "plain_cached" else []
                    wall, cpu, out = timed([*me, "--replay", str(logs), str(out_dir), *cached])
                    loading = json.loads(out.strip().splitlines()[-1])
                    runs[side].append(
                        {
                            "wall": wall - loading["unpickle_seconds"],
                            "cpu": cpu - loading["unpickle_cpu_seconds"],
                            "unpickle_subtracted": loading["unpickle_seconds"],
                        }
                    )
                written[side] = len(list(out_dir.glob("*.xlsx")))
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    if any(count != args.n for count in written.values()):
        raise SystemExit(f"workbooks written {written}, expected {args.n} each")

    # The best of the attempts: interference from other work only ever adds time.
    best = {
        side: {kind: min(r[kind] for r in attempts) for kind in ("wall", "cpu")}
        for side, attempts in runs.items()
    }

    def ratio(base: str) -> dict[str, float]:
        return {k: best["xltools"][k] / best[base][k] for k in ("wall", "cpu")}

    print(f"{args.n} workbooks, best of {args.repeat}")
    print(f"{'':60} {'wall s':>8} {'ms/file':>8} {'CPU s':>8} {'ms/file':>8}")
    for side, label in SIDES.items():
        wall, cpu = best[side]["wall"], best[side]["cpu"]
        print(
            f"{label:60} {wall:>8.1f} {1000 * wall / args.n:>8.1f} "
            f"{cpu:>8.1f} {1000 * cpu / args.n:>8.1f}"
        )
    for base in ("plain", "plain_cached"):
        r = ratio(base)
        print(f"{'ratio xltools ÷ ' + SIDES[base]:60} {r['wall']:>17.2f} {r['cpu']:>17.2f}")
    print("target: ratio xltools ÷ plain XlsxWriter ≤ 1.5")
    results = {
        "n": args.n,
        "repeat": args.repeat,
        "spec": SPEC.relative_to(ROOT).as_posix(),
        "command": f"python3 bench/bench_generate.py --n {args.n} --repeat {args.repeat}",
        "sides": SIDES,
        "best": {
            side: {
                "wall_seconds": round(b["wall"], 2),
                "cpu_seconds": round(b["cpu"], 2),
                "wall_ms_per_file": round(1000 * b["wall"] / args.n, 1),
                "cpu_ms_per_file": round(1000 * b["cpu"] / args.n, 1),
            }
            for side, b in best.items()
        },
        "ratio_to_plain": {k: round(v, 3) for k, v in ratio("plain").items()},
        "ratio_to_plain_cached": {k: round(v, 3) for k, v in ratio("plain_cached").items()},
        "target_ratio_to_plain": 1.5,
        "runs": {
            side: [{k: round(v, 2) for k, v in r.items()} for r in attempts]
            for side, attempts in runs.items()
        },
        "fidelity": "replayed workbook byte-identical to xltools' (docProps/core.xml aside)",
        "measured_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "machine": machine(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")


def _check_fidelity(logs: Path, xltools_file: Path, scratch: Path) -> None:
    """The replay of the first log, with and without the cache, must be the workbook xltools
    wrote for that bureau."""
    single = scratch / "one-log"
    single.mkdir(parents=True)
    shutil.copy(sorted(logs.glob("*.pickle"))[0], single / "00000.pickle")
    for cached in (False, True):
        out = scratch / f"cached-{cached}"
        replay(single, out, cached=cached)
        differing = same_parts(xltools_file, out / "00000.xlsx")
        if differing:
            raise SystemExit(f"the replayed workbook differs from xltools' in {differing}")


if __name__ == "__main__":
    main()
