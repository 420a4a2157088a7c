"""What ``merge`` returns: the counts (:class:`Counts`) and the :class:`MergeResult` with the
outputs written and the tables, read from the spool when first asked for. Apart from
:mod:`xltools.merge.core` so that the writers (:mod:`xltools.merge.workbook`) can name the
result without importing the merge itself."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .spool import REJECTED, Spool

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Counts:
    inputs: int
    accepted: int
    superseded: int
    rejected: int
    skipped: int = 0  # not returns at all (lock files, hidden files, checked copies)

    @property
    def line(self) -> str:
        """The closing line: ``输入 N 个文件：采纳 A，被替代 S，未采纳 R`` (and ``，跳过 K``
        when something was skipped)."""
        line = (
            f"输入 {self.inputs} 个文件：采纳 {self.accepted}，被替代 {self.superseded}，"
            f"未采纳 {self.rejected}"
        )
        return line + (f"，跳过 {self.skipped}" if self.skipped else "")


@dataclass
class MergeResult:
    """The counts, the outputs written, and the tables as pandas DataFrames — ``summary``
    (汇总), ``indicators`` (指标明细), ``findings`` (问题清单), ``rejected`` (未采纳, superseded
    files included) and ``manifest`` (清单) — read from the spool when first asked for. Text
    copied from the returned files is neutralised against formula injection, as in the CSV.
    Call :meth:`close` (or use ``with``) to drop the spool."""

    counts: Counts
    written: dict[str, Path] = field(default_factory=dict)
    # when the merge was made: one instant for every output (the 概况 sheet shows it)
    when: dt.datetime = field(default_factory=dt.datetime.now)
    notes: list[str] = field(default_factory=list)  # e.g. a sheet cut at Excel's row limit
    _spool: Spool | None = field(default=None, repr=False)
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def line(self) -> str:
        return self.counts.line

    def _frame(self, key: str) -> pd.DataFrame:
        if key not in self._frames:
            if self._spool is None:
                raise RuntimeError("MergeResult 已关闭：表格已不可用")
            from .analyst import dataframe

            self._frames[key] = dataframe(self._spool, key)
        return self._frames[key]

    @property
    def summary(self) -> pd.DataFrame:
        return self._frame("summary")

    @property
    def indicators(self) -> pd.DataFrame:
        return self._frame("indicators")

    @property
    def findings(self) -> pd.DataFrame:
        return self._frame("findings")

    @property
    def rejected(self) -> pd.DataFrame:
        return self._frame("rejected")

    @property
    def manifest(self) -> pd.DataFrame:
        return self._frame("manifest")

    def not_accepted(self) -> Iterator[dict[str, Any]]:
        """The rows of ``rejected`` one by one, without pandas (what the command prints)."""
        if self._spool is None:
            raise RuntimeError("MergeResult 已关闭：表格已不可用")
        table = REJECTED
        keys = [c.key for c in table.columns]
        for batch in table.rows(self._spool, analyst=True):
            for row in batch:
                yield dict(zip(keys, row, strict=True))

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            shutil.rmtree(self._spool.path.parent, ignore_errors=True)
            self._spool = None

    def __enter__(self) -> MergeResult:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
