"""Where the per-file work runs: a small interface, so that the local process pool can be
swapped for another executor (a Dask cluster is planned) without touching the merge.

An executor takes the paths to check and the specs folder and yields ``(index, FileResult)``
pairs, in any order, each index exactly once. It must keep only a bounded number of results
in flight, so that memory stays flat however many files there are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from .worker import FileResult, check_chunk, check_one


class Executor(Protocol):
    def run(
        self, paths: Sequence[str], specs_dir: str | None
    ) -> Iterator[tuple[int, FileResult]]: ...


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class InProcess:
    """Check the files one after another in the calling process (``--workers 1``)."""

    def run(self, paths: Sequence[str], specs_dir: str | None) -> Iterator[tuple[int, FileResult]]:
        for index, path in enumerate(paths):
            yield index, check_one(path, specs_dir)


class LocalPool:
    """A process pool across the cores of this machine. Files go out in chunks (one task per
    chunk keeps the pickling overhead small); at most ``4 × workers`` chunks are in flight,
    and results are handed on as they complete."""

    def __init__(self, workers: int, chunk_size: int | None = None) -> None:
        self.workers = max(1, workers)
        self.chunk_size = chunk_size

    def run(self, paths: Sequence[str], specs_dir: str | None) -> Iterator[tuple[int, FileResult]]:
        size = self.chunk_size or max(1, min(16, len(paths) // (self.workers * 8) or 1))
        chunks = [
            range(start, min(start + size, len(paths))) for start in range(0, len(paths), size)
        ]
        pending: dict[Future[list[FileResult]], range] = {}
        next_chunk = 0
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            try:
                while pending or next_chunk < len(chunks):
                    while next_chunk < len(chunks) and len(pending) < 4 * self.workers:
                        indexes = chunks[next_chunk]
                        try:
                            future = pool.submit(
                                check_chunk, [paths[i] for i in indexes], specs_dir
                            )
                        except BrokenProcessPool:  # the pool is gone: finish in this process
                            for i in indexes:
                                yield i, check_one(paths[i], specs_dir)
                            next_chunk += 1
                            continue
                        pending[future] = indexes
                        next_chunk += 1
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        indexes = pending.pop(future)
                        try:
                            results = future.result()
                        except Exception:  # a worker died (killed, out of memory): redo here
                            results = [check_one(paths[i], specs_dir) for i in indexes]
                        yield from zip(indexes, results, strict=True)
            finally:
                for future in pending:
                    future.cancel()


def make_executor(workers: int | None) -> Executor:
    count = default_workers() if workers is None or workers <= 0 else workers
    return InProcess() if count == 1 else LocalPool(count)
