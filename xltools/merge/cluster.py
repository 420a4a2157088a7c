"""The per-file check of a merge on a Dask distributed cluster (``xltools merge --scheduler``).

:class:`DaskCluster` is an :class:`~xltools.merge.executor.Executor` like the local pool: chunks
of files go out as tasks, at most a window of them in flight, and each result is handed on as
it arrives, so that memory stays flat on the client. The outputs are written by the client,
exactly as after a local run.

Inputs are paths the workers can read (a shared folder) or fsspec URLs: a ``file://`` URL is
checked in place; any other URL (``s3://…``, ``sftp://…``) is copied by the worker to a local
temporary file, because the checker reads paths.

When a worker dies (killed, out of memory) the scheduler reschedules its tasks; after
``distributed.scheduler.allowed-failures`` deaths (3 by default) the task fails with
``KilledWorker``. A chunk that fails is submitted again one file per task, so that one bad file
cannot take the rest of its chunk with it; a single file whose task ends in ``KilledWorker``
twice is rejected as ``worker-crashed``. Nothing is ever re-run in the client process: a file
that kills workers would kill the merge.

Nothing here imports Dask at module level: ``xltools check`` and a local merge never load it.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import tempfile
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

from .worker import REJECTING_CODES, FileResult, check_one

if TYPE_CHECKING:
    from distributed import Client, Future

    from .inputs import InputItem

WORKER_CRASHED: Final = "worker-crashed"
URL_UNREADABLE: Final = "read-url-unreadable"
#: Tasks of one file alone that may end in KilledWorker before the file is rejected.
SINGLE_ATTEMPTS: Final = 2

#: Per-file function run on the workers: ``check_one`` (a test passes one that crashes).
CheckFunction = Callable[[str, str | None], FileResult]

# scheme:// or a chained fsspec URL (simplecache::s3://…); two letters at least, so that a
# Windows drive (C:/…) is never taken for a scheme.
_URL: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+(://|::)")


class ClusterError(RuntimeError):
    """A usage problem of ``--scheduler``: Dask missing, or the scheduler out of reach."""


def is_url(text: str) -> bool:
    """``text`` is an fsspec URL rather than a local path."""
    return bool(_URL.match(text)) and not Path(text).exists()


def connect(address: str, timeout: float | None = None) -> Client:
    """A client of the scheduler at ``address``. Raises :class:`ClusterError` with a Chinese
    message when distributed is not installed or the scheduler cannot be reached within
    ``timeout`` seconds (default: Dask's ``distributed.comm.timeouts.connect``, 30 s)."""
    try:
        from distributed import Client
    except ImportError as error:
        raise ClusterError(
            "[usage-missing-dask] --scheduler 需要 Dask distributed，当前未安装。"
            "请运行 pip install 'xltools[cluster]' 后重试；不加 --scheduler 则在本机多进程检查。"
        ) from error
    _check_address(address)
    try:
        if timeout is None:
            return Client(address, set_as_default=False)
        return Client(address, timeout=timeout, set_as_default=False)
    except Exception as error:  # refused, timed out, bad address: all "cannot reach"
        raise ClusterError(
            f"[usage-scheduler-unreachable] 无法连接 Dask 调度器 “{address}”"
            f"（{type(error).__name__}: {error}）。请确认调度器已启动（dask scheduler）、"
            "地址和端口正确（如 tcp://10.0.0.5:8786），且本机能访问它。"
        ) from error


def _check_address(address: str) -> None:
    """Refuse a malformed address before a Client is made: a Client that fails on one hangs
    for a minute in its finaliser when the interpreter exits."""
    from distributed.comm.addressing import get_address_host_port, normalize_address
    from distributed.comm.registry import get_backend

    try:
        normalized = normalize_address(address)
        scheme = normalized.split("://", 1)[0]
        get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            get_address_host_port(normalized)
    except (ValueError, ImportError) as error:
        raise ClusterError(
            f"[usage-bad-scheduler-address] Dask 调度器地址 “{address}” 格式不对（{error}）："
            "应为 tcp://主机:端口，如 tcp://10.0.0.5:8786"
        ) from error


class DaskCluster:
    """Check the files on a Dask cluster. ``client``: a connected ``distributed.Client`` (left
    open) or a scheduler address (connected in :meth:`run` and closed after). ``chunk_size``
    files per task (default: as the local pool); ``window`` tasks in flight at most (default:
    4 per worker thread)."""

    #: The merge may hand this executor URLs, not only local paths.
    reads_urls: Final = True

    def __init__(
        self,
        client: Client | str,
        *,
        chunk_size: int | None = None,
        window: int | None = None,
        check: CheckFunction = check_one,
    ) -> None:
        self.client = client
        self.chunk_size = chunk_size
        self.window = window
        self.check = check

    def run(self, paths: Sequence[str], specs_dir: str | None) -> Iterator[tuple[int, FileResult]]:
        if not paths:
            return
        if specs_dir:  # the workers' working folder is not ours
            specs_dir = str(Path(specs_dir).resolve())
        if isinstance(self.client, str):
            client = connect(self.client)
            try:
                yield from self._run(client, paths, specs_dir)
            finally:
                client.close()
        else:
            yield from self._run(self.client, paths, specs_dir)

    def _run(
        self, client: Client, paths: Sequence[str], specs_dir: str | None
    ) -> Iterator[tuple[int, FileResult]]:
        from distributed import as_completed

        _preflight(client, specs_dir)
        threads = _threads(client)
        size = self.chunk_size or max(1, min(16, len(paths) // (threads * 8) or 1))
        window = self.window or 4 * threads
        # Work to send, as lists of indexes, popped from the end; a failed chunk comes back
        # here one file per entry.
        todo = [list(range(s, min(s + size, len(paths)))) for s in range(0, len(paths), size)]
        todo.reverse()
        pending: dict[Hashable, tuple[Future[list[FileResult]], list[int]]] = {}
        crashes: dict[int, int] = {}
        completed = as_completed(loop=client.loop)
        try:
            while todo or pending:
                while todo and len(pending) < window:
                    indexes = todo.pop()
                    submitted: Future[list[FileResult]] = client.submit(
                        check_chunk, [paths[i] for i in indexes], specs_dir, self.check, pure=False
                    )
                    pending[submitted.key] = (submitted, indexes)
                    completed.add(submitted)
                future, indexes = pending.pop(next(completed).key)
                try:
                    results = future.result()
                except Exception as error:
                    if isinstance(error, ImportError):  # a worker without xltools (joined late)
                        raise ClusterError(_environment_message(error)) from error
                    if client.status != "running":
                        raise ClusterError(
                            f"[merge-scheduler-lost] 与 Dask 调度器的连接已断开"
                            f"（{type(error).__name__}: {error}），合并未完成，未写任何输出"
                        ) from error
                    if len(indexes) > 1:  # find the culprit: its neighbours must not pay
                        todo.extend([i] for i in reversed(indexes))
                        continue
                    # A file queued on a worker that another file killed dies with it: a
                    # second chance, so that only a file that kills on its own is rejected.
                    crashes[indexes[0]] = crashes.get(indexes[0], 0) + 1
                    if _killed(error) and crashes[indexes[0]] < SINGLE_ATTEMPTS:
                        todo.append(indexes)
                        continue
                    results = [_lost(paths[indexes[0]], error)]
                yield from zip(indexes, results, strict=True)
        finally:
            if pending:
                client.cancel([future for future, _ in pending.values()])


def _preflight(client: Client, specs_dir: str | None) -> None:
    """Refuse to start when a worker cannot give the results this process would: xltools
    missing or of another version, or other specs (another folder, another copy)."""
    mine = worker_state(specs_dir)
    theirs = client.run(worker_state, specs_dir, on_error="return")
    for address, state in sorted(theirs.items()):
        if isinstance(state, ImportError):
            raise ClusterError(_environment_message(state))
        if isinstance(state, BaseException):
            continue  # a worker going away: the scheduler deals with it
        version, specs = state
        if version != mine[0]:
            raise ClusterError(
                f"[merge-worker-version] 工作进程 {address} 的 xltools 版本是 {version}，"
                f"本机是 {mine[0]}：各工作进程须安装与本机相同版本的 xltools，结果才与本机检查相同"
            )
        if specs != mine[1]:
            differ = sorted(
                k for k in specs.keys() | mine[1].keys() if specs.get(k) != mine[1].get(k)
            )
            raise ClusterError(
                f"[merge-worker-specs] 工作进程 {address} 的规范与本机不同（{'、'.join(differ)}）："
                "请用 --specs 指向各工作进程都能读到的同一个规范文件夹（如共享文件夹），"
                "或让各工作进程的 XLTOOLS_SPECS 与本机一致"
            )


def _environment_message(error: BaseException) -> str:
    return (
        f"[merge-worker-environment] 工作进程无法导入 xltools 或它的依赖（{error}）："
        "请在每个工作进程的环境中 pip install 'xltools[cluster]'（与本机相同版本）"
    )


def worker_state(specs_dir: str | None) -> tuple[str, dict[str, str]]:
    """(xltools version, {"template vN": SHA-256 of its spec file}) as this process sees
    them: run on every worker before a merge and compared with the client's."""
    from .. import __version__
    from ..registry import Registry

    registry = Registry.load(Path(specs_dir) if specs_dir else None)
    specs: dict[str, str] = {}
    for (template, version), path in sorted(registry.paths.items()):
        try:
            specs[f"{template} v{version}"] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            specs[f"{template} v{version}"] = "unreadable"
    return __version__, specs


def _threads(client: Client) -> int:
    """Worker threads of the cluster now (at least 1: workers may still be starting)."""
    workers = client.scheduler_info().get("workers", {})
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))


def _killed(error: BaseException) -> bool:
    from distributed import KilledWorker

    return isinstance(error, KilledWorker)


def _lost(path: str, error: BaseException) -> FileResult:
    """The result of a single file whose task failed on the cluster."""
    if _killed(error):
        return failed(
            path,
            WORKER_CRASHED,
            "检查此文件时工作进程反复崩溃（可能是恶意或损坏的文件），未采纳；"
            "请把此文件反馈给开发人员",
        )
    return failed(
        path,
        "internal-error",
        f"在集群上检查时发生内部错误（{type(error).__name__}: {error}）；"
        "请把此文件和这条信息反馈给开发人员",
    )


def failed(path: str, code: str, reason: str) -> FileResult:
    """A rejected result whose reason is also its finding, as :func:`check_one` builds for an
    internal error."""
    result = FileResult(path, reject_code=code, reject_reason=reason)
    result.findings.append(("error", code, "", "", "", reason, "", "", ""))
    return result


# ---- on the workers --------------------------------------------------------------------------


def check_chunk(
    paths: Sequence[str], specs_dir: str | None, check: CheckFunction = check_one
) -> list[FileResult]:
    """One task: check each path or URL of a chunk."""
    return [check_path(path, specs_dir, check) for path in paths]


def check_path(path: str, specs_dir: str | None, check: CheckFunction = check_one) -> FileResult:
    """Check a local path, or a URL through fsspec (a local copy unless it is a local file).
    The result names ``path`` as given."""
    if not is_url(path):
        return check(path, specs_dir)
    try:
        from fsspec.core import url_to_fs
        from fsspec.implementations.local import LocalFileSystem

        fs, where = url_to_fs(path)
    except Exception as error:  # no fsspec, unknown protocol, missing driver
        return failed(path, URL_UNREADABLE, f"无法读取 “{path}”（{type(error).__name__}: {error}）")
    where = _unquoted(fs, where)
    if isinstance(fs, LocalFileSystem):
        result = check(where, specs_dir)
        result.path = path
        return result
    name = _safe_name(path)
    with tempfile.TemporaryDirectory(prefix="xltools-url-") as folder:
        local = Path(folder) / name
        try:
            info = fs.info(where)
            too_large = _copy(fs, where, local)
        except Exception as error:
            return failed(
                path, URL_UNREADABLE, f"无法读取 “{path}”（{type(error).__name__}: {error}）"
            )
        if too_large:
            return failed(
                path,
                "read-too-large",
                f"{REJECTING_CODES['read-too-large']}：文件大于 {too_large} 字节，未下载",
            )
        result = check(str(local), specs_dir)
    result.path = path
    result.mtime = _mtime(info)
    return result


def _unquoted(fs: Any, where: str) -> str:
    """``where`` percent-decoded when only that names a file: fsspec takes ``%E5`` literally,
    but a file URL made by a program (``Path.as_uri``) encodes every non-ASCII character."""
    plain = unquote(where)
    if plain == where:
        return where
    with contextlib.suppress(Exception):
        if not fs.exists(where) and fs.exists(plain):
            return plain
    return where


def _safe_name(url: str) -> str:
    """The URL's file name (the checker may look at its extension), made safe as a name."""
    name = unquote(url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0])
    name = "".join(ch for ch in name if ch not in '\\/:*?"<>|\0')
    return name[-120:] or "input"


def _copy(fs: Any, where: str, local: Path) -> int:
    """Copy ``where`` to ``local``, at most the reader's file limit; returns that limit when
    the file is larger (then nothing more is read), else 0."""
    from ..xlsx.limits import limits_from_env

    limit = limits_from_env().max_file_bytes
    copied = 0
    with fs.open(where, "rb") as source, local.open("wb") as sink:
        while chunk := source.read(1 << 20):
            copied += len(chunk)
            if copied > limit:
                return limit
            sink.write(chunk)
    return 0


def _mtime(info: dict[str, Any]) -> float:
    """Modification time from fsspec's ``info`` (its key depends on the file system)."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, int | float):
            return float(value)
        with contextlib.suppress(AttributeError, ValueError, TypeError):
            timestamp = value.timestamp() if hasattr(value, "timestamp") else None
            if timestamp is None:
                import datetime as dt

                timestamp = dt.datetime.fromisoformat(str(value)).timestamp()
            return float(timestamp)
    return 0.0


def split_urls(arguments: Sequence[str | Path]) -> tuple[list[str | Path], list[InputItem]]:
    """(the local arguments, one input per URL argument). A URL names one file: folders,
    patterns and archives are expanded only on local paths."""
    from .inputs import InputItem, _skip_reason

    local: list[str | Path] = []
    urls: list[InputItem] = []
    for argument in arguments:
        if isinstance(argument, str) and is_url(argument):
            skipped = _skip_reason(_safe_name(argument))
            urls.append(InputItem(argument, "" if skipped else argument, *(skipped or ())))
        else:
            local.append(argument)
    unique = {item.display: item for item in urls}
    return local, list(unique.values())
