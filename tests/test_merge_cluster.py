"""xltools merge on a Dask cluster (``--scheduler``): the same outputs as the local pool, no file
lost when a worker dies, a file that kills its workers rejected as ``worker-crashed``, and the
usage errors.

The corpus: 500 inputs made cheaply from a few filled returns. Five returns are filled with
xltools (figures varied) under placeholder unit and project names; 475 more are those five with
the placeholders rewritten in the sheet XML (a few milliseconds each, where generating costs
~0.2 s), so each is a distinct unit and project. Beside them: distributed returns stamped with a
bureau id, resubmissions and exact duplicates (superseded), a tampered copy, a careless fill
(accepted with errors), a zip of three returns, and junk. It is merged once with the local pool
and shared by the tests, which merge it again on a ``LocalCluster`` of two worker processes.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import pandas as pd
import pytest
from check_fixtures import example_data
from click.testing import CliRunner
from distributed import Client, LocalCluster
from test_merge import SPECS, _file, _roster, _spec, bureau_data

from xltools.fill import fill_workbook, flatten
from xltools.generate import generate_template
from xltools.merge import Outputs, merge
from xltools.merge.cluster import ClusterError, DaskCluster, is_url
from xltools.merge.command import merge_command
from xltools.merge.worker import FileResult, check_one
from xltools.roster import distribute

UNIT, PROJECT = "占位单位", "占位项目"
VARIANTS = 475
TABLES = ("summary", "indicators", "findings", "rejected", "manifest")
KILLER = "killer"  # a file whose name holds this kills the worker that checks it


def _rewrite(seed: Path, target: Path, replace: dict[str, str], mtime: float) -> Path:
    """A copy of ``seed`` with text replaced in its sheet XML and shared strings (an edit made
    in Excel, cheaply: filled values are inline strings in the sheets, labels shared)."""
    with zipfile.ZipFile(seed) as source, zipfile.ZipFile(target, "w") as sink:
        for info in source.infolist():
            data = source.read(info)
            if (
                info.filename.startswith("xl/worksheets/")
                or info.filename == "xl/sharedStrings.xml"
            ):
                text = data.decode("utf-8")
                for old, new in replace.items():
                    text = text.replace(old, new)
                data = text.encode("utf-8")
            sink.writestr(info, data, compress_type=info.compress_type)
    os.utime(target, (mtime, mtime))
    return target


def _copy(source: Path, target: Path, mtime: float) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    os.utime(target, (mtime, mtime))
    return target


def _build(base: Path) -> Path:
    spec = _spec()
    returns = base / "returns"
    returns.mkdir()
    template = base / "template.xlsx"
    generate_template(spec, template)
    seeds = []
    for i in range(5):
        seed = base / f"seed{i}.xlsx"
        data = dict(bureau_data(i), unit_name=UNIT, department=UNIT, project_name=PROJECT)
        assert fill_workbook(template, spec, data, seed) == []
        seeds.append(seed)
    start = 1_700_000_000.0
    for k in range(VARIANTS):
        names = {UNIT: f"第{k:04d}单位", PROJECT: f"第{k:04d}号项目"}
        _rewrite(seeds[k % 5], returns / f"单位{k:04d}.xlsx", names, start + k)
    # Resubmissions a day later (exact copies): each supersedes its first submission.
    for k in range(6):
        _copy(
            returns / f"单位{k:04d}.xlsx",
            returns / "补交" / f"单位{k:04d}_补交.xlsx",
            start + 86_400,
        )

    distributed_dir = base / "distributed"
    distribute(spec, _roster(range(8)), distributed_dir)
    for i in range(8):
        _copy(_file(distributed_dir, i), returns / _file(distributed_dir, i).name, start + 1000 + i)
    # The same stamped workbook sent twice, the copy earlier: the copy is superseded.
    for i in range(2):
        _copy(_file(distributed_dir, i), returns / f"重复_B{i:04d}.xlsx", start)
    # A locked label edited: tampered, rejected.
    _rewrite(
        seeds[0], returns / "被篡改.xlsx", {"实施单位": "实施单位（已改）", UNIT: "篡改单位"}, start
    )
    # Text where a number belongs, and no phone: accepted, with errors.
    careless = dict(
        flatten(example_data()), unit_name="粗心单位", ind_output_quantity_1_actual="全覆盖"
    )
    careless.pop("phone")
    assert fill_workbook(template, spec, careless, returns / "粗心填写.xlsx") == []
    # A zip of three more returns.
    with zipfile.ZipFile(returns / "第二批.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for k in range(VARIANTS, VARIANTS + 3):
            names = {UNIT: f"第{k:04d}单位", PROJECT: f"第{k:04d}号项目"}
            member = _rewrite(seeds[k % 5], base / f"member{k}.xlsx", names, start)
            archive.write(member, f"batch/单位{k:04d}.xlsx")
    (returns / "乱码.xlsx").write_bytes(random.Random(9).randbytes(4096))
    (returns / "空文件.xlsx").write_bytes(b"")
    (returns / "说明.txt").write_text("请查收附件。", encoding="utf-8")
    (returns / "~$单位0001.xlsx").write_bytes(b"lock")
    for path in returns.glob("*.txt"):
        os.utime(path, (start, start))
    return returns


@dataclass
class Local:
    """The corpus and what the local pool made of it."""

    returns: Path
    inputs: int
    line: str
    frames: dict[str, pd.DataFrame]
    csv: Path


def _frames(result: Any) -> dict[str, pd.DataFrame]:
    return {name: getattr(result, name).copy() for name in TABLES}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Local:
    base = tmp_path_factory.mktemp("cluster")
    started = time.perf_counter()
    returns = _build(base)
    built = time.perf_counter()
    csv = base / "local-csv"
    with merge(
        [returns], specs_dir=SPECS, outputs=Outputs(xlsx=base / "local.xlsx", csv=csv), workers=2
    ) as result:
        frames = _frames(result)
        line, inputs = result.line, result.counts.inputs
    print(
        f"\nbuilt in {built - started:.1f} s, merged locally in {time.perf_counter() - built:.1f} s"
    )
    return Local(returns, inputs, line, frames, csv)


def _cluster() -> Iterator[Client]:
    # One worker death is survived by rescheduling; a second kills the task (KilledWorker):
    # keeps the crash tests short.
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit=None,
        ) as cluster,
        Client(cluster, set_as_default=False) as connected,
    ):
        yield connected


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    yield from _cluster()


@pytest.fixture
def crash_client() -> Iterator[Client]:
    """A cluster of its own for a test that kills workers: whatever state the restarted
    workers are in, the other tests do not see it."""
    yield from _cluster()


def _same(local: Local, frames: dict[str, pd.DataFrame], csv: Path) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(frames[name], local.frames[name], obj=name)
    names = sorted(p.name for p in local.csv.iterdir())
    assert names == sorted(p.name for p in csv.iterdir()) and len(names) == len(TABLES)
    for name in names:
        assert (csv / name).read_bytes() == (local.csv / name).read_bytes(), name


def test_the_corpus_exercises_the_accounting(local: Local) -> None:
    assert local.inputs == 500
    # accepted: 475 variants - 6 resubmitted + 6 resubmissions + 8 stamped + careless + 3 zipped;
    # superseded: 6 first submissions + 2 duplicates; rejected: tampered + 3 junk; skipped:
    # the lock file (not a return: listed as 跳过, with its code, among the not accepted).
    assert local.line == "输入 500 个文件：采纳 487，被替代 8，未采纳 4，跳过 1"
    codes = set(local.frames["rejected"]["code"])
    assert {
        "superseded-duplicate",
        "read-not-a-zip",
        "read-empty-file",
        "skipped-temporary",
    } <= codes
    assert any(code.startswith("tamper-") for code in codes)
    assert local.frames["summary"]["errors"].max() > 0
    assert local.frames["summary"]["total"].nunique() >= 5


def test_cluster_merge_equals_local_merge(local: Local, client: Client, tmp_path: Path) -> None:
    started = time.perf_counter()
    with merge(
        [local.returns],
        specs_dir=SPECS,
        outputs=Outputs(xlsx=tmp_path / "cluster.xlsx", csv=tmp_path / "csv"),
        executor=DaskCluster(client),
    ) as result:
        print(f"\ncluster merge of 500: {time.perf_counter() - started:.1f} s")
        assert result.line == local.line
        _same(local, _frames(result), tmp_path / "csv")
    assert (tmp_path / "cluster.xlsx").exists()


def test_a_worker_killed_mid_run_loses_no_file(
    local: Local, crash_client: Client, tmp_path: Path
) -> None:
    client = crash_client
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    done = {"n": 0, "killed_at": -1}

    def progress(total: int) -> Any:
        def tick() -> None:
            done["n"] += 1
            if done["n"] == 100:
                os.kill(victim, signal.SIGKILL)
                done["killed_at"] = done["n"]

        return tick

    with merge(
        [local.returns],
        specs_dir=SPECS,
        outputs=Outputs(csv=tmp_path / "csv"),
        executor=DaskCluster(client),
        progress=progress,
    ) as result:
        assert done["killed_at"] == 100 and done["n"] == 500
        assert result.line == local.line
        _same(local, _frames(result), tmp_path / "csv")
    with pytest.raises(ProcessLookupError):  # it really died (its nanny reaped it)
        os.kill(victim, 0)


def _killing_check(path: str, specs_dir: str | None) -> FileResult:
    if KILLER in Path(path).name:
        os._exit(1)
    return check_one(path, specs_dir)


def _raising_check(path: str, specs_dir: str | None) -> FileResult:
    if "boom" in Path(path).name:
        raise RuntimeError("boom")
    return check_one(path, specs_dir)


def _run_with_timeout(seconds: float, **arguments: Any) -> dict[str, pd.DataFrame]:
    def run() -> dict[str, pd.DataFrame]:
        with merge(**arguments) as result:
            return _frames(result)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result(timeout=seconds)


def test_a_file_that_kills_every_worker_is_rejected(
    local: Local, crash_client: Client, tmp_path: Path
) -> None:
    client = crash_client
    inputs = [local.returns / f"单位{k:04d}.xlsx" for k in range(20, 40)]
    killer = _copy(inputs[5], tmp_path / f"{KILLER}.xlsx", 1_700_000_000)
    inputs.insert(7, killer)
    frames = _run_with_timeout(
        240,
        paths=inputs,
        specs_dir=SPECS,
        executor=DaskCluster(client, check=_killing_check, chunk_size=4),
    )
    manifest = frames["manifest"].set_index("file")
    row = manifest.loc[str(killer)]
    assert (row["status"], row["code"]) == ("rejected", "worker-crashed")
    assert "反复崩溃" in row["reason"]
    assert list(frames["rejected"]["file"]) == [str(killer)]
    with merge(inputs[:7] + inputs[8:], specs_dir=SPECS, workers=1) as alone:
        pd.testing.assert_frame_equal(frames["summary"], alone.summary)
        pd.testing.assert_frame_equal(frames["indicators"], alone.indicators)


def test_a_task_that_raises_rejects_only_its_file(
    local: Local, client: Client, tmp_path: Path
) -> None:
    inputs = [local.returns / f"单位{k:04d}.xlsx" for k in range(40, 52)]
    inputs.insert(3, _copy(inputs[0], tmp_path / "boom.xlsx", 1_700_000_000))
    with merge(
        inputs, specs_dir=SPECS, executor=DaskCluster(client, check=_raising_check, chunk_size=5)
    ) as result:
        assert result.line == "输入 13 个文件：采纳 12，被替代 0，未采纳 1"
        row = result.rejected.iloc[0]
        assert (row["file"], row["code"]) == (str(tmp_path / "boom.xlsx"), "internal-error")
        assert "RuntimeError: boom" in row["reason"]


def _importing_check(path: str, specs_dir: str | None) -> FileResult:
    if "boom" in Path(path).name:
        raise ModuleNotFoundError("No module named 'xltools'")
    return check_one(path, specs_dir)


def test_workers_that_would_give_other_results_are_refused(
    local: Local, client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = [local.returns / f"单位{k:04d}.xlsx" for k in range(52, 56)]
    # Here the spec of the returns differs from the workers' (they use ./specs).
    other = tmp_path / "specs"
    shutil.copytree(SPECS, other)
    spec = other / "project_expense_2023.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "\n# edited here\n", encoding="utf-8")
    monkeypatch.setenv("XLTOOLS_SPECS", str(other))
    with pytest.raises(ClusterError, match=r"\[merge-worker-specs\].*project_expense_2023 v1"):
        merge(inputs, executor=DaskCluster(client))
    monkeypatch.delenv("XLTOOLS_SPECS")
    # A worker without xltools: the merge stops, instead of rejecting every file.
    inputs.append(_copy(inputs[0], tmp_path / "boom.xlsx", 1_700_000_000))
    with pytest.raises(ClusterError, match=r"\[merge-worker-environment\]"):
        merge(inputs, specs_dir=SPECS, executor=DaskCluster(client, check=_importing_check))


# ---- inputs as URLs -------------------------------------------------------------------------


def test_urls_are_read_by_the_workers(local: Local, client: Client) -> None:
    first, second = local.returns / "单位0100.xlsx", local.returns / "单位0101.xlsx"
    urls = [first.as_uri(), f"simplecache::{second.as_uri()}"]  # in place; through a copy
    assert all(is_url(u) for u in urls) and not is_url(str(first))
    with merge(urls, specs_dir=SPECS, executor=DaskCluster(client)) as result:
        assert result.line == "输入 2 个文件：采纳 2，被替代 0，未采纳 0"
        manifest = result.manifest
    with merge([first, second], specs_dir=SPECS, workers=1) as plain:
        expected = plain.manifest
    assert list(manifest["file"]) == urls
    for column in ("sha256", "bytes", "modified", "unit", "project"):
        assert list(manifest[column]) == list(expected[column]), column
    missing = "simplecache::" + (local.returns / "没有这个文件.xlsx").as_uri()
    with merge([missing], specs_dir=SPECS, executor=DaskCluster(client)) as result:
        assert list(result.rejected["code"]) == ["read-url-unreadable"]


def test_urls_need_a_scheduler(local: Local, tmp_path: Path) -> None:
    url = (local.returns / "单位0100.xlsx").as_uri()
    result = CliRunner().invoke(merge_command, [url, "-o", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 2 and "[usage-url-needs-scheduler]" in result.output


# ---- the command ----------------------------------------------------------------------------


def _cli_inputs(local: Local, folder: Path) -> Path:
    for k in range(60, 70):
        _copy(local.returns / f"单位{k:04d}.xlsx", folder / f"单位{k:04d}.xlsx", 1_700_000_000 + k)
    (folder / "乱码.xlsx").write_bytes(b"not a workbook")
    return folder


def test_scheduler_option_and_environment(
    local: Local, client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _cli_inputs(local, tmp_path / "in")
    runner = CliRunner()
    address = client.scheduler_info()["address"]
    monkeypatch.delenv("XLTOOLS_SCHEDULER", raising=False)
    plain = runner.invoke(
        merge_command, [str(inputs), "-o", str(tmp_path / "a.xlsx"), "--csv", str(tmp_path / "a")]
    )
    by_option = runner.invoke(
        merge_command,
        [
            str(inputs),
            "-o",
            str(tmp_path / "b.xlsx"),
            "--csv",
            str(tmp_path / "b"),
            "--scheduler",
            address,
        ],
    )
    monkeypatch.setenv("XLTOOLS_SCHEDULER", address)
    by_env = runner.invoke(
        merge_command, [str(inputs), "-o", str(tmp_path / "c.xlsx"), "--csv", str(tmp_path / "c")]
    )
    with_workers = runner.invoke(
        merge_command, [str(inputs), "-o", str(tmp_path / "d.xlsx"), "--workers", "2"]
    )
    for run in (plain, by_option, by_env):
        assert run.exit_code == 1, run.output  # 乱码.xlsx is rejected
        assert "输入 11 个文件：采纳 10，被替代 0，未采纳 1" in run.output
    for folder in ("b", "c"):
        for name in os.listdir(tmp_path / "a"):
            assert (tmp_path / folder / name).read_bytes() == (tmp_path / "a" / name).read_bytes()
    assert with_workers.exit_code == 2 and "[usage-workers-with-scheduler]" in with_workers.output


def test_without_distributed_a_clear_usage_error(
    local: Local, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = CliRunner().invoke(
        merge_command,
        [str(local.returns), "-o", str(tmp_path / "s.xlsx"), "--scheduler", "tcp://127.0.0.1:8786"],
    )
    assert result.exit_code == 2
    assert (
        "[usage-missing-dask]" in result.output
        and "pip install 'xltools[cluster]'" in result.output
    )
    assert not (tmp_path / "s.xlsx").exists()


def test_unreachable_scheduler_is_a_usage_error(local: Local, tmp_path: Path) -> None:
    address = "tcp://127.0.0.1:9"  # the discard port: nothing listens there
    started = time.perf_counter()
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        result = CliRunner().invoke(
            merge_command,
            [str(local.returns), "-o", str(tmp_path / "s.xlsx"), "--scheduler", address],
        )
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "[usage-scheduler-unreachable]" in result.output and address in result.output
    assert "Traceback" not in result.output
    assert time.perf_counter() - started < 30
    assert not (tmp_path / "s.xlsx").exists()
    for bad in ("nonsense", "http://127.0.0.1:8786"):  # refused before any connection
        result = CliRunner().invoke(
            merge_command, [str(local.returns), "-o", str(tmp_path / "s.xlsx"), "--scheduler", bad]
        )
        assert result.exit_code == 2 and "[usage-bad-scheduler-address]" in result.output


def test_check_and_plain_merge_do_not_import_dask(local: Local, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from xltools.cli import main\n"
        "from xltools.merge import merge\n"
        f"with merge([{str(local.returns / '单位0001.xlsx')!r}], specs_dir={str(SPECS)!r}) as r:\n"
        "    assert r.counts.accepted == 1\n"
        "try:\n"
        f"    main(['check', '-q', '--no-copy', '--specs', {str(SPECS)!r},\n"
        f"          {str(local.returns / '单位0002.xlsx')!r}])\n"
        "except SystemExit as e:\n"
        "    assert e.code in (0, 1), e.code  # 1: the return has errors\n"
        "loaded = {'dask', 'distributed'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
