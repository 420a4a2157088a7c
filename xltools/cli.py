"""The ``xltools`` command. Each subcommand imports what it needs when it runs, so that
``xltools check one.xlsx`` does not pay for pandas or XlsxWriter at start-up."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from . import __version__
from .cli_zh import ChineseGroup  # before any command is declared: click's own texts in Chinese

if TYPE_CHECKING:  # imported for real only by the commands that need them
    from .registry import Registry
    from .spec import Problem, Spec

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 141


class _Commands(ChineseGroup):
    """Bad input is answered by each command; anything else is our bug: say so in one line
    with a stable code, never with a traceback (set XLTOOLS_DEBUG=1 to see it)."""

    def invoke(self, ctx: click.Context) -> object:
        import os

        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("[interrupted] 已中断；已写出的文件都是完整的。", err=True)
            sys.exit(EXIT_USAGE)
        except BrokenPipeError:
            # The reader of our output went away (`xltools check … | head`): not our bug. Point
            # stdout at /dev/null so the interpreter's final flush cannot fail again, and end
            # as a program killed by SIGPIPE does (128 + 13), as `yes | head` does.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except Exception as error:
            if os.environ.get("XLTOOLS_DEBUG"):
                raise
            click.echo(
                f"[internal-error] xltools 内部错误（{type(error).__name__}: {error}）。"
                "输入文件未被修改。请把命令和这条信息反馈给开发人员；设置 XLTOOLS_DEBUG=1 可看到详细信息。",
                err=True,
            )
            sys.exit(EXIT_USAGE)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xltools")
def main() -> None:
    """xltools：绩效自评表的规范、模板、检查与汇总工具。"""


@main.group()
def spec() -> None:
    """规范文件（YAML，或在 Excel 里写的规范工作簿）相关命令。"""


@spec.command("lint")
@click.argument(
    "paths", metavar="规范文件...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
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
        problems = _lint_workbook(path) if _is_workbook(path) else lint_file(path)[1]
        for problem in problems:
            click.echo(str(problem))
        count += len(problems)
    if count:
        click.echo(f"共 {count} 个问题，涉及 {len(paths)} 个规范文件。", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"{len(paths)} 个规范文件均无问题。", err=True)


def _is_workbook(path: Path) -> bool:
    """A spec written as a workbook (``xltools spec export``), not YAML."""
    return path.suffix.lower() in (".xlsx", ".xlsm")


def _lint_workbook(path: Path) -> list[Problem]:
    from .spec.workbook import read_workbook_spec

    return read_workbook_spec(path).problems


def _load_any_spec(path: Path) -> Spec:
    """The spec of a YAML file or of an authoring workbook; exit 1 listing its problems."""
    from .spec import SpecError, load_spec

    if _is_workbook(path):
        from .spec.workbook import read_workbook_spec

        read = read_workbook_spec(path)
        problems, spec_obj = read.problems, read.spec
    else:
        try:
            return load_spec(path)
        except SpecError as error:
            problems, spec_obj = error.problems, None
    if spec_obj is not None and not problems:
        return spec_obj
    for problem in problems:
        click.echo(str(problem), err=True)
    _fail(f"{path}: 规范有问题，未生成模板。请先运行 xltools spec lint。", EXIT_PROBLEMS)


@spec.command("export")
@click.argument(
    "spec_path", metavar="规范文件", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="输出的规范工作簿（.xlsx）",
)
def spec_export(spec_path: Path, output: Path) -> None:
    """把 YAML 规范写成可在 Excel 里编辑的规范工作簿（基本信息、字段、指标、规则、校验、选项、等次）。

    退出码：0 已写出，1 规范中有工作簿容纳不了的内容（未写出），2 用法错误。
    """
    from .spec.workbook import export_spec

    if output.suffix.lower() != ".xlsx":
        _fail(f"[usage-output-not-xlsx] -o 应是 .xlsx 文件：{output}", EXIT_USAGE)
    if _is_workbook(spec_path):
        _fail(
            f"[usage-spec-is-workbook] {spec_path} 已经是规范工作簿；要得到 YAML 请用 xltools spec import",
            EXIT_USAGE,
        )
    problems = export_spec(spec_path, output)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        _fail(f"{spec_path}: 有 {len(problems)} 处无法写进规范工作簿，未写出。", EXIT_PROBLEMS)
    click.echo(f"已写出规范工作簿 {output}")


@spec.command("import")
@click.argument(
    "workbook", metavar="规范工作簿", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="输出的 YAML 规范文件",
)
def spec_import(workbook: Path, output: Path) -> None:
    """把规范工作簿读回 YAML 规范；每个问题给出 工作表、行和列。

    退出码：0 已写出且无问题，1 有问题（读不出时不写出；能读出但检查有问题时照样写出），2 用法错误。
    """
    from .atomic import atomic_path
    from .spec.workbook import read_workbook_spec

    read = read_workbook_spec(workbook)
    for problem in read.problems:
        click.echo(str(problem), err=True)
    if read.yaml_text is None:
        _fail(f"{workbook}: 规范工作簿有 {len(read.problems)} 个问题，未写出 YAML。", EXIT_PROBLEMS)
    with atomic_path(output) as temporary:
        temporary.write_text(read.yaml_text, encoding="utf-8")
    click.echo(f"已写出 {output}")
    if read.problems:
        _fail(f"共 {len(read.problems)} 个问题，请在规范工作簿中改正后重新导入。", EXIT_PROBLEMS)


@main.command()
@click.argument(
    "spec_paths",
    metavar="规范文件...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="输出的 .xlsx 文件；多个规范或与 --roster 一起用时为输出文件夹",
)
@click.option(
    "--roster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="单位名册（.xlsx、.csv 或 .yaml）：每个单位生成一份预填并加盖标识的工作簿",
)
def generate(spec_paths: tuple[Path, ...], output: Path, roster: Path | None) -> None:
    """由规范生成锁定的模板工作簿。

    \b
    xltools generate SPEC -o 模板.xlsx              一个模板（SPEC 可以是 YAML 或规范工作簿 .xlsx）
    xltools generate specs/*.yaml -o templates/     每个规范一个模板（模板id_v版本.xlsx）
    xltools generate SPEC --roster 名册.csv -o 文件夹/  每个单位一份预填工作簿和 manifest.csv

    退出码：0 全部生成，1 规范或名册有问题（有问题的名册行不生成），2 用法错误。
    """
    from .generate import generate_template

    if roster is not None and len(spec_paths) > 1:
        _fail("[usage-roster-one-spec] --roster 只能配一个规范文件", EXIT_USAGE)
    specs = [_load_any_spec(spec_path) for spec_path in spec_paths]
    if roster is not None:
        _generate_roster(specs[0], roster, output)
        return
    if len(specs) > 1 or output.is_dir() or not output.suffix:
        if output.exists() and not output.is_dir():
            _fail(
                f"[usage-output-not-dir] 生成多个模板时 -o 应是文件夹，{output} 是文件", EXIT_USAGE
            )
        for spec_obj in specs:
            target = output / template_file_name(spec_obj)
            generate_template(spec_obj, target)
            click.echo(f"已生成 {target}")
        return
    generate_template(specs[0], output)
    click.echo(f"已生成 {output}")


def template_file_name(spec_obj: Spec) -> str:
    return f"{spec_obj.template}_v{spec_obj.version}.xlsx"


def _generate_roster(spec_obj: Spec, roster: Path, out_dir: Path) -> None:
    from .roster import RosterError, distribute, read_roster, validate_roster

    if out_dir.exists() and not out_dir.is_dir():
        _fail(
            f"[usage-output-not-dir] 使用 --roster 时 -o 应是文件夹，{out_dir} 是文件", EXIT_USAGE
        )
    try:
        rows = read_roster(roster)
    except RosterError as error:
        _fail(f"{roster}{error.where}: [{error.code}] {error}", EXIT_PROBLEMS)
    good, problems = validate_roster(spec_obj, rows)
    for problem in problems:
        click.echo(f"{roster}: {problem}", err=True)
    with click.progressbar(good, label="生成工作簿", file=sys.stderr) as bar:
        manifest = distribute(spec_obj, good, out_dir, progress=lambda items: bar)
    bad_rows = len({p.row for p in problems})
    click.echo(
        f"已生成 {len(good)} 份工作簿到 {out_dir}，清单 {manifest}；{bad_rows} 行名册有问题未生成。"
    )
    if problems:
        sys.exit(EXIT_PROBLEMS)


_SPECS_OPTION = click.option(
    "--specs",
    "specs_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="规范文件夹（默认：$XLTOOLS_SPECS、./specs、随程序附带的 specs）",
)


def _open_template_info(path: Path, specs_dir: Path | None) -> tuple[Registry, Spec]:
    """The registry and the spec a workbook was generated from, or exit with a clear message."""
    from .registry import Registry
    from .workbook import NotATemplate, describe_workbook, open_workbook

    try:
        info = describe_workbook(open_workbook(path))
    except NotATemplate:
        _fail(
            f"{path}: [not-a-template] 这不是 xltools 生成的模板（找不到 _xltools 元数据工作表）",
            EXIT_PROBLEMS,
        )
    except Exception as error:  # unreadable, not a zip, encrypted…: say so, never a traceback
        _fail(f"{path}: [unreadable-workbook] 无法读取此工作簿：{error}", EXIT_PROBLEMS)
    registry = Registry.load(specs_dir)
    spec_obj = registry.accepted(info.template, info.version)
    if spec_obj is None:
        known = registry.versions(info.template)
        hint = (
            f"可接受的版本：{', '.join(map(str, known))}"
            if known
            else f"规范文件夹中没有这个模板。{registry.where()}"
        )
        _fail(
            f"{path}: [unknown-template] 未知的模板 {info.template} 第 {info.version} 版；{hint}",
            EXIT_PROBLEMS,
        )
    return registry, spec_obj


def _fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


@main.command()
@click.argument(
    "workbook", metavar="工作簿", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--values", is_flag=True, help="同时输出每个字段的当前值")
@_SPECS_OPTION
def describe(workbook: Path, as_json: bool, values: bool, specs_dir: Path | None) -> None:
    """列出模板或已填工作簿的字段表：定义名称、工作表、单元格、标签路径、类型、是否锁定。"""
    import json

    from .describe import describe as describe_fields
    from .describe import describe_lines

    registry, _ = _open_template_info(workbook, specs_dir)
    result = describe_fields(workbook, registry, with_values=values)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return
    for line in describe_lines(result, with_values=values):
        click.echo(line)


@main.command()
@click.argument(
    "template", metavar="模板", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.argument("data", metavar="数据", type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="输出的 .xlsx；DATA 有多份数据时为输出文件夹",
)
@_SPECS_OPTION
def fill(template: Path, data: Path, output: Path, specs_dir: Path | None) -> None:
    """把“数据”（YAML 或 JSON，按字段 id；或一张表、一个文件夹）写入“模板”的输入单元格，另存到 -o。

    \b
    xltools fill 模板.xlsx 甲县.yaml -o 甲县.xlsx      一份
    xltools fill 模板.xlsx 数据.csv -o 已填写/         每行一份（列为字段 id 或标签，file 列为文件名）
    xltools fill 模板.xlsx 数据文件夹/ -o 已填写/      每个 .yaml/.json 一份

    退出码：0 全部写出，1 有数据不能写入（其余照常写出），2 用法错误。
    """
    from .fill_batch import is_batch

    if output.resolve() == template.resolve():
        _fail("[usage-overwrite-input] 输出不能覆盖输入的模板，请用 -o 指定另一个文件", EXIT_USAGE)
    if is_batch(data):
        _fill_batch(template, data, output, specs_dir)
        return
    if output.is_dir():
        _fail(
            f"错误：[usage-path-is-dir] “{output}” 是文件夹，这里要的是文件：填写一份时 -o 是要写出的"
            " .xlsx；一次填写多份（表格、列表或文件夹）时 -o 才是文件夹。",
            EXIT_USAGE,
        )
    import yaml

    from .fill import fill_workbook

    try:
        content = yaml.safe_load(data.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        from .yaml_errors import explain

        slip = explain(error, data.read_text(encoding="utf-8"))
        _fail(f"{data}{slip.where()}: [fill-yaml-syntax] {slip.message}", EXIT_USAGE)
    except Exception as error:
        _fail(f"{data}: [fill-bad-data] 无法读取数据文件：{error}", EXIT_USAGE)
    if not isinstance(content, dict):
        _fail(f"{data}: [fill-bad-data] 数据文件的顶层应是 字段id: 值 的映射", EXIT_USAGE)
    _, spec_obj = _open_template_info(template, specs_dir)
    errors = fill_workbook(template, spec_obj, content, output)
    if errors:
        for refusal in errors:
            click.echo(str(refusal), err=True)
        _fail(f"有 {len(errors)} 个值不能写入，未生成文件。", EXIT_PROBLEMS)
    click.echo(f"已填写 {output}")


def _fill_batch(template: Path, data: Path, out_dir: Path, specs_dir: Path | None) -> None:
    """Many returns from one table or folder: the template is read once (fill_batch.py)."""
    from .fill import FillError, LoadedTemplate
    from .fill_batch import BatchError, fill_batch, read_batch

    if out_dir.suffix.lower() == ".xlsx" or (out_dir.exists() and not out_dir.is_dir()):
        _fail(
            f"[usage-output-not-dir] DATA 有多份数据时 -o 应是文件夹，而不是 {out_dir}", EXIT_USAGE
        )
    _, spec_obj = _open_template_info(template, specs_dir)
    try:
        rows = read_batch(data, spec_obj)
    except BatchError as error:
        _fail(f"{data}: {error}\n未生成任何文件。", EXIT_USAGE)
    loaded = LoadedTemplate.load(template, spec_obj)
    if isinstance(loaded, FillError):
        _fail(f"{template}: {loaded}", EXIT_PROBLEMS)
    with click.progressbar(length=len(rows), label="填写", file=sys.stderr) as bar:
        result = fill_batch(loaded, rows, out_dir, tick=lambda: bar.update(1))
    for line in result.problems:
        click.echo(f"{data}: {line}", err=True)
    click.echo(
        f"共 {len(rows)} 份数据：已填写 {len(result.written)} 份到 {out_dir}，"
        f"{result.failed} 份有问题未生成。"
    )
    if result.failed:
        sys.exit(EXIT_PROBLEMS)


@main.command()
@click.argument(
    "paths", metavar="文件或文件夹...", nargs=-1, required=True,
    type=click.Path(exists=True, path_type=Path),
)  # fmt: skip
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="检查后副本的位置：一个文件时为 .xlsx，多个文件、文件夹或压缩包时为文件夹"
    "（默认：一个文件时在原文件旁 名称.checked.xlsx，否则在“已检查”文件夹）",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出检查报告")
@click.option("-q", "--quiet", is_flag=True, help="每个文件只输出一行")
@click.option("--no-copy", is_flag=True, help="不写检查后的副本")
@click.option(
    "--manifest",
    "manifest_path",
    metavar="清单",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="下发清单（generate --roster 写出的 manifest.csv）：核对每份返回是不是下发给该单位的那一份",
)
@_SPECS_OPTION
def check(
    paths: tuple[Path, ...],
    output: Path | None,
    as_json: bool,
    quiet: bool,
    no_copy: bool,
    manifest_path: Path | None,
    specs_dir: Path | None,
) -> None:
    """检查填报返回的工作簿：只信输入单元格，按规范重算全部结果，检查篡改与交叉校验，
    并写出带“校验结果”工作表的副本（原文件不变）。

    \b
    xltools check 甲县.xlsx              副本写在原文件旁：甲县.checked.xlsx
    xltools check 返回/ 补交.zip         副本写到 返回/已检查/ 和 已检查/（压缩包逐个检查）
    xltools check 返回/ -o 检查结果/     副本写到 检查结果/
    xltools check 返回/ --manifest 分发/manifest.csv   另核对下发标识与下发清单

    文件夹和压缩包里不是工作簿的文件（.pdf、.csv、.docx…）、临时锁定文件（~$ 开头）、
    隐藏文件和检查副本单独列为“跳过”，不计为不通过。

    退出码：0 无错误，1 有错误或文件无法读取，2 用法错误或内部错误。
    """
    from .check.console import run_check

    sys.exit(
        run_check(
            paths,
            output=output,
            as_json=as_json,
            quiet=quiet,
            copy=not no_copy,
            specs_dir=specs_dir,
            manifest_path=manifest_path,
        )
    )


@main.command()
@click.argument(
    "workbooks",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="输出文件夹",
)
@click.option("--png", is_flag=True, help="同时把每页转成 PNG（需要 pdftoppm）")
def render(workbooks: tuple[Path, ...], output: Path, png: bool) -> None:
    """用 LibreOffice（无界面）把工作簿渲染成 PDF，便于人工查看版式。"""
    import shutil
    import subprocess

    from .libreoffice import LibreOfficeError, render_pdf

    if png and shutil.which("pdftoppm") is None:
        _fail(
            "[render-no-pdftoppm] 需要 pdftoppm（Debian 软件包 poppler-utils）才能生成 PNG",
            EXIT_USAGE,
        )
    fonts = (
        subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout
        if shutil.which("fc-list")
        else "x"
    )
    if not fonts.strip():
        click.echo(
            "[render-no-cjk-font] 本机没有中文字体，渲染结果中的汉字会显示为方框；请安装 fonts-wqy-zenhei 或 fonts-noto-cjk",
            err=True,
        )
    for workbook in workbooks:
        try:
            pdf = render_pdf(workbook, output)
        except LibreOfficeError as error:
            _fail(f"{workbook}: [render-failed] LibreOffice 渲染失败：{error}", EXIT_PROBLEMS)
        click.echo(f"已渲染 {pdf}")
        if png:
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", str(pdf), str(pdf.with_suffix(""))], check=True
            )
            click.echo(f"已生成 {pdf.with_suffix('')}-*.png")


@main.command()
@click.argument(
    "workbook", metavar="填报文件", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="自评报告（.docx）",
)
@_SPECS_OPTION
def report(workbook: Path, output: Path, specs_dir: Path | None) -> None:
    """由一份填报返回的自评表生成自评报告草稿（Word）：表格中的数字按规范重新计算，
    须由单位撰写的段落标为【待填写】；有错误的自评表，报告首页列出检查发现的问题。

    \b
    xltools report 甲县.xlsx -o 甲县自评报告.docx

    退出码：0 已写出（自评表检查通过），1 已写出但自评表有错误，或无法生成，2 用法错误。
    """
    from .registry import Registry

    if output.suffix.lower() != ".docx":
        _fail(f"[usage-output-not-docx] -o 应是 .docx 文件，而不是 “{output}”", EXIT_USAGE)
    if output.resolve() == workbook.resolve():
        _fail("[usage-overwrite-input] 输出不能覆盖输入的文件，请用 -o 指定另一个文件", EXIT_USAGE)
    from .report import ReportError
    from .report.return_report import write_return_report

    try:
        checked = write_return_report(workbook, output, Registry.load(specs_dir))
    except ReportError as error:
        _fail(f"{workbook}: [{error.code}] {error.message}", EXIT_PROBLEMS)
    click.echo(checked.summary_line())
    click.echo(f"已写出自评报告 {output}")
    sys.exit(EXIT_OK if checked.valid else EXIT_PROBLEMS)


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
)
def demo(output: Path) -> None:
    """快速体验：检查全部规范、生成模板、按示例填写、按示例名册分发、检查返回的文件、
    写出自评报告（Word）并汇总（汇总工作簿与汇总报告）。"""
    from .demo import run_demo

    problems = run_demo(output, click.echo)
    sys.exit(EXIT_PROBLEMS if problems else EXIT_OK)


@main.command()
@click.argument(
    "source", metavar="旧版填报", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="迁移后的工作簿（现行版本）",
)  # fmt: skip
@click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="写入这份现行版本的模板（如下发给该单位的预填模板）；默认按现行规范生成，保留原表的单位与预填",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出迁移结果")
@_SPECS_OPTION
def migrate(
    source: Path, output: Path, template: Path | None, as_json: bool, specs_dir: Path | None
) -> None:
    """把按旧版模板填写的 SOURCE 迁移到现行版本：按规范中 previous 写明的改动（改名、删去的
    字段）搬运每个已填的值，写入现行模板，并列出没能搬运的内容与新版需要补填的字段。

    退出码：0 已写出，1 无法迁移（原因见提示），2 用法错误。
    """
    import json

    from .migrate import MigrationError
    from .migrate import migrate as run_migration
    from .registry import Registry

    if output.resolve() == source.resolve():
        _fail("[usage-overwrite-input] 输出不能覆盖原文件，请用 -o 指定另一个文件", EXIT_USAGE)
    try:
        result = run_migration(source, output, Registry.load(specs_dir), template=template)
    except MigrationError as error:
        _fail(f"{source}: [{error.code}] {error.message}", EXIT_PROBLEMS)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(
        f"已迁移 {source}（模板 {result.template} 第 {result.from_version} 版 → "
        f"第 {result.to_version} 版）→ {output}"
    )
    click.echo(f"  原表检查：{result.old_verdict}")
    renamed = "，".join(f"{old} → {new}" for old, new in result.renamed)
    click.echo(f"  搬运 {len(result.carried)} 项" + (f"（改名：{renamed}）" if renamed else ""))
    for old_id, label, value in result.removed:
        click.echo(
            f"  [未搬运] “{label}”（{old_id}）：第 {result.to_version} 版已删去，原值 {value}"
        )
    for new_id, label, value, reason in result.refused:
        click.echo(f"  [未搬运] “{label}”（{new_id}）：原值 {value} 不符合新版规则：{reason}")
    for new_id, label in result.kept:
        click.echo(f"  [保留] “{label}”（{new_id}）：模板中已预填并锁定，保留模板的值")
    for new_id, label, required in result.added:
        click.echo(
            f"  [{'须补填' if required else '可补填'}] “{label}”（{new_id}）：新版字段，原表没有"
        )


@main.command()
@click.argument(
    "roster", metavar="名册", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.argument("returns", metavar="返回的文件或文件夹...", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="写一份进度工作簿（.xlsx）",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option(
    "--workers", type=click.IntRange(min=0), default=None, help="并行进程数；默认每个 CPU 核一个"
)
@_SPECS_OPTION
def status(
    roster: Path,
    returns: tuple[str, ...],
    output: Path | None,
    as_json: bool,
    workers: int | None,
    specs_dir: Path | None,
) -> None:
    """名册对照返回的文件：每个单位 未交 / 已交待修改 / 已采纳，附原因和采用的文件；
    同一单位的旧文件列为 被替代，名册中没有的单位的文件列为 名册外。

    \b
    xltools status 分发/manifest.csv 返回/
    xltools status 名册.csv 返回/ 补交.zip -o 填报进度.xlsx

    名册：分发时生成的 manifest.csv，或含 bureau_id（可选 bureau_name、template）列的
    .csv / .xlsx。判定与 xltools merge 相同。

    退出码：0 全部已采纳，1 还有未交或待修改的单位，2 用法错误。
    """
    import json

    from .merge.inputs import InputError
    from .status import ACCEPTED, OFF_ROSTER, RosterError, run_status

    try:
        report = run_status(roster, returns, specs_dir=specs_dir, workers=workers)
    except (RosterError, InputError) as error:
        _fail(str(error), EXIT_USAGE)
    if output is not None:
        from .status_workbook import write_status_workbook

        write_status_workbook(report, output)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        for bureau in report.bureaus:
            if bureau.status != ACCEPTED:
                click.echo(f"  [{bureau.status}] {bureau.bureau_id} {bureau.name}：{bureau.reason}")
        for item in report.files:
            if item.status == OFF_ROSTER:
                click.echo(f"  [名册外] {Path(item.file).name}：{item.reason}")
        click.echo(report.line)
        if output is not None:
            click.echo(f"进度工作簿：{output}")
    sys.exit(EXIT_OK if report.complete else EXIT_PROBLEMS)


def _register_merge() -> None:
    # The merge command's module imports only click at start-up (pandas when it runs).
    from .merge.command import merge_command

    main.add_command(merge_command, "merge")


_register_merge()


def _register_serve() -> None:
    # Click only at start-up: Starlette and uvicorn are imported when `xltools serve` runs.
    from .serve.command import serve_command

    main.add_command(serve_command, "serve")


_register_serve()

if __name__ == "__main__":  # pragma: no cover
    main()
