"""Specs written as workbooks: every bundled spec exported and imported gives the same spec,
the same built model and a template with the same names, formulas and validations; broken
workbooks are answered sheet by sheet, row by row, in Chinese, never with a traceback."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from xltools.cli import main
from xltools.generate import generate_template
from xltools.generate.content import workbook_content
from xltools.spec import Spec, load_spec
from xltools.spec.workbook import export_spec, plain, read_workbook_spec
from xltools.spec.workbook import layout as L
from xltools.spec.workbook.import_ import import_workbook

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "tests" / "specs").glob("*.yaml"))
IDS = [p.stem for p in SPECS]


def _export(spec_path: Path, tmp_path: Path) -> Path:
    target = tmp_path / f"{spec_path.stem}.xlsx"
    assert export_spec(spec_path, target) == []
    return target


# ---- the round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec_path", SPECS, ids=IDS)
def test_round_trip_gives_the_same_spec_data(spec_path: Path, tmp_path: Path) -> None:
    imported = import_workbook(_export(spec_path, tmp_path))
    assert imported.problems == []
    original = yaml.safe_load(spec_path.read_text(encoding="utf-8"))  # comments gone
    assert plain(imported.data) == original
    # and the YAML it writes reads back as the same data
    read = read_workbook_spec(tmp_path / f"{spec_path.stem}.xlsx")
    assert read.yaml_text is not None
    assert yaml.safe_load(read.yaml_text) == original


def _field_model(spec: Spec) -> dict[str, Any]:
    return {
        field_id: {k: v for k, v in dataclasses.asdict(field).items() if k != "line"}
        for field_id, field in spec.fields.items()
    }


@pytest.mark.parametrize("spec_path", SPECS, ids=IDS)
def test_round_trip_builds_the_same_model(spec_path: Path, tmp_path: Path) -> None:
    original = load_spec(spec_path)
    read = read_workbook_spec(_export(spec_path, tmp_path))
    assert read.problems == []
    assert read.spec is not None
    again = read.spec
    assert _field_model(again) == _field_model(original)
    assert [(c.id, c.severity, c.message, c.source, c.cells, c.code) for c in again.checks] == [
        (c.id, c.severity, c.message, c.source, c.cells, c.code) for c in original.checks
    ]
    assert again.grade_bands == original.grade_bands
    assert again.choice_lists == original.choice_lists
    assert (again.template, again.version, again.title, again.year) == (
        original.template,
        original.version,
        original.title,
        original.year,
    )
    assert (again.accepts, again.previous, again.old_versions, again.obtain) == (
        original.accepts,
        original.previous,
        original.old_versions,
        original.obtain,
    )


_STAMPS = {"spec_sha256", "fingerprint", "issued_at", "generator"}


def _template(spec: Spec, path: Path) -> dict[str, Any]:
    generate_template(spec, path)
    content = workbook_content(path)
    meta = content["sheets"]["_xltools"]["cells"]
    for coordinate in [c for c in meta if c.startswith("A") and meta[c][0] in _STAMPS]:
        meta.pop("B" + coordinate[1:], None)
    return content


@pytest.mark.parametrize("spec_path", SPECS, ids=IDS)
def test_round_trip_generates_the_same_template(spec_path: Path, tmp_path: Path) -> None:
    read = read_workbook_spec(_export(spec_path, tmp_path))
    assert read.spec is not None
    expected = _template(load_spec(spec_path), tmp_path / "from_yaml.xlsx")
    found = _template(read.spec, tmp_path / "from_workbook.xlsx")
    assert found["names"] == expected["names"]
    for title, sheet in expected["sheets"].items():
        assert found["sheets"][title]["validations"] == sheet["validations"], title
        assert found["sheets"][title]["cells"] == sheet["cells"], title  # formulas included
    assert found == expected


# ---- the exported workbook ----------------------------------------------------------------------


def test_exported_workbook_has_its_sheets_dropdowns_and_prompts(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(_export(ROOT / "specs" / "project_expense_2023.yaml", tmp_path))
    assert book.sheetnames == list(L.SHEETS)
    fields = book[L.FIELDS]
    assert fields.freeze_panes == "A2"
    headers = [c.value for c in fields[1]]
    lists = {
        headers[
            openpyxl.utils.cell.column_index_from_string(str(v.sqref).split(":")[0][:-1]) - 1
        ]: v.formula1
        for v in fields.data_validations.dataValidation
        if v.type == "list"
    }
    assert {"类别", "区块类型", "类型", "必填", "填报"} <= set(lists)
    assert "金额" in lists["类型"] and "指标表" in lists["区块类型"]
    prompts = [v.prompt for v in fields.data_validations.dataValidation if v.prompt]
    assert any("小写字母" in p for p in prompts)
    levels = [v for v in book[L.INDICATORS].data_validations.dataValidation if v.type == "list"]
    assert levels and "行" in str(levels[0].formula1)
    assert [c.value for c in book[L.INDICATORS][1]][:3] == ["指标表", "层级", "编号"]


def test_an_unknown_key_is_not_exported_silently(tmp_path: Path) -> None:
    source = (ROOT / "specs" / "project_expense_2023.yaml").read_text(encoding="utf-8")
    spec_path = tmp_path / "odd.yaml"
    spec_path.write_text(
        source.replace("max_length: 60}", "max_length: 60, colour: red}", 1), encoding="utf-8"
    )
    line = next(
        n for n, text in enumerate(source.splitlines(), start=1) if "max_length: 60}" in text
    )
    result = CliRunner().invoke(
        main, ["spec", "export", str(spec_path), "-o", str(tmp_path / "x.xlsx")]
    )
    assert result.exit_code == 1
    assert f"{spec_path}:{line}: [spec-export-unsupported]" in result.output
    assert "colour" in result.output
    assert not (tmp_path / "x.xlsx").exists()


# ---- broken workbooks ---------------------------------------------------------------------------


def _edit(workbook: Path, sheet: str, find: dict[str, Any], change: dict[str, Any]) -> int:
    """Set ``change`` (header → value) in the first row of ``sheet`` matching ``find``; the
    row's number."""
    book = openpyxl.load_workbook(workbook)
    rows = book[sheet]
    headers = [c.value for c in rows[1]]
    for row in rows.iter_rows(min_row=2):
        values = {h: c.value for h, c in zip(headers, row, strict=False)}
        if all(values.get(h) == v for h, v in find.items()):
            for header, value in change.items():
                row[headers.index(header)].value = value
            book.save(workbook)
            return row[0].row
    raise AssertionError(find)


def _problems(workbook: Path) -> list[str]:
    return [str(p) for p in read_workbook_spec(workbook).problems]


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    return _export(ROOT / "specs" / "project_expense_2023.yaml", tmp_path)


def test_unknown_type_is_named_by_sheet_row_and_column(exported: Path) -> None:
    row = _edit(exported, L.FIELDS, {"编号": "department"}, {"类型": "文字型"})
    (problem,) = _problems(exported)
    assert f"[spec-import-bad-cell] 「字段」表第 {row} 行“类型”列：“文字型” 不是可选的值" in problem
    assert "金额" in problem  # says what it may be


def test_level_that_skips_one_is_reported(exported: Path) -> None:
    row = _edit(exported, L.INDICATORS, {"编号": "quality"}, {"层级": 4})
    problems = _problems(exported)
    assert any(
        f"[spec-import-level-skipped] 「指标」表第 {row} 行“层级”列：第 4 级分组不能跳级" in p
        for p in problems
    ), problems


def test_weight_that_is_not_a_number_and_a_missing_id_are_both_reported(exported: Path) -> None:
    weight_row = _edit(exported, L.INDICATORS, {"编号": "benefit"}, {"分组分值": "三十"})
    id_row = _edit(exported, L.FIELDS, {"编号": "unit_name"}, {"编号": None})
    problems = _problems(exported)
    assert any(
        f"「指标」表第 {weight_row} 行“分组分值”列：“三十” 不是数值" in p for p in problems
    ), problems
    assert any(
        f"[spec-import-missing-id] 「字段」表第 {id_row} 行“编号”列" in p for p in problems
    ), problems


def test_lint_problems_point_at_sheet_and_row(exported: Path) -> None:
    row = _edit(
        exported, L.FIELDS, {"编号": "total_weight"}, {"公式": "funds_total_wieght + ind_weight"}
    )
    problems = _problems(exported)
    assert any(
        f"[spec-unknown-reference] 「字段」表第 {row} 行" in p and "funds_total_weight" in p
        for p in problems
    ), problems


def test_empty_and_non_xlsx_files_are_refused_in_chinese(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty)
    text = tmp_path / "notes.xlsx"
    text.write_text("这不是工作簿", encoding="utf-8")
    assert "[spec-import-missing-sheet]" in _problems(empty)[0]
    assert "[spec-import-not-xlsx]" in _problems(text)[0]
    for path in (empty, text):
        for command in (
            ["spec", "import", str(path), "-o", str(tmp_path / "x.yaml")],
            ["generate", str(path), "-o", str(tmp_path / "t.xlsx")],
            ["spec", "lint", str(path)],
        ):
            result = CliRunner().invoke(main, command)
            assert result.exit_code == 1, result.output
            assert (
                "Traceback" not in result.output
                and result.exception is None
                or isinstance(result.exception, SystemExit)
            )
            assert "规范工作簿" in result.output or "工作表" in result.output
    assert not (tmp_path / "x.yaml").exists() and not (tmp_path / "t.xlsx").exists()


# ---- the commands -------------------------------------------------------------------------------


def test_export_import_generate_from_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    workbook, spec_yaml = tmp_path / "规范.xlsx", tmp_path / "规范.yaml"
    spec_path = ROOT / "specs" / "scoring_sheet_medical_aid.yaml"
    assert (
        runner.invoke(main, ["spec", "export", str(spec_path), "-o", str(workbook)]).exit_code == 0
    )
    result = runner.invoke(main, ["spec", "import", str(workbook), "-o", str(spec_yaml)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(spec_yaml.read_text(encoding="utf-8")) == yaml.safe_load(
        spec_path.read_text(encoding="utf-8")
    )
    assert runner.invoke(main, ["spec", "lint", str(workbook), str(spec_yaml)]).exit_code == 0
    out = tmp_path / "templates"
    result = runner.invoke(main, ["generate", str(workbook), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "scoring_sheet_medical_aid_v1.xlsx").is_file()


def test_generate_takes_a_hand_edited_workbook(exported: Path, tmp_path: Path) -> None:
    _edit(exported, L.FIELDS, {"编号": "department"}, {"名称": "主管部门（全称）"})
    book = openpyxl.load_workbook(exported)
    fields = book[L.FIELDS]
    headers = [c.value for c in fields[1]]
    # a new field after 实施单位: one row, typed by hand
    at = next(r[0].row for r in fields.iter_rows(min_row=2) if r[1].value == "unit_name") + 1
    fields.insert_rows(at)
    for header, value in {
        "类别": "字段",
        "编号": "contact_mail",
        "名称": "电子邮箱",
        "类型": "文本",
        "最大长度": 60,
    }.items():
        fields.cell(row=at, column=headers.index(header) + 1, value=value)
    book.save(exported)
    target = tmp_path / "edited.xlsx"
    result = CliRunner().invoke(main, ["generate", str(exported), "-o", str(target)])
    assert result.exit_code == 0, result.output
    template = openpyxl.load_workbook(target)
    assert "contact_mail" in template.defined_names
    form = template[template.sheetnames[0]]
    labels = {c.value for row in form.iter_rows() for c in row if isinstance(c.value, str)}
    assert "主管部门（全称）" in labels and "电子邮箱" in labels


_JUNK = ["", "abc", 3.5, 0, -1, "{", "{a: [", "[1, 2", "行", "区块", "表页", "字段", "列", "单元格",
         True, "是", "指标表", "列表", "1", 2, 5, "ind", "funds", "{x: 1}", "[a, b]", "=SUM(a)",
         "standard", '""', "text", "金额", "项目", "值", None]  # fmt: skip


def test_edited_at_random_a_workbook_gives_problems_with_places_never_a_crash(
    tmp_path: Path,
) -> None:
    import random

    draw = random.Random(13)
    sources = {p.stem: _export(p, tmp_path) for p in SPECS}
    for attempt in range(40):
        book = openpyxl.load_workbook(sources[draw.choice(sorted(sources))])
        for _ in range(draw.randint(1, 5)):
            sheet = draw.choice(book.worksheets[1:])
            row, column = draw.randint(1, sheet.max_row + 1), draw.randint(1, sheet.max_column + 1)
            if draw.random() < 0.1:
                sheet.delete_rows(row)
            else:
                sheet.cell(row=row, column=column, value=draw.choice(_JUNK))
        edited = tmp_path / f"edited_{attempt}.xlsx"
        book.save(edited)
        for problem in read_workbook_spec(edited).problems:  # never raises
            assert "「" in problem.message or problem.message.startswith("工作簿"), problem


def test_import_writes_the_yaml_of_a_workbook_lint_complains_about(
    exported: Path, tmp_path: Path
) -> None:
    row = _edit(exported, L.INDICATORS, {"编号": "output"}, {"分组分值": 35})
    target = tmp_path / "spec.yaml"
    result = CliRunner().invoke(main, ["spec", "import", str(exported), "-o", str(target)])
    assert result.exit_code == 1
    assert "[spec-weights-mismatch]" in result.output and "「" in result.output
    assert (
        yaml.safe_load(target.read_text(encoding="utf-8"))["sheets"][0]["blocks"][3]["groups"][0][
            "weight"
        ]
        == 35
    )
    assert row > 1


def test_a_new_group_key_is_one_line_of_the_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How the indicator language grows: a key the layout does not know is refused at export;
    one ``Col`` in ``GROUP_COLUMNS`` and it goes there and back."""
    source = (ROOT / "specs" / "project_expense_2023.yaml").read_text(encoding="utf-8")
    spec_path = tmp_path / "new_key.yaml"
    spec_path.write_text(
        source.replace("label: 产出指标\n", "label: 产出指标\n            highlight: false\n", 1),
        encoding="utf-8",
    )
    workbook = tmp_path / "new_key.xlsx"
    (problem,) = export_spec(spec_path, workbook)
    assert problem.code == "spec-export-unsupported" and "highlight" in problem.message
    columns = (*L.GROUP_COLUMNS, L.Col("突出显示", "highlight", "bool", "是：这一组突出显示", 6))
    monkeypatch.setattr(L, "GROUP_COLUMNS", columns)
    assert export_spec(spec_path, workbook) == []
    imported = import_workbook(workbook)
    assert imported.problems == []
    assert plain(imported.data) == yaml.safe_load(spec_path.read_text(encoding="utf-8"))


@pytest.mark.libreoffice
def test_a_workbook_saved_by_libreoffice_imports_the_same(tmp_path: Path) -> None:
    """An officer who edits the workbook in LibreOffice (or WPS) saves it with that
    application's own XML: it reads back as the same spec."""
    from xltools.libreoffice import resave

    chosen = [
        ROOT / "specs" / "scoring_sheet_medical_aid.yaml",
        ROOT / "tests" / "specs" / "custom_rule.yaml",
    ]
    exported = [_export(p, tmp_path) for p in chosen]
    for spec_path, saved in zip(chosen, resave(exported, tmp_path / "saved"), strict=True):
        imported = import_workbook(saved)
        assert imported.problems == []
        assert plain(imported.data) == yaml.safe_load(spec_path.read_text(encoding="utf-8"))


def test_preset_rows_of_a_list_and_an_empty_preset_indicator_row_go_there_and_back(
    tmp_path: Path,
) -> None:
    source = (ROOT / "tests" / "specs" / "custom_rule.yaml").read_text(encoding="utf-8")
    presets = "rows:\n          - {content: 差旅费}\n          - {}\n          - {content: 会议费, amount: {min: 10}}"
    spec_path = tmp_path / "list_presets.yaml"
    source = source.replace("rows: 4", presets, 1)
    indicator = "score: {rule: {kind: positive_target}}}\n"
    assert indicator in source
    source = source.replace(indicator, indicator + "              - {}\n", 1)  # an empty one
    spec_path.write_text(source, encoding="utf-8")
    read = read_workbook_spec(_export(spec_path, tmp_path))
    assert read.problems == [] and read.spec is not None and read.yaml_text is not None
    assert yaml.safe_load(read.yaml_text) == yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    expected = _template(load_spec(spec_path), tmp_path / "from_yaml.xlsx")
    assert _template(read.spec, tmp_path / "from_workbook.xlsx") == expected
