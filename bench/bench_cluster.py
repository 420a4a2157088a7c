"""What checking on a Dask cluster costs against the local process pool.

Run:  python3 bench/bench_cluster.py [--n 1000] [--work DIR] [--repeat 2] [--json F]

It builds N filled returns with bench/bench_merge.py's builder (reused from `--work DIR` when
they are there), then times `merge()` of all of them, writing the summary workbook and the CSV
files, with:

* the calling process alone (``workers=1``) and the local pool (``workers=2``), each run paying
  its pool's start-up as `xltools merge` does;
* a ``distributed.LocalCluster`` of 1 and of 2 worker processes (one thread each), started
  before the clock and warmed by a merge of a few files, as a long-lived cluster would be: its
  start-up is reported apart.

Each configuration runs ``--repeat`` times, alternating, and the best time counts (the machine
is shared; the best run is the least disturbed). It reports the per-file overhead of the cluster
path — (cluster seconds − local seconds) / N, in milliseconds, for the same number of worker
processes — and the speed-up from 1 to 2 cluster workers; and checks that every run wrote the
same CSV files byte for byte. It prints a table and writes bench/results/cluster.json. Figures,
not assertions.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_merge import make_returns  # noqa: E402
from common import write_results  # noqa: E402

from xltools.merge import Outputs, merge  # noqa: E402
from xltools.merge.cluster import DaskCluster  # noqa: E402

SPECS = ROOT / "specs"


def csv_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def timed(inputs: Path, out: Path, **how: Any) -> tuple[float, str, str]:
    """(seconds, accounting line, digest of the CSV files) of one merge."""
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    with merge(
        [inputs],
        specs_dir=SPECS,
        outputs=Outputs(xlsx=out / "summary.xlsx", csv=out / "csv"),
        **how,
    ) as result:
        line = result.line
    seconds = time.perf_counter() - started
    return seconds, line, csv_digest(out / "csv")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000, help="returns to merge")
    parser.add_argument("--work", type=Path, help="keep (and reuse) the returns here")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each configuration")
    parser.add_argument(
        "--json",
        type=Path,
        default=ROOT / "bench" / "results" / "cluster.json",
        help="results file",
    )
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    work = args.work or Path(tempfile.mkdtemp(prefix="xltools-bench-cluster-"))
    work.mkdir(parents=True, exist_ok=True)
    full, quarter, generation = make_returns(work, args.n, 1, os.cpu_count() or 1)
    warmup = sorted(quarter.iterdir())[:16]
    (work / "warmup").mkdir(exist_ok=True)
    for path in warmup:
        target = work / "warmup" / path.name
        if not target.exists():
            os.link(path, target)

    clusters: dict[int, tuple[Any, Any]] = {}
    started: dict[int, float] = {}
    for workers in (1, 2):
        begin = time.perf_counter()
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = Client(cluster, set_as_default=False)
        timed(work / "warmup", work / "out-warmup", executor=DaskCluster(client))
        started[workers] = round(time.perf_counter() - begin, 2)
        clusters[workers] = (cluster, client)

    configurations: dict[str, Callable[[], dict[str, Any]]] = {
        "local, in-process (workers=1)": lambda: {"workers": 1},
        "local pool (workers=2)": lambda: {"workers": 2},
        "LocalCluster, 1 worker": lambda: {"executor": DaskCluster(clusters[1][1])},
        "LocalCluster, 2 workers": lambda: {"executor": DaskCluster(clusters[2][1])},
    }
    runs: dict[str, list[float]] = {name: [] for name in configurations}
    lines: set[str] = set()
    digests: set[str] = set()
    try:
        for _ in range(args.repeat):
            for name, how in configurations.items():
                seconds, line, digest = timed(full, work / "out", **how())
                runs[name].append(round(seconds, 2))
                lines.add(line)
                digests.add(digest)
                print(f"{name:<32} {seconds:7.2f} s", flush=True)
    finally:
        for cluster, client in clusters.values():
            client.close()
            cluster.close()

    best = {name: min(times) for name, times in runs.items()}
    n = args.n
    serial, pool = best["local, in-process (workers=1)"], best["local pool (workers=2)"]
    one, two = best["LocalCluster, 1 worker"], best["LocalCluster, 2 workers"]
    results = {
        "n": n,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "repeat": args.repeat,
        "generation_seconds": round(generation, 1),
        "cluster_start_seconds": {f"{k} worker(s)": v for k, v in started.items()},
        "seconds": runs,
        "best_seconds": best,
        "files_per_second": {name: round(n / s, 1) for name, s in best.items()},
        "overhead_ms_per_file": {
            "1 worker vs in-process": round((one - serial) / n * 1000, 2),
            "2 workers vs local pool of 2": round((two - pool) / n * 1000, 2),
        },
        "cluster_speedup_1_to_2_workers": round(one / two, 2),
        "outputs_identical": len(digests) == 1 and len(lines) == 1,
        "accounting": sorted(lines),
    }
    print()
    print(f"{'configuration':<32} {'best s':>7} {'files/s':>8}")
    for name, seconds in best.items():
        print(f"{name:<32} {seconds:>7.2f} {n / seconds:>8.1f}")
    print(
        f"cluster overhead per file: {results['overhead_ms_per_file']['1 worker vs in-process']} ms"
        f" (1 worker vs in-process), {results['overhead_ms_per_file']['2 workers vs local pool of 2']}"
        " ms (2 workers vs local pool of 2)"
    )
    print(f"cluster speed-up 1 → 2 workers: {results['cluster_speedup_1_to_2_workers']}×")
    print(f"cluster start (incl. warm-up merge of 16): {started}")
    print(f"outputs identical across runs: {results['outputs_identical']}; {sorted(lines)[0]}")
    write_results(args.json, results)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
