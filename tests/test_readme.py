"""The README's examples are true: its complete spec example is the spec the suite tests, and
every command it shows names a real command and real options."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from xltools.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.S | re.M)


# `xltools check one.xlsx` in the prose, after an optional `NAME=value` environment setting
_INLINE = re.compile(r"`(?:[A-Z_]+=\S+ )?((?:xltools|python3) [^`\n]+)`")


def _commands(program: str) -> list[list[str]]:
    """Each command that runs ``program``, from the console blocks (comments and line
    continuations removed; ``a && b`` split) and from the prose, as words; unique."""
    lines = [
        part
        for block in _blocks("console")
        for line in block.replace("\\\n", " ").splitlines()
        for part in line.split("#", 1)[0].split("&&")
    ]
    lines += [span.replace("\\|", "|") for span in _INLINE.findall(README)]
    found: dict[str, list[str]] = {}
    for line in lines:
        words = shlex.split(line)
        if words[:1] == [program]:
            found.setdefault(" ".join(words), words)
    return list(found.values())


def test_the_complete_example_is_the_tested_spec() -> None:
    section = README.split("### A complete example", 1)[1]
    example = re.search(r"^```yaml\n(.*?)^```", section, flags=re.S | re.M)
    assert example is not None
    tested = (ROOT / "tests" / "specs" / "custom_rule.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(example.group(1)) == yaml.safe_load(tested)


XLTOOLS = _commands("xltools")


def test_the_readme_shows_xltools_commands() -> None:
    assert {words[1] for words in XLTOOLS} >= {"demo", "merge", "render"}


@pytest.mark.parametrize("words", XLTOOLS, ids=[" ".join(w) for w in XLTOOLS])
def test_each_xltools_command_and_option_exists(words: list[str]) -> None:
    command = words[1:3] if words[1] == "spec" else words[1:2]
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    for option in (w for w in words if w.startswith("--")):
        assert option in result.output, (option, words)


PYTHON = _commands("python3")


@pytest.mark.parametrize("words", PYTHON, ids=[" ".join(w[:2]) for w in PYTHON])
def test_each_python_command_names_a_script_and_its_options(words: list[str]) -> None:
    if words[1] == "-m":  # python3 -m pip …
        return
    script = ROOT / words[1]
    assert script.is_file(), words
    source = script.read_text(encoding="utf-8")
    for option in (w for w in words if w.startswith("--")):
        assert f'"{option}"' in source, (option, words)


def _excel_example() -> dict[str, list[list[str]]]:
    """The sheets of the README's workbook example: a sheet name, a blank line, its table."""
    section = README.split("### 在 Excel 里写规范", 1)[1].split("\n## ", 1)[0]
    tables = {}
    for name, body in re.findall(r"^(\S+)\n\n((?:\|.*\|\n)+)", section, flags=re.M):
        rows = [
            [c.strip() for c in line.strip().strip("|").split("|")] for line in body.splitlines()
        ]
        tables[name] = [row for row in rows if not set("".join(row)) <= {"-"}]
    return tables


def test_the_excel_example_is_a_spec_that_generates(tmp_path: Path) -> None:
    import openpyxl

    from xltools.spec.workbook import read_workbook_spec

    tables = _excel_example()
    assert list(tables) == ["基本信息", "字段", "指标", "校验", "等次"]
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in tables.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append([int(c) if c.isdigit() else (c or None) for c in row])
    workbook = tmp_path / "培训项目规范.xlsx"
    book.save(workbook)
    read = read_workbook_spec(workbook)
    assert read.problems == []
    section = README.split("### 在 Excel 里写规范", 1)[1]
    shown = re.search(r"^```yaml\n(.*?)^```", section, flags=re.S | re.M)
    assert shown is not None and read.yaml_text is not None
    assert yaml.safe_load(read.yaml_text) == yaml.safe_load(shown.group(1))
    template = tmp_path / "模板.xlsx"
    result = CliRunner().invoke(main, ["generate", str(workbook), "-o", str(template)])
    assert result.exit_code == 0, result.output
    names = openpyxl.load_workbook(template).defined_names
    assert {"unit_name", "rate", "ind_output_quantity_2_score", "total", "grade"} <= set(names)
