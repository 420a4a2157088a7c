#!/usr/bin/env python3
"""Fuzz the checker for a given time: the fuzzer of tests/test_fuzz.py without its CI bound.

    python scripts/fuzz.py --minutes 10                # from the repository root
    python scripts/fuzz.py --minutes 60 --out /tmp/fuzz --libreoffice

Mutated valid workbooks (cells, XML parts, zip entries, bytes: tests/corpus/fuzzing.py) are
checked one after another as ``xltools check`` does (check, then the checked copy); every 25th
file the last five go through ``merge`` as one batch. It stops after ``--minutes`` and prints
what it saw: files checked, read, identified and valid, checked copies, merges, the slowest
file, each finding code with its count, and every failure — a crash (an exception, an internal
error, a finding without a code or a Chinese message), a hang (no result after 30 s, or slower
than 5 s) or a merge that does not account for every file. Each failing input is saved in
``--out`` (default ``fuzz-failures/``) with what was done to it. Exit status 0 when nothing
failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from corpus.fuzzing import (  # noqa: E402
    Hang,
    Mutated,
    Stats,
    build_seeds,
    check_one_file,
    merge_accounts,
    mutated_workbooks,
    temporary_folder,
)
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.control import current_build_context  # noqa: E402

from xltools.registry import Registry  # noqa: E402

BATCH = 200  # examples per hypothesis run; each run starts from a fresh random seed
MERGE_EVERY = 25
MERGE_BATCH = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run (10)")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"), help="failing inputs")
    parser.add_argument(
        "--libreoffice", action="store_true", help="also mutate a LibreOffice-saved seed"
    )
    args = parser.parse_args()

    with temporary_folder() as work:
        seeds = build_seeds(Path(work), libreoffice=args.libreoffice)
    registry = Registry.load(None)
    stats = Stats()
    recent: deque[Mutated] = deque(maxlen=MERGE_BATCH)
    started = time.monotonic()
    end = started + args.minutes * 60
    last_print = started

    def save(kind: str, items: list[Mutated], detail: str) -> None:
        digest = hashlib.sha256(b"".join(m.data for m in items)).hexdigest()[:12]
        folder = args.out / f"{kind}-{digest}"
        folder.mkdir(parents=True, exist_ok=True)
        for n, mutated in enumerate(items):
            (folder / f"{n:02d}-{mutated.seed}.xlsx").write_bytes(mutated.data)
        (folder / "what.txt").write_text(
            detail + "\n\n" + "\n".join(repr(m) for m in items) + "\n", encoding="utf-8"
        )
        stats.failures.append(f"{kind}: {folder} — {detail.splitlines()[0][:300]}")

    @settings(
        max_examples=BATCH,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(mutated=mutated_workbooks(seeds))
    def one(mutated: Mutated) -> None:
        if time.monotonic() > end:
            return
        with temporary_folder() as folder:
            try:
                check_one_file(mutated, registry, Path(folder), stats)
            except Hang as error:  # not shrunk: each try would take the watchdog's time again
                save("hang", [mutated], str(error))
                return
            except BaseException as error:
                if current_build_context().is_final:  # the shrunk example, once
                    save("crash", [mutated], f"{type(error).__name__}: {error}")
                raise
        recent.append(mutated)
        if stats.files % MERGE_EVERY == 0 and len(recent) == MERGE_BATCH:
            batch = list(recent)
            with temporary_folder() as folder:
                try:
                    merge_accounts(batch, Path(folder) / "returns", stats)
                except BaseException as error:
                    save("merge", batch, f"{type(error).__name__}: {error}")

    runs = 0
    while time.monotonic() < end:
        runs += 1
        try:
            one()
        except KeyboardInterrupt:
            break
        except BaseException as error:  # a failure, already saved: report it, go on
            print(f"[failure] {type(error).__name__}: {str(error)[:2000]}", file=sys.stderr)
        now = time.monotonic()
        if now - last_print > 30 or now >= end:
            last_print = now
            rate = stats.files / max(now - started, 1e-9)
            print(
                f"[{(now - started) / 60:5.1f} min] {stats.line()} ({rate:.1f} files/s)", flush=True
            )

    print()
    print(f"fuzz: {args.minutes:g} min, {runs} hypothesis runs of up to {BATCH} examples")
    print(f"fuzz: {stats.line()}")
    print("codes: " + ", ".join(f"{code} {n}" for code, n in stats.codes.most_common()))
    for failure in stats.failures:
        print(f"FAILED {failure}")
    for mutated, refusal in stats.odd_copies:  # observations, not failures
        digest = hashlib.sha256(mutated.data).hexdigest()[:12]
        folder = args.out / f"unreadable-copy-{digest}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"00-{mutated.seed}.xlsx").write_bytes(mutated.data)
        (folder / "what.txt").write_text(f"{refusal}\n\n{mutated!r}\n", encoding="utf-8")
        print(f"NOTE the checked copy of {folder} is refused by the reader: {refusal[:200]}")
    return 1 if stats.failures else 0


if __name__ == "__main__":
    sys.exit(main())
