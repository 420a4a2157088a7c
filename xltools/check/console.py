"""What ``xltools check`` prints and the exit code it gives: collect the inputs, check them,
report each return, list apart what was skipped, close with a count."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import click

from ..merge.inputs import CHECKED_SUFFIX, InputItem
from .files import SKIP_LABELS, CheckResult, collect, is_single, run_checks
from .report import SEVERITY_LABEL

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def run_check(
    paths: Sequence[Path],
    *,
    output: Path | None,
    as_json: bool,
    quiet: bool,
    copy: bool,
    specs_dir: Path | None,
    manifest_path: Path | None = None,
) -> int:
    """The whole command; returns its exit code (skipped files never change it)."""
    manifest = None
    if manifest_path is not None:
        from .manifest import ManifestError, load_manifest

        try:
            manifest = load_manifest(manifest_path)
        except ManifestError as error:
            click.echo(str(error), err=True)
            return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="xltools-check-") as work:
        # the copies' folder is no input: a second check into the same -o sees no copies
        exclude = [output] if copy and output is not None and output.is_dir() else []
        inputs = collect(paths, workdir=Path(work) / "archives", exclude=exclude)
        if not inputs.returns:
            _print_skipped(inputs.skipped, err=True)
            click.echo("[usage-no-files] 没有找到要检查的工作簿", err=True)
            return EXIT_USAGE
        if (
            output is not None
            and not is_single(inputs.returns)
            and output.suffix.lower() == ".xlsx"
        ):
            click.echo(
                "[usage-output-not-dir] 检查多个文件（或文件夹、压缩包）时 -o 应是文件夹", err=True
            )
            return EXIT_USAGE
        many = len(inputs.returns) > 1
        results = run_checks(
            inputs.returns,
            output=output,
            copy=copy,
            specs_dir=specs_dir,
            progress=not as_json and many,
            manifest=manifest,
        )
    if as_json:
        _print_json(results, inputs.skipped)
    else:
        for result in results:
            _print_result(result, quiet)
        _print_skipped(inputs.skipped)
        if many or inputs.skipped:
            passed = sum(1 for r in results if r.report.valid)
            line = f"共 {len(results)} 个文件：{passed} 个通过，{len(results) - passed} 个不通过。"
            if inputs.skipped:
                line += f"另跳过 {len(inputs.skipped)} 个（不是工作簿或不是提交的原件，见上）。"
            click.echo(line)
    if any(r.internal_error for r in results):
        return EXIT_USAGE
    return EXIT_OK if all(r.report.valid for r in results) else EXIT_PROBLEMS


def _print_result(result: CheckResult, quiet: bool) -> None:
    report = result.report
    click.echo(report.summary_line() + (f"  → {result.copy}" if result.copy else ""))
    if quiet:
        return
    if report.blank:
        blank = next(f for f in report.findings if f.code == "return-blank")
        click.echo(f"  [未填写] - {blank.code}: {blank.message}（逐项见 --json 或检查后副本）")
        return
    for finding in report.sorted_findings():
        if finding.severity != "info":
            where = finding.where() or "-"
            label = SEVERITY_LABEL.get(finding.severity, finding.severity)
            click.echo(f"  [{label}] {where} {finding.code}: {finding.message}")
    infos = report.count("info")
    if infos:
        click.echo(f"  另有 {infos} 条提示（见检查后副本的“校验结果”工作表或 --json）")


def _print_skipped(skipped: Sequence[InputItem], *, err: bool = False) -> None:
    """One line per skipped file; our own checked copies (a whole 已检查 folder on a second
    check) in one line, since listing each says nothing new."""
    copies = [item for item in skipped if item.code == "skipped-checked-copy"]
    for item in skipped:
        if item.code != "skipped-checked-copy" or len(copies) == 1:
            label = SKIP_LABELS.get(item.code, "跳过")
            click.echo(f"跳过（{label}） {item.display} [{item.code}]", err=err)
    if len(copies) > 1:
        click.echo(
            f"跳过（检查副本） {len(copies)} 个 *{CHECKED_SUFFIX} 或“已检查”文件夹中的文件，"
            f"如 {copies[0].display} [skipped-checked-copy]",
            err=err,
        )


def _print_json(results: Sequence[CheckResult], skipped: Sequence[InputItem]) -> None:
    payload = [r.report.to_dict() for r in results]
    document: object
    if len(payload) == 1 and not skipped:
        document = payload[0]
    else:
        document = {
            "valid": all(p["valid"] for p in payload),
            "files": payload,
            "skipped": [{"file": s.display, "code": s.code, "reason": s.reason} for s in skipped],
        }
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))
