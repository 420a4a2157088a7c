"""Every message a person reads is Chinese: click's own texts, YAML slips at their own line with
a hint, describe's words. Stable English codes stay in brackets for machines."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from xltools.cli import main
from xltools.yaml_errors import explain

ROOT = Path(__file__).resolve().parent.parent
SPEC_2023 = ROOT / "specs" / "project_expense_2023.yaml"

# click's English, as it would print it without xltools' catalogue.
CLICK_ENGLISH = re.compile(
    r"Usage:|Options:|Commands:|\[required\]|\[default:|Error:|Show this message|"
    r"Show the version|Try '|Missing argument|Missing option|No such (option|command)|"
    r"Invalid value|does not exist|is a directory|is not one of|is not a valid|"
    r"requires an argument|\bINTEGER\b|\bTEXT\b|\bPATH\b|\[OPTIONS\]|COMMAND \[ARGS\]"
)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["check", "--help"],
        ["merge", "--help"],
        ["spec", "--help"],
        ["spec", "lint", "--help"],
        ["spec", "export", "--help"],
        ["spec", "import", "--help"],
        ["generate", "--help"],
        ["fill", "--help"],
        ["describe", "--help"],
        ["demo", "--help"],
        ["serve", "--help"],
    ],
    ids=" ".join,
)
def test_help_pages_are_chinese(args: list[str]) -> None:
    code, output = _run(*args)
    assert code == 0, output
    assert output.startswith("用法：")
    assert "选项：" in output
    assert "显示本帮助并退出。" in output
    assert not CLICK_ENGLISH.search(output), CLICK_ENGLISH.search(output)


def test_help_marks_required_and_defaults_in_chinese() -> None:
    _, output = _run("merge", "--help")
    joined = "".join(output.split())  # a long help text wraps inside the brackets
    assert "[必填]" in output and "[默认：fewest-errors]" in joined
    assert "--workers 整数" in output  # click's INTEGER RANGE metavar


def test_help_columns_line_up_with_chinese_metavars() -> None:
    # click counts a Chinese character as one column; the help texts start in one column.
    _, output = _run("check", "--help")
    from xltools.cli_zh import display_width

    rows = [line for line in output.splitlines() if line.startswith("  -")]
    starts = {display_width(re.match(r"^(\s+\S.*?\s{2,})\S", row)[1]) for row in rows}  # type: ignore[index]
    assert len(starts) == 1, rows


@pytest.mark.parametrize("command", ["check", "generate", "describe", "fill"])
def test_help_wraps_chinese_to_the_terminal_width(command: str) -> None:
    # click wrapped by characters (a Chinese line twice the terminal wide) and joined a
    # paragraph's lines with a space ("交叉校验， 并写出").
    from xltools.cli_zh import display_width

    result = CliRunner().invoke(main, [command, "--help"], terminal_width=60)
    lines = result.output.splitlines()
    # generate's examples are a block kept as written (click's \b)
    assert [line for line in lines if display_width(line) > 60 and "xltools " not in line] == []
    assert not re.search(r"[，。] ", result.output), result.output


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["check"], "usage-missing-argument", "缺少参数 '文件或文件夹...'。"),
        (["check", "nope/none.xlsx"], "usage-file-not-found", "找不到路径 “nope/none.xlsx”"),
        (["check", "--bogus", "x.xlsx"], "usage-no-such-option", "没有选项 “--bogus”"),
        (["check", "-o"], "usage-option-needs-value", "选项 “-o” 需要一个值"),
        (["check", "x", "--json=1"], "usage-option-takes-no-value", "“--json” 不接受值"),
        (["nosuch"], "usage-no-such-command", "没有命令 “nosuch”"),
        (["spec", "lint"], "usage-missing-argument", "缺少参数"),
        (["merge", "x", "-o", "s.xlsx", "--supersede", "newest"], "usage-bad-value", "不在可选值"),
        (["merge", "x", "-o", "s.xlsx", "--workers", "two"], "usage-bad-value", "不是有效的数"),
        (["merge", "x", "-o", "s.xlsx", "--workers", "-1"], "usage-bad-value", "不在范围"),
        (["merge", "x"], "usage-missing-option", "缺少选项 '-o' / '--output'"),
        (["describe", str(SPEC_2023), "b"], "usage-extra-argument", "多余的参数"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_usage_errors_are_chinese_with_a_code(args: list[str], code: str, words: str) -> None:
    exit_code, output = _run(*args)
    assert exit_code == 2, output
    assert f"错误：[{code}] " in output
    assert words in output
    assert "用法：" in output and "查看帮助" in output
    assert not CLICK_ENGLISH.search(output), output


def test_output_pointing_at_a_folder_is_a_chinese_error(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("project_name: x\n", encoding="utf-8")
    for args in (
        ["fill", str(data), str(data), "-o", str(tmp_path)],
        ["merge", str(data), "-o", str(tmp_path)],
    ):
        exit_code, output = _run(*args)
        assert exit_code == 2, output
        assert "[usage-path-is-dir]" in output and "是文件夹，这里要的是文件" in output
        assert not CLICK_ENGLISH.search(output), output


def test_generate_of_several_specs_into_a_file_is_a_usage_error(tmp_path: Path) -> None:
    existing = tmp_path / "t.xlsx"
    existing.write_bytes(b"")
    spec_2022 = ROOT / "specs" / "project_expense_2022.yaml"
    exit_code, output = _run("generate", str(SPEC_2023), str(spec_2022), "-o", str(existing))
    assert exit_code == 2, output
    assert "[usage-output-not-dir]" in output and "internal-error" not in output


def test_chinese_whatever_lang_says(tmp_path: Path) -> None:
    environment = {**os.environ, "LANG": "en_US.UTF-8", "LC_ALL": "en_US.UTF-8", "LANGUAGE": "en"}
    environment["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "xltools.cli", "check", str(tmp_path / "none.xlsx")],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 2
    assert "错误：[usage-file-not-found]" in result.stderr
    assert "does not exist" not in result.stderr


def test_the_chinese_command_line_loads_nothing_heavy() -> None:
    # `xltools check one.xlsx` starts with the CLI module: the catalogue must not cost start-up.
    code = (
        "import sys, xltools.cli; "
        "heavy = {'pandas', 'xlsxwriter', 'openpyxl', 'yaml'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=environment)


# --- YAML slips -------------------------------------------------------------------------------

SLIPS = [
    # (text, line, column, words): the line and column of the slip itself
    ("template: x\ntitle： 项目\nversion: 1\n", 2, 6, "全角冒号“：”"),
    ("template: x\ntitle：项目\n", 2, 6, "全角冒号“：”"),
    ("fields:\n  - id： a\n    label: b\n", 2, 7, "全角冒号“：”"),
    ("sheets:\n  - name: a\n    title： 项目\n    rows: 3\n", 3, 10, "全角冒号“：”"),
    ("f: [{id: a， label: b}]\nnext: 1\n", 1, 11, "全角逗号“，”"),
    ("choices: [是, 否）\nnext: 2\nother: 3\n", 1, 15, "全角括号“）”"),
    ('a: "项目”\nb: 2\nc: 3\n', 1, 7, "中文引号”"),
    ("a:\n\tb: 1\n", 2, 1, "制表符（Tab）"),
    ("a:\n  b: 1\n\t c: 2\n", 3, 1, "制表符（Tab）"),
]


@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
@pytest.mark.parametrize(("text", "line", "column", "words"), SLIPS)
def test_yaml_slip_is_found_on_its_own_line(
    loader: str, text: str, line: int, column: int, words: str
) -> None:
    if not hasattr(yaml, loader):
        pytest.skip(f"PyYAML without {loader}")
    with pytest.raises(yaml.YAMLError) as raised:
        yaml.load(text, Loader=getattr(yaml, loader))  # noqa: S506 - safe loaders only
    slip = explain(raised.value, text)
    assert (slip.line, slip.column) == (line, column), slip
    assert words in slip.message
    assert not re.search(r"expected|found|while|could not", slip.message), slip.message


def test_a_byte_order_mark_and_windows_line_ends_do_not_shift_the_place() -> None:
    text = "\ufefftemplate： x\r\nversion: 1\r\n"
    with pytest.raises(yaml.YAMLError) as raised:
        yaml.safe_load(text)
    assert explain(raised.value, text).where() == ":1:9"


def test_full_width_text_before_the_error_is_not_blamed() -> None:
    # Chinese labels hold "（），" legitimately: only the construct that failed is searched.
    text = "a: 1\nlabel: 资金（万元），合计\nb: [1, 2\nc: 3\n"
    with pytest.raises(yaml.YAMLError) as raised:
        yaml.safe_load(text)
    slip = explain(raised.value, text)
    assert slip.line == 4, slip
    assert "方括号" in slip.message and "从第 3 行开始" in slip.message
    assert "全角" not in slip.message


def _lint(path: Path) -> tuple[int, str]:
    return _run("spec", "lint", str(path))


def test_spec_lint_points_at_the_full_width_colon(tmp_path: Path) -> None:
    lines = SPEC_2023.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(n for n, line in enumerate(lines) if line.startswith("version: "))
    lines[number] = lines[number].replace("version: ", "version： ")
    spec = tmp_path / "spec.yaml"
    spec.write_text("".join(lines), encoding="utf-8")
    code, output = _lint(spec)
    assert code == 1
    assert f"{spec}:{number + 1}:8: [spec-yaml-syntax] YAML 语法错误：" in output, output
    assert "半角冒号加空格“: ”" in output
    assert "could not find" not in output and "mapping values" not in output


def test_spec_lint_points_at_the_tab(tmp_path: Path) -> None:
    text = SPEC_2023.read_text(encoding="utf-8").replace("\n    landscape:", "\n\t  landscape:")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    number = text.splitlines().index("\t  landscape: true") + 1
    code, output = _lint(spec)
    assert code == 1
    assert f"{spec}:{number}:1: [spec-yaml-syntax]" in output, output
    assert "Tab 换成空格" in output


def test_unknown_key_with_a_full_width_colon_says_so(tmp_path: Path) -> None:
    text = SPEC_2023.read_text(encoding="utf-8")
    text = text.replace(
        "{id: department, label: 主管部门, type: text,",
        "{id: department, label: 主管部门, type： text,",
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    _, output = _lint(spec)
    assert "[spec-unknown-key]" in output and "全角冒号" in output, output


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("landscape: true", "landscape: 3", "应是 true 或 false，而不是 3"),
        ("kind: fields", "kind: feilds", '"feilds" 不是可选值之一：'),
        ("template: project_expense_2023\n", "", "缺少必填的键：template"),
        ("type: text, required: true, max_length: 100}", "type: texte, required: true}", "texte"),
    ],
)
def test_schema_problems_are_chinese(tmp_path: Path, old: str, new: str, words: str) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC_2023.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    _, output = _lint(spec)
    schema = [line for line in output.splitlines() if "[spec-schema]" in line]
    assert schema and any(words in line for line in schema), output
    english = re.compile(r"is not (valid|of type|one of)|required property|Additional|unexpected")
    assert not any(english.search(line) for line in schema), schema


def test_fill_data_slip_names_file_line_and_column(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("project_name： 测试\nbudget: 1\n", encoding="utf-8")
    template = tmp_path / "t.xlsx"
    template.write_bytes(b"not read: the data fails first")
    code, output = _run("fill", str(template), str(data), "-o", str(tmp_path / "o.xlsx"))
    assert code == 2
    assert f"{data}:1:13: [fill-yaml-syntax] YAML 语法错误：" in output, output
    assert "全角冒号" in output


def test_yaml_roster_slip_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    roster = tmp_path / "roster.yaml"
    roster.write_text("- bureau_id: a\n\tbureau_name: b\n", encoding="utf-8")
    code, output = _run(
        "generate", str(SPEC_2023), "--roster", str(roster), "-o", str(tmp_path / "out")
    )
    assert code == 1, output
    assert f"{roster}:2:1: [roster-yaml-syntax]" in output, output
    assert "internal-error" not in output


# --- describe ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("describe")
    template, filled = folder / "t.xlsx", folder / "f.xlsx"
    assert _run("generate", str(SPEC_2023), "-o", str(template))[0] == 0
    data = ROOT / "examples" / "project_expense_2023.yaml"
    assert _run("fill", str(template), str(data), "-o", str(filled))[0] == 0
    return filled


def _rows(output: str) -> dict[str, list[str]]:
    return {line.split("\t")[0]: line.split("\t") for line in output.splitlines() if "\t" in line}


def test_describe_speaks_chinese(filled: Path) -> None:
    code, output = _run("describe", str(filled), "--specs", str(ROOT / "specs"))
    assert code == 0, output
    rows = _rows(output)
    assert rows["字段"] == ["字段", "位置", "角色", "类型", "锁定", "标签路径"]
    assert rows["project_name"][2:5] == ["填报", "文本", "可填"]
    assert rows["funds_total_budget"][2:5] == ["计算", "金额（万元）", "锁定"]
    assert rows["funds_total_weight"][2] == "固定"
    for word in ("input", "computed", "fixed", "money", "text", "percent"):
        assert not re.search(rf"\t{word}\b", output), word


def test_describe_values_shows_values_in_the_text(filled: Path) -> None:
    data = yaml.safe_load((ROOT / "examples" / "project_expense_2023.yaml").read_text("utf-8"))
    code, output = _run("describe", str(filled), "--values", "--specs", str(ROOT / "specs"))
    assert code == 0, output
    rows = _rows(output)
    assert rows["字段"][-1] == "当前值"
    assert rows["project_name"][-1] == data["project_name"]
    # a formula shows its last calculated result, a percent as a percent
    assert rows["funds_total_rate"][-1].endswith("%")
    assert not rows["funds_total_budget"][-1].startswith("=")


def test_describe_json_keeps_english_keys_and_values(filled: Path) -> None:
    code, output = _run(
        "describe", str(filled), "--json", "--values", "--specs", str(ROOT / "specs")
    )
    assert code == 0, output
    by_id = {f["id"]: f for f in json.loads(output)["fields"]}
    assert (by_id["project_name"]["role"], by_id["project_name"]["type"]) == ("input", "text")
    assert by_id["funds_total_budget"]["role"] == "computed"
    assert by_id["funds_total_budget"]["value"].startswith("=")
    assert isinstance(by_id["funds_total_budget"]["cached_value"], (int, float))
