"""The ``xltools merge`` command. Imports only click and the standard library at module level:
the CLI imports this module at start-up, and the merge itself loads when the command runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from ..cli_zh import ChineseCommand  # before the command is declared: click's texts in Chinese

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


class _Progress:
    """A click progress bar on stderr, one step per input."""

    def __init__(self, total: int) -> None:
        self.bar: Any = click.progressbar(length=total, label="合并", file=sys.stderr)
        self.bar.__enter__()

    def __call__(self) -> None:
        self.bar.update(1)

    def close(self) -> None:
        self.bar.__exit__(None, None, None)


@click.command("merge", cls=ChineseCommand)
@click.argument("inputs", metavar="文件或文件夹...", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="汇总工作簿（.xlsx）",
)
@click.option(
    "--parquet",
    type=click.Path(file_okay=False, path_type=Path),
    help="同时把各表写成 Parquet 到此文件夹（需要 pip install 'xltools[analyst]'）",
)
@click.option(
    "--csv",
    "csv_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="同时把各表写成 CSV（UTF-8 带 BOM）到此文件夹",
)
@click.option(
    "--sqlite", type=click.Path(dir_okay=False, path_type=Path), help="同时写一个 SQLite 数据库"
)
@click.option(
    "--supersede",
    type=click.Choice(["fewest-errors", "saved", "submitted", "first", "latest"]),
    default="fewest-errors",
    show_default=True,
    help="同一单位同一项目有多份时采纳哪一份：错误最少的（再按工作簿保存时间）、工作簿保存时间"
    "最晚的（saved，latest 同义）、提交记录最晚的（submitted，需 --submissions）或最早保存的"
    "（first）；文件修改时间只在最后用于区分",
)
@click.option(
    "--submissions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="提交记录 CSV（列 file, submitted_at），供 --supersede submitted 使用",
)
@click.option("--strict", is_flag=True, help="有任何错误的文件都不采纳（默认采纳并在汇总中计数）")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="并行进程数；默认每个 CPU 核一个，1 = 在本进程内逐个检查",
)
@click.option(
    "--scheduler",
    envvar="XLTOOLS_SCHEDULER",
    metavar="地址",
    help="在 Dask 集群上检查：调度器地址（如 tcp://10.0.0.5:8786；默认 $XLTOOLS_SCHEDULER），"
    "输入可以是各工作进程都能读到的路径或 URL（file://、s3:// 等）；"
    "需要 pip install 'xltools[cluster]'。不给则在本机多进程检查",
)
@click.option(
    "--specs",
    "specs_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="规范文件夹（默认 $XLTOOLS_SPECS、./specs、随包规范）",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="同时写出汇总报告（Word .docx）：收文情况、等次与得分分布图、排名、低于合格的单位、常见问题",
)
@click.option(
    "--manifest",
    "manifest_path",
    metavar="清单",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="下发清单（generate --roster 写出的 manifest.csv）：不是下发给该单位的那一份的文件不采纳",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果")
def merge_command(
    inputs: tuple[str, ...],
    output: Path,
    parquet: Path | None,
    csv_dir: Path | None,
    sqlite: Path | None,
    supersede: str,
    submissions: Path | None,
    strict: bool,
    workers: int | None,
    scheduler: str | None,
    specs_dir: Path | None,
    report_path: Path | None,
    manifest_path: Path | None,
    as_json: bool,
) -> None:
    """检查并汇总返回的自评表：文件、文件夹（递归）、通配符（请加引号）或 .zip 压缩包。

    \b
    xltools merge returned/ -o 汇总.xlsx
    xltools merge "returned/**/*.xlsx" 补交.zip -o 汇总.xlsx --csv analyst/

    \b
    每个输入只计一次：输入 N = 采纳 + 被替代 + 未采纳（附原因）+ 跳过，“清单”工作表逐个列出。
    · 同一单位同一项目多次提交只采纳一份。“同一”指：有下发时盖的单位编号的，模板 + 单位编号；
      否则模板 + 单位名称 + 项目名称。--supersede fewest-errors（默认）采纳错误最少的一份，
      相同时取工作簿自身保存时间较晚的；saved 按工作簿保存时间；submitted 按提交记录
      （--submissions）；first 取最早保存的。文件修改时间经邮件、U 盘拷贝不可靠，只在以上都
      相同时使用，并在原因中注明。每份被替代的文件都写明被哪一份替代、为什么。
    · 有一般校验错误（漏填、格式不对）的文件默认采纳：按规范重新计算的分数进“汇总”，
      错误数列在“汇总”，每个问题列在“问题清单”；加 --strict 则不采纳。
    · 被篡改、不是模板、未知模板或版本已停用、无法读取（含压缩炸弹）的文件不采纳；
      给了 --manifest 时，不是下发给该单位的那一份的文件也不采纳。
    · 临时锁定文件（~$ 开头）、隐藏文件和 xltools check 写的检查副本（*.checked.xlsx、
      “已检查”文件夹）不是提交的原件：列为“跳过”，不检查，不影响退出码。
    · --scheduler 时在 Dask 集群上检查，结果与本机检查相同；反复使工作进程崩溃的文件不采纳
      （worker-crashed）。

    退出码：0 全部采纳或被替代，1 有未采纳的文件，2 用法错误。
    """
    from ..xlsx.limits import LimitsError, limits_from_env
    from .cluster import ClusterError  # light: Dask itself loads only with --scheduler
    from .core import MissingDependency, Outputs, merge
    from .inputs import InputError
    from .submissions import read_submissions
    from .supersede import POLICIES

    if output.suffix.lower() != ".xlsx":
        _fail(f"[usage-output-not-xlsx] -o 应是 .xlsx 文件，而不是 “{output}”")
    if report_path is not None and report_path.suffix.lower() != ".docx":
        _fail(f"[usage-output-not-docx] --report 应是 .docx 文件，而不是 “{report_path}”")
    try:  # once, here: a bad XLTOOLS_LIMITS is a usage error, not an internal error per file
        limits_from_env()
    except LimitsError as error:
        _fail(f"[usage-bad-limits] {error}")
    outputs = Outputs(xlsx=output, csv=csv_dir, parquet=parquet, sqlite=sqlite)
    policy = next(p for p in POLICIES if p == supersede)
    manifest = None
    if manifest_path is not None:
        from ..check.manifest import ManifestError, load_manifest

        try:
            manifest = load_manifest(manifest_path)
        except ManifestError as error:
            _fail(str(error))
    record = None
    if submissions is not None:
        try:  # before any file is checked: a bad record is a usage error
            record = read_submissions(submissions)
        except InputError as error:
            _fail(str(error))
    client: Any = None
    executor: Any = None
    if scheduler:
        if workers is not None:
            _fail(
                "[usage-workers-with-scheduler] --workers 只用于本机进程池；用 --scheduler"
                "（或 XLTOOLS_SCHEDULER）时并行数由集群的工作进程决定（dask worker --nworkers N）。"
                "要在本机合并，请去掉 --scheduler 并清空 XLTOOLS_SCHEDULER"
            )
        from .cluster import DaskCluster, connect

        try:  # before any file is read: an unreachable scheduler is a usage error
            client = connect(scheduler)
        except ClusterError as error:
            _fail(str(error))
        executor = DaskCluster(client)
    try:
        result = merge(
            list(inputs),
            specs_dir=specs_dir,
            outputs=outputs,
            supersede=policy,
            submissions=record,
            strict=strict,
            workers=workers,
            executor=executor,
            progress=_Progress,
            manifest=manifest,
        )
    except (InputError, MissingDependency, ClusterError) as error:
        _fail(str(error))
    finally:
        if client is not None:
            client.close()
    with result:
        if report_path is not None:
            _write_report(result, report_path, specs_dir)
        rows = result.not_accepted()
        if as_json:
            document = {
                "inputs": result.counts.inputs,
                "accepted": result.counts.accepted,
                "superseded": result.counts.superseded,
                "rejected": result.counts.rejected,
                "skipped": result.counts.skipped,
                "outputs": {k: str(v) for k, v in result.written.items()},
                "not_accepted": [
                    {k: row[k] for k in ("file", "status", "code", "reason", "superseded_by")}
                    for row in rows
                ],
                "notes": result.notes,
            }
            click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))
        else:
            skipped: dict[str, list[str]] = {}  # code -> files: one line per code, not per file
            for row in rows:
                if row["status"] == "skipped":
                    skipped.setdefault(f"[{row['code']}] {row['reason']}", []).append(row["file"])
                    continue
                label = "被替代" if row["status"] == "superseded" else "未采纳"
                click.echo(f"{label} {row['file']}: [{row['code']}] {row['reason']}")
            for why, files in skipped.items():
                named = files[0] if len(files) == 1 else f"{len(files)} 个文件（如 {files[0]}）"
                click.echo(f"跳过 {named}: {why}（逐个见“清单”工作表）")
            for note in result.notes:
                click.echo(f"注意：{note}", err=True)
            click.echo(f"汇总工作簿 → {output}")
            for key, label in (
                ("csv", "CSV"),
                ("parquet", "Parquet"),
                ("sqlite", "SQLite"),
                ("report", "汇总报告"),
            ):
                if key in result.written:
                    click.echo(f"{label} → {result.written[key]}")
            click.echo(result.line)
        code = EXIT_REJECTED if result.counts.rejected else EXIT_OK
    sys.exit(code)


def _write_report(result: Any, target: Path, specs_dir: Path | None) -> None:
    """The 汇总报告 (python-docx and matplotlib load here, only when asked for)."""
    from ..registry import Registry
    from ..report import ReportError
    from ..report.summary_report import write_summary_report

    try:
        write_summary_report(result, target, Registry.load(specs_dir))
    except ReportError as error:
        _fail(f"[{error.code}] {error.message}")
    result.written["report"] = target


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(EXIT_USAGE)
