"""The ``xltools`` command. Each subcommand imports what it needs when it runs, so that
``xltools check one.xlsx`` does not pay for pandas or XlsxWriter at start-up."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xltools")
def main() -> None:
    """xltools：绩效自评表的规范、模板、检查与汇总工具。"""


@main.group()
def spec() -> None:
    """规范文件（YAML）相关命令。"""


@spec.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def spec_lint(paths: tuple[Path, ...]) -> None:
    """检查规范文件：每个问题给出 文件:行[:列]、错误代码和中文说明。

    退出码：0 无问题，1 有问题，2 用法错误（如文件不存在）。
    """
    from .spec.lint import lint_file

    missing = [p for p in paths if not p.is_file()]
    if missing:
        for path in missing:
            click.echo(f"{path}: [usage-file-not-found] 找不到规范文件，请检查路径", err=True)
        sys.exit(EXIT_USAGE)
    count = 0
    for path in paths:
        _, problems = lint_file(path)
        for problem in problems:
            click.echo(str(problem))
        count += len(problems)
    if count:
        click.echo(f"共 {count} 个问题，涉及 {len(paths)} 个规范文件。", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"{len(paths)} 个规范文件均无问题。", err=True)


@main.command()
@click.argument(
    "spec_path", metavar="SPEC", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="输出的 .xlsx 文件"
)
def generate(spec_path: Path, output: Path) -> None:
    """由规范生成锁定的模板工作簿。"""
    from .generate import generate_template
    from .spec import SpecError, load_spec

    try:
        spec_obj = load_spec(spec_path)
    except SpecError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        click.echo("规范有问题，未生成模板。请先运行 xltools spec lint 并修正。", err=True)
        sys.exit(EXIT_PROBLEMS)
    generate_template(spec_obj, output)
    click.echo(f"已生成 {output}")


if __name__ == "__main__":  # pragma: no cover
    main()
