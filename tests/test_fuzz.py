"""Fuzzing, bounded for CI: mutated valid workbooks (cells, XML parts, zip entries, bytes; see
tests/corpus/fuzzing.py) never make ``check_file`` raise or stall, always give a report with
coded Chinese findings and a checked copy when readable, and ``merge`` accounts for every one.

For a long run: ``python scripts/fuzz.py --minutes 10``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest
from corpus.fuzzing import (
    Mutated,
    Stats,
    build_seeds,
    check_one_file,
    merge_accounts,
    mutated_workbooks,
    temporary_folder,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from xltools.registry import Registry


@functools.cache
def seeds() -> dict[str, bytes]:
    """Built when the first example is drawn, not when the suite is collected."""
    with temporary_folder() as work:
        return build_seeds(Path(work))


MUTATED = st.deferred(lambda: mutated_workbooks(seeds()))
SETTINGS = settings(
    deadline=None,  # the property bounds the time itself (TIME_LIMIT), with a watchdog
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],  # no patch files in the tree
)
REGISTRY = Registry.load(None)
STATS = Stats()


@pytest.fixture(scope="module", autouse=True)
def _report_stats() -> Iterator[None]:
    yield
    print(f"\nfuzz: {STATS.line()}")
    print("codes:", ", ".join(f"{code} {n}" for code, n in STATS.codes.most_common()))


def test_the_seeds_are_valid_workbooks(tmp_path: Path) -> None:
    from xltools.check.run import check_file

    for name, data in seeds().items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        report, workbook = check_file(path, REGISTRY)
        assert workbook is not None and report.template, name
        # the blank template misses its required fields; the careless copy has a budget
        # pasted as text (an error: the sheet's formulas ignore it)
        assert name in ("template", "careless") or report.valid, (name, report.findings)
        if name == "careless":
            errors = {f.code for f in report.findings if f.severity == "error"}
            assert errors == {"value-text-in-number-cell"}, report.findings


@settings(SETTINGS, max_examples=300)
@given(mutated=MUTATED)
def test_check_survives_mutated_workbooks(mutated: Mutated) -> None:
    with temporary_folder() as folder:
        check_one_file(mutated, REGISTRY, Path(folder), STATS)


def _merge_available() -> bool:
    try:
        from xltools.merge import merge  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _merge_available(), reason="xltools.merge is not there yet")
@settings(SETTINGS, max_examples=15)
@given(batch=st.lists(MUTATED, min_size=1, max_size=5))
def test_merge_accounts_for_every_mutated_workbook(batch: list[Mutated]) -> None:
    with temporary_folder() as folder:
        merge_accounts(batch, Path(folder) / "returns", STATS)
