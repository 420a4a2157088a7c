"""Merge returned workbooks into one summary: ``xltools merge`` and its Python API.

    from xltools.merge import merge, Outputs
    with merge(["returns/", "more.zip"], specs_dir="specs", workers=None) as result:
        print(result.line)              # 输入 N 个文件：采纳 A，被替代 S，未采纳 R
        result.summary                  # pandas DataFrames: summary, indicators, findings,
        result.rejected                 # rejected, manifest
        result.counts.accepted
    # which copy of a submission counts: supersede="fewest-errors" (default), "saved", "first",
    # or "submitted" with submissions=read_submissions("record.csv")

The package's top level imports nothing heavy (the CLI imports ``xltools.merge.command`` at
start-up): the names below are loaded when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import MissingDependency, Outputs, merge
    from .executor import Executor, InProcess, LocalPool
    from .inputs import ArchiveLimits, InputError
    from .result import Counts, MergeResult
    from .safe import neutralise
    from .submissions import read_submissions
    from .worker import FileResult, check_one

__all__ = [
    "ArchiveLimits",
    "Counts",
    "Executor",
    "FileResult",
    "InProcess",
    "InputError",
    "LocalPool",
    "MergeResult",
    "MissingDependency",
    "Outputs",
    "check_one",
    "merge",
    "neutralise",
    "read_submissions",
]

_WHERE = {
    "Counts": "result",
    "MergeResult": "result",
    "MissingDependency": "core",
    "Outputs": "core",
    "merge": "core",
    "Executor": "executor",
    "InProcess": "executor",
    "LocalPool": "executor",
    "ArchiveLimits": "inputs",
    "InputError": "inputs",
    "neutralise": "safe",
    "read_submissions": "submissions",
    "FileResult": "worker",
    "check_one": "worker",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
