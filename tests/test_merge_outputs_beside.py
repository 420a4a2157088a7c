"""merge writes the analyst outputs (CSV, Parquet, SQLite) in a second process while it writes
the summary workbook, when there are enough inputs and cores: the files are the same as when
written one after the other, an error there is the merge's error, and a second process that
dies leaves the outputs to the merging process."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from test_merge_output_speed import _Fake, _results  # tests/ is on the path

from xltools.merge import Outputs, core, merge


def _merge(tmp_path: Path, **outputs: Any) -> Any:
    """Merge the made-up returns (the same input files every time: the manifest names them)."""
    results = _results()
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(len(results)):
        path = folder / f"r{i:03d}.xlsx"
        if not path.exists():
            path.write_bytes(b"not really a workbook")
        paths.append(path)
    with merge(paths, executor=_Fake(results), outputs=Outputs(**outputs)) as result:
        return result.line


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def beside(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every merge from 1 input on writes beside the workbook; the processes started are kept."""
    monkeypatch.setattr(core, "PARALLEL_OUTPUTS_FROM", 1)
    monkeypatch.setattr(core, "default_workers", lambda: 2)
    started: list[Any] = []
    start = core._start_analyst_outputs

    def counted(*args: Any) -> Any:
        found = start(*args)
        started.append(found)
        return found

    monkeypatch.setattr(core, "_start_analyst_outputs", counted)
    return started


def _in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    with monkeypatch.context() as patch:
        patch.setattr(core, "PARALLEL_OUTPUTS_FROM", 10**9)
        _merge(tmp_path, xlsx=tmp_path / "plain.xlsx", csv=tmp_path / "plain-csv")
    return _files(tmp_path / "plain-csv")


def test_outputs_written_beside_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, beside: list[Any]
) -> None:
    expected = _in_order(tmp_path, monkeypatch)
    assert not beside
    _merge(tmp_path, xlsx=tmp_path / "s.xlsx", csv=tmp_path / "csv")
    assert len(beside) == 1 and beside[0] is not None  # a second process wrote them
    assert _files(tmp_path / "csv") == expected
    assert (tmp_path / "s.xlsx").stat().st_size > 0


def test_an_error_beside_is_the_merges_error(tmp_path: Path, beside: list[Any]) -> None:
    taken = tmp_path / "csv"
    taken.write_text("a file where the CSV folder should go")
    with pytest.raises(OSError):
        _merge(tmp_path, xlsx=tmp_path / "s.xlsx", csv=taken)
    assert beside and beside[0] is not None


def _die(*_: Any) -> None:
    os._exit(3)  # the second process is killed, as by the OOM killer


def test_outputs_are_written_here_when_the_second_process_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, beside: list[Any]
) -> None:
    expected = _in_order(tmp_path, monkeypatch)
    monkeypatch.setattr("xltools.merge.analyst.write_all_from", _die)
    _merge(tmp_path, xlsx=tmp_path / "s.xlsx", csv=tmp_path / "csv")
    assert beside and beside[0] is not None
    assert _files(tmp_path / "csv") == expected


def test_small_merges_write_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Sequence[Any]] = []
    monkeypatch.setattr(core, "_start_analyst_outputs", lambda *a: started.append(a))
    _merge(tmp_path, xlsx=tmp_path / "s.xlsx", csv=tmp_path / "csv")
    assert not started  # 100-odd inputs: below PARALLEL_OUTPUTS_FROM
    assert (tmp_path / "csv" / "summary.csv").exists()
