"""`xltools spec lint`: every problem with file:line, a stable code and a Chinese message."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from xltools.cli import main
from xltools.spec.lint import lint_file

SPECS = Path(__file__).resolve().parent.parent / "specs"
GOOD = SPECS / "project_expense_2023.yaml"


def _variant(tmp_path: Path, old: str, new: str, name: str = "variant.yaml") -> Path:
    text = GOOD.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def _lint(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["spec", "lint", str(path)])
    return result.exit_code, result.output


def test_bundled_specs_are_clean() -> None:
    paths = sorted(SPECS.glob("*.yaml"))
    assert paths
    result = CliRunner().invoke(main, ["spec", "lint", *map(str, paths)])
    assert result.exit_code == 0, result.output


def test_weights_adding_up_to_95_name_file_and_line(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        "            label: 产出指标\n            weight: 30",
        "            label: 产出指标\n            weight: 25",
    )
    code, output = _lint(path)
    assert code == 1
    # The block declares 90 where its groups add up to 85: the problem stands at the block's
    # weight and names the line of each part, the edited one included.
    assert f"{path}:{_line_of(path, 'weight: 90')}: [spec-weights-mismatch]" in output
    assert f"产出指标 25（第 {_line_of(path, 'weight: 25')} 行）" in output
    assert "85" in output


def test_unknown_reference_names_line_and_suggests(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        '"funds_total_spent <= funds_total_budget"',
        '"funds_total_spnt <= funds_total_budget"',
    )
    code, output = _lint(path)
    assert code == 1
    line = _line_of(path, "- id: funds_spent_over_budget")
    assert f"{path}:{line}: [spec-unknown-reference]" in output
    assert "funds_total_spent" in output  # did you mean


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("{id: department,", "{id: project_name,", "spec-duplicate-id"),
        (
            'formula: "funds_total_weight + ind_weight"',
            'formula: "total_weight + ind_weight"',
            "spec-cycle",
        ),
        (
            "kind: execution_rate, spent: spent",
            "kind: execution_rat, spent: spent",
            "spec-rule-unknown-kind",
        ),
        (
            "kind: execution_rate, spent: spent",
            "kind: execution_rate, spnt: 1, spent: spent",
            "spec-rule-unknown-param",
        ),
        ("- {grade: 良好, min: 80}", "- {grade: 良好, min: 95}", "spec-bad-grade-bands"),
        (
            'assert: "total_weight = 100"',
            'assert: "SUMM(total_weight) = 100"',
            "spec-unknown-function",
        ),
        ('assert: "total_weight = 100"', 'assert: "total_weight = (100"', "spec-expression-syntax"),
        (r'pattern: "(1\\d{10}|', r'pattern: "(1\\d+|', "spec-pattern-unsupported"),
        (
            'assert: "total_weight = 100"',
            'assert: "OR(total_weight = 100, TRUE)"',
            "spec-check-cannot-fail",
        ),
        # a required field in a free row that counts itself as "the row is used"
        (
            'assert: "total_weight = 100"',
            'assert: "OR(COUNTA(phone) = 0, LEN(phone) > 0)"',
            "spec-check-cannot-fail",
        ),
        (
            "type: text, required: true, max_length: 100}",
            "type: texte, required: true, max_length: 100}",
            "spec-schema",
        ),
    ],
)
def test_each_problem_kind_has_its_code(tmp_path: Path, old: str, new: str, code: str) -> None:
    _, problems = lint_file(_variant(tmp_path, old, new))
    assert code in {p.code for p in problems}, [str(p) for p in problems]
    assert all(p.line > 0 for p in problems)


def test_every_check_of_every_spec_can_fail() -> None:
    # the bundled specs and the test specs: each check has an assignment that makes it fail
    paths = sorted(SPECS.glob("*.yaml")) + sorted((Path(__file__).parent / "specs").glob("*.yaml"))
    for path in paths:
        spec, problems = lint_file(path)
        assert spec is not None and spec.checks, path
        assert not [str(p) for p in problems if p.code == "spec-check-cannot-fail"]


def test_a_check_that_cannot_fail_is_named_with_its_line(tmp_path: Path) -> None:
    path = _variant(
        tmp_path, 'assert: "total_weight = 100"', 'assert: "total_weight = total_weight"'
    )
    code, output = _lint(path)
    assert code == 1
    line = _line_of(path, "- id: total_weight_100")
    assert f"{path}:{line}: [spec-check-cannot-fail] 校验 total_weight_100" in output


def test_an_unsupported_pattern_is_named_in_chinese(tmp_path: Path) -> None:
    path = _variant(tmp_path, r'pattern: "(1\\d{10}|', r'pattern: "(1\\d*|')
    code, output = _lint(path)
    assert code == 1
    assert f"{path}:{_line_of(path, 'id: phone')}: [spec-pattern-unsupported] 字段 phone" in output
    assert "不支持 “*”" in output


def test_inline_choice_list_over_255_characters(tmp_path: Path) -> None:
    choices = ", ".join(f"选项{n:03d}很长很长" for n in range(40))
    path = _variant(
        tmp_path,
        "{id: unit_name, label: 实施单位, type: text,",
        f"{{id: unit_name, label: 实施单位, type: choice, choices: [{choices}],",
    )
    _, problems = lint_file(path)
    assert "spec-choice-list-too-long" in {p.code for p in problems}


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, output = _lint(tmp_path / "nope.yaml")
    assert code == 2
    assert "找不到规范文件" in output


def test_yaml_syntax_error_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("template: x\nversion: [1\n", encoding="utf-8")
    code, output = _lint(path)
    assert code == 1
    assert "[spec-yaml-syntax]" in output


SCORING = SPECS / "scoring_sheet_medical_aid.yaml"


@pytest.mark.parametrize(
    "old, new, code",
    [
        (
            "                        weight: 2\n",
            "                        weight: 五\n",
            "spec-preset-type",
        ),
        (
            "{key: weight, label: 分值, type: number, input: false}",
            "{key: weight, label: 分值, type: number, input: false, max: 1.5}",
            "spec-preset-out-of-range",
        ),
        (
            "{key: standard, label: 标准值, type: text, input: false, lines: 2}",
            "{key: standard, label: 标准值, type: text, input: false, lines: 2, max_length: 10}",
            "spec-preset-out-of-range",
        ),
    ],
)
def test_a_preset_value_is_held_to_its_column(
    tmp_path: Path, old: str, new: str, code: str
) -> None:
    """Lint used to accept ``weight: 五``: written as text into a number cell, it failed in every
    return. Now the preset itself is named, at its own line."""
    text = SCORING.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "scoring.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    exit_code, output = _lint(path)
    assert exit_code == 1, output
    first_preset = _line_of(path, "weight: 五") if "五" in new else None
    lines = [line for line in output.splitlines() if f"[{code}]" in line]
    assert lines, output
    assert all(line.startswith(f"{path}:") for line in lines)
    if first_preset is not None:
        assert lines[0].startswith(f"{path}:{first_preset}: [{code}]")
        assert "“五”" in lines[0] and "阿拉伯数字" in lines[0]


def test_did_you_mean_prefers_the_rows_own_cells(tmp_path: Path) -> None:
    """A typo on a repeating row meant that row's own column, not a total elsewhere."""
    text = SCORING.read_text(encoding="utf-8")
    assert "weight: weight}" in text
    path = tmp_path / "typo.yaml"
    path.write_text(text.replace("weight: weight}", "weight: wieght}"), encoding="utf-8")
    exit_code, output = _lint(path)
    assert exit_code == 1
    lines = [line for line in output.splitlines() if "[spec-unknown-reference]" in line]
    assert lines and all("是否想写本行的 “weight”" in line for line in lines), lines
    assert "ind_weight" not in output


def test_bad_ids_and_params_are_named_not_crashed_on() -> None:
    """A bad block id or group key reached the builder's generated formulas, and a rule's
    ``params: abc`` was called like a mapping: both ended in an internal error."""
    path = Path(__file__).parent / "data" / "bad_ids_and_params.yaml"
    code, output = _lint(path)
    assert code == 1, output
    assert "internal-error" not in output
    assert output.count("[spec-bad-id]") == 2 and "[spec-rule-bad-setting]" in output
