"""``merge``: check every returned file, decide which to accept, and write the outputs.

Accounting — every input is exactly one of:

* **accepted**: identified as one of our templates (a version the specs accept), readable,
  not tampered with, and the one submission kept for its bureau and project. Files with
  ordinary validation errors (a missing phone number, text where a number belongs) *are*
  accepted by default: the recomputed figures are used, and their error, warning and info
  counts stand in 汇总 and every finding in 问题清单, so nothing is hidden. ``strict=True``
  (``--strict``) rejects every file with an error instead.
* **superseded**: a candidate for acceptance, but another submission of the same bureau and
  project is kept. The key is ``(template, bureau id)`` when the workbook carries the bureau id
  it was distributed with (the distribution stamp), else ``(template, unit name, project
  name)`` (the project name only when the spec has a ``project_name`` field; a file with
  neither unit nor project is its own key). Which copy is kept is a declared policy
  (:mod:`xltools.merge.supersede`): by default the one with the fewest errors, then the latest
  workbook save time; the file system's time is only a late tie-break, and said so. Each
  superseded file names the copy kept and why. Rejected files never supersede anything: a
  tampered resubmission does not replace a good earlier one.
* **rejected**, with a code and a reason: not a workbook, unreadable (damaged, encrypted, too
  large, a zip bomb), not one of our templates, an unknown template, a version no longer
  accepted, tampered (any ``tamper-*`` finding of severity error), an archive refused as a
  whole, an internal error, or (with ``strict``) any error.
* **skipped**: not a return at all — a hidden or temporary file (``~$x.xlsx``), a checked copy
  ``xltools check`` wrote (``*.checked.xlsx``, anything in a ``已检查`` folder) — listed with
  its reason, never checked, and no reason to exit 1.

So ``inputs == accepted + superseded + rejected + skipped`` always.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .executor import Executor, default_workers, make_executor
from .inputs import DEFAULT_ARCHIVE_LIMITS, ArchiveLimits, InputError, InputItem, expand
from .result import Counts, MergeResult
from .spool import Spool, tables
from .supersede import DEFAULT_POLICY, POLICIES, Candidate, Policy, decide, parse_time
from .supersede import submission_lookup as _lookup
from .worker import FileResult, hold_to_manifest

if TYPE_CHECKING:
    from ..check.manifest import Manifest

Supersede = Policy  # the name earlier releases exported
SMALL_BATCH = 8  # fewer files than this are checked in the calling process
PARALLEL_OUTPUTS_FROM = 1000  # inputs from which CSV & co. are written beside the workbook
SUPERSEDE_RULES: tuple[Supersede, ...] = POLICIES


@dataclass
class Outputs:
    """Where to write; every one optional."""

    xlsx: Path | None = None
    csv: Path | None = None  # folder
    parquet: Path | None = None  # folder
    sqlite: Path | None = None

    def paths(self) -> list[Path]:
        return [p for p in (self.xlsx, self.csv, self.parquet, self.sqlite) if p is not None]


class MissingDependency(RuntimeError):
    """An optional output needs a package that is not installed."""


def merge(
    paths: Sequence[str | Path],
    *,
    specs_dir: str | Path | None = None,
    outputs: Outputs | None = None,
    supersede: Supersede = DEFAULT_POLICY,
    submissions: Mapping[str, float] | None = None,
    strict: bool = False,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int], Any] | None = None,
    archive_limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
    manifest: Manifest | None = None,
) -> MergeResult:
    """Merge returned workbooks.

    ``paths``: files, folders, glob patterns and .zip archives (and fsspec URLs, one file
    each, when the ``executor`` reads them: :class:`~xltools.merge.cluster.DaskCluster`).
    ``workers``: processes (``None`` or 0 = one per core, 1 = in this process); or give an
    ``executor``.
    ``supersede``: which of several copies of one submission is kept (see
    :mod:`xltools.merge.supersede`); ``submissions`` (file name -> seconds since the epoch, as
    :func:`~xltools.merge.submissions.read_submissions` reads a record) is what
    ``"submitted"`` orders by, and is asked for by that policy alone.
    ``manifest`` (:func:`~xltools.check.manifest.load_manifest`): a file that is not the copy
    issued to its bureau is rejected, as ``check --manifest`` reports it.
    ``progress(n)`` is called with the number of inputs and must return a callable that is
    called once per input done (and may have a ``close``). Raises
    :class:`~xltools.merge.inputs.InputError` when an argument names nothing and
    :class:`MissingDependency` when Parquet is asked for without pyarrow.
    """
    if supersede not in SUPERSEDE_RULES:
        raise ValueError(f"supersede must be one of {SUPERSEDE_RULES}, not {supersede!r}")
    if (supersede == "submitted") != (submissions is not None):
        raise InputError(
            "[usage-submissions-policy] 提交记录（--submissions）与 --supersede submitted 须同时"
            "给出：按提交记录决定采纳哪一份，需要那份记录；其他规则不读它"
        )
    outputs = outputs or Outputs()
    _refuse_output_as_input(paths, outputs)
    if outputs.parquet is not None:
        require_pyarrow()
    workdir = Path(tempfile.mkdtemp(prefix="xltools-merge-"))
    result: MergeResult | None = None
    try:
        from .cluster import split_urls  # fsspec URLs: read by executors that can

        local, urls = split_urls(paths)
        if urls and not getattr(executor, "reads_urls", False):
            raise InputError(
                f"[usage-url-needs-scheduler] “{urls[0].display}” 是 URL：只有在 Dask 集群上"
                "合并（--scheduler）时才能读取 URL；本机合并请先把文件下载到本地"
            )
        items = expand(
            local, workdir=workdir / "archives", exclude=outputs.paths(), limits=archive_limits
        )
        items += urls
        spool = Spool(workdir / "spool.sqlite")
        checked = sum(1 for item in items if not item.refused)
        # A process pool costs more to start than a handful of files take to check.
        run = executor or make_executor(workers if checked >= SMALL_BATCH else 1)
        specs = str(specs_dir) if specs_dir is not None else None
        tick = progress(len(items)) if progress else None
        try:
            submitted = _lookup(dict(submissions)) if submissions is not None else None
            keys = _check_all(items, spool, run, specs, tick, submitted, manifest)
        finally:
            close = getattr(tick, "close", None)
            if close is not None:
                close()
        spool.set_status(decide(keys, supersede, strict))
        spool.finish()
        counts = spool.counts()
        total = Counts(
            len(items),
            counts["accepted"],
            counts["superseded"],
            counts["rejected"],
            counts["skipped"],
        )
        if total.inputs != total.accepted + total.superseded + total.rejected + total.skipped:
            raise RuntimeError(f"merge 账目不平：{total.line}")  # a bug of ours
        result = MergeResult(total, _spool=spool)
        weakref.finalize(result, shutil.rmtree, workdir, True)
        _write_outputs(spool, outputs, result)
        shutil.rmtree(workdir / "archives", ignore_errors=True)
        return result
    except BaseException:
        if result is not None:
            result.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def _refuse_output_as_input(paths: Sequence[str | Path], outputs: Outputs) -> None:
    named = {Path(p).resolve() for p in paths if Path(p).is_file()}
    for target in outputs.paths():
        if target.resolve() in named:
            raise InputError(
                f"[usage-output-is-input] 输出 “{target}” 也是输入文件：请换一个输出文件名，"
                "输入文件不会被改写"
            )


def _check_all(
    items: list[InputItem],
    spool: Spool,
    run: Executor,
    specs: str | None,
    tick: Callable[[], Any] | None,
    submitted: Callable[[str], float | None] | None = None,
    manifest: Manifest | None = None,
) -> list[Candidate]:
    to_check: list[int] = []
    for index, item in enumerate(items):
        if item.refused:
            sha256, size = _digest(item.path)
            spool.add_refused(index, item, sha256, size)
            if tick:
                tick()
        else:
            to_check.append(index)
    candidates: list[Candidate] = []
    for position, found in run.run([items[i].path for i in to_check], specs):
        index = to_check[position]
        item = items[index]
        if manifest is not None:
            hold_to_manifest(found, manifest)
        mtime = item.mtime if item.mtime is not None else found.mtime
        spool.add_result(index, item.display, found, mtime)
        if found.candidate:
            candidates.append(
                Candidate(
                    index,
                    _key(index, found),
                    item.display,
                    found.errors,
                    found.sha256,
                    saved=parse_time(found.saved),
                    mtime=mtime,
                    submitted=submitted(item.display) if submitted else None,
                )
            )
        if tick:
            tick()
    return candidates


def _key(index: int, found: FileResult) -> tuple[str, ...]:
    """Which submissions are the same: see the module's docstring."""
    if found.bureau_id:
        return (found.template, "bureau", _norm(found.bureau_id))
    unit, project = _norm(found.unit), _norm(found.project)
    if not unit and not project:
        return (found.template, "file", str(index))
    return (found.template, "unit", unit, project)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _digest(path: str) -> tuple[str, int | None]:
    if not path:
        return "", None
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except OSError:
        return "", None
    return digest.hexdigest(), size


def require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError as error:
        raise MissingDependency(
            "[merge-missing-pyarrow] 写 Parquet 需要 pyarrow，当前未安装。"
            "请运行 pip install 'xltools[analyst]'（或 pip install pyarrow）后重试；"
            "也可以改用 --csv 或 --sqlite。"
        ) from error


def _write_outputs(spool: Spool, outputs: Outputs, result: MergeResult) -> None:
    """The summary workbook here and, at the same time, the analyst outputs in a second
    process when there are cores and rows enough: writing is the merge's serial tail."""
    analyst = (outputs.csv, outputs.parquet, outputs.sqlite)
    wanted = any(path is not None for path in analyst)
    beside = None
    if (
        wanted
        and outputs.xlsx is not None
        and result.counts.inputs >= PARALLEL_OUTPUTS_FROM
        and default_workers() > 1
    ):
        beside = _start_analyst_outputs(spool, analyst)
    all_tables = tables(spool)
    try:
        if outputs.xlsx is not None:
            from .workbook import write_summary

            write_summary(spool, all_tables, outputs.xlsx, result)
            result.written["xlsx"] = outputs.xlsx
        if wanted and (beside is None or not _finished(beside)):
            from .analyst import write_all

            write_all(spool, all_tables, *analyst)
    finally:
        if beside is not None:
            beside[0].shutdown(cancel_futures=True)
    for key, path in zip(("csv", "parquet", "sqlite"), analyst, strict=True):
        if path is not None:
            result.written[key] = path
    sys.stderr.flush()


def _start_analyst_outputs(
    spool: Spool, analyst: tuple[Path | None, Path | None, Path | None]
) -> tuple[ProcessPoolExecutor, Future[None]] | None:
    from .analyst import write_all_from

    try:
        pool = ProcessPoolExecutor(max_workers=1)
        return pool, pool.submit(write_all_from, spool.path, *analyst)
    except (OSError, RuntimeError):  # no process to be had: written here, after the workbook
        return None


def _finished(beside: tuple[ProcessPoolExecutor, Future[None]]) -> bool:
    """Wait for the analyst outputs of the second process; False when that process died
    before finishing them (they are then written here). Their own errors are raised."""
    try:
        beside[1].result()
    except BrokenProcessPool:
        return False
    return True
