"""`xltools report`: the 自评报告 of every bundled template, read back with python-docx, its
figures compared with the checker's recomputation to the cent."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from report_reading import as_number, body, first_page, full_text, headings, tables

from xltools.check.run import check_file
from xltools.cli import main
from xltools.fill import fill_workbook
from xltools.generate import generate_template
from xltools.registry import Registry
from xltools.report.layout import layout_report
from xltools.report.return_report import indicator_rows, report_title
from xltools.spec import Spec, load_spec
from xltools.spec.model import IndicatorBlock, TableBlock

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
SECTIONS = (
    "一、基本情况",
    "（一）项目概况",
    "（二）资金投入和使用情况",
    "二、绩效目标",
    "三、自评情况",
    "四、偏差原因及改进措施",
    "五、问题与建议",
)


def _example(spec: Spec) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "examples" / f"{spec.template}.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def returns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Spec, Path]]:
    """Every bundled template generated and filled with its example, as a unit returns it."""
    folder = tmp_path_factory.mktemp("returns")
    found = {}
    for path in SPECS:
        spec = load_spec(path)
        template = folder / f"{spec.template}_template.xlsx"
        generate_template(spec, template)
        filled = folder / f"{spec.template}.xlsx"
        assert fill_workbook(template, spec, _example(spec), filled) == []
        found[spec.template] = (spec, filled)
    return found


def _report(source: Path, target: Path) -> Any:
    result = CliRunner().invoke(
        main, ["report", str(source), "-o", str(target), "--specs", str(ROOT / "specs")]
    )
    assert "Traceback" not in result.output
    return result


def _values(source: Path) -> dict[str, Any]:
    report, _ = check_file(source, Registry.load(ROOT / "specs"))
    return report.values


def _shown(value: Any, kind: str) -> float | None:
    """What the report must show for a recomputed value, to the cent (percents in percent)."""
    if value is None or isinstance(value, str):
        return None
    return round(float(value) * (100 if kind == "percent" else 1), 2)


def _parsed(text: str, kind: str) -> float | None:
    number = as_number(text)
    if number is None:
        return None
    return round(number * (100 if kind == "percent" else 1), 2)


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_report_of_every_template_shows_the_checkers_figures(
    spec_path: Path, returns: dict[str, tuple[Spec, Path]], tmp_path: Path
) -> None:
    spec, source = returns[spec_path.stem]
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    target = tmp_path / "自评报告.docx"
    result = _report(source, target)
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before  # input untouched
    values = _values(source)
    found = headings(target)
    for section in SECTIONS:
        assert section in found
    text = full_text(target)
    assert report_title(spec) in text
    assert "【待填写：" in text
    for field_id in spec.fields:
        if "_" in field_id:
            assert field_id not in text  # Chinese labels, never internal ids
    layout = layout_report(spec)
    docx_tables = tables(target)
    compared = 0
    for block in layout.funds:
        if not isinstance(block, TableBlock):
            continue
        header = [block.corner or "项目", *(c.label for c in block.columns)]
        table = next(t for t in docx_tables if t[0] == header and t[1][0] == block.rows[0].label)
        for r, row in enumerate(block.rows, start=1):
            assert table[r][0] == row.label
            for c, column in enumerate(block.columns, start=1):
                field_id = block.cells.get((row.key, column.key))
                if field_id is None:
                    assert table[r][c] == ""
                    continue
                kind = spec.fields[field_id].type
                assert _parsed(table[r][c], kind) == _shown(values.get(field_id), kind), (
                    field_id,
                    table[r][c],
                )
                compared += 1
    for block in layout.indicators:
        if not isinstance(block, IndicatorBlock):
            continue
        table = next(t for t in docx_tables if t[0][: len(block.levels)] == block.levels)
        header = table[0]
        expected = list(indicator_rows(block, values))
        assert len(table) - 1 == len(expected)
        for shown, (_, row) in zip(table[1:], expected, strict=True):
            for key, label in (("weight", "分值"), ("score", "得分"), ("score", "自评分值")):
                if key in row and label in header:
                    assert _parsed(shown[header.index(label)], "number") == _shown(
                        values[row[key]], "number"
                    )
                    compared += 1
    if layout.total_id:
        scores = next(t for t in docx_tables if t[0] == ["评分项目", "分值", "得分"])
        assert _parsed(scores[-1][2], "number") == _shown(values[layout.total_id], "number")
        assert f"评价等次为“{values[layout.grade_id]}”" in text
        compared += 1
    assert compared > 0 or not layout.funds
    # a valid return has no notice before its first heading
    before, _ = first_page(target)
    assert not any("检查未通过" in getattr(item, "text", "") for item in before)


def test_report_of_basic_data_fills_every_fund_table(
    returns: dict[str, tuple[Spec, Path]], tmp_path: Path
) -> None:
    """The data sheet is not scored: its report says so, and its money lists carry the figures."""
    spec, source = returns["department_basic_data"]
    target = tmp_path / "基础数据.docx"
    assert _report(source, target).exit_code == 0
    text = full_text(target)
    assert "不评分" in text
    values = _values(source)
    special = next(t for t in tables(target) if t[0][:2] == ["专项名称", "2022年决算数"])
    block = next(b for b in layout_report(spec).funds if getattr(b, "id", "") == "special")
    used = [row for row in block.rows if values.get(row["name"])]
    assert len(special) - 1 == len(used) > 0
    for shown, row in zip(special[1:], used, strict=True):
        assert shown[0] == values[row["name"]]
        for n, column in enumerate(block.columns[1:], start=1):
            assert _parsed(shown[n], "money") == _shown(values.get(row[column.key]), "money")


def test_report_uses_recomputed_values_never_the_cached_results(
    returns: dict[str, tuple[Spec, Path]], tmp_path: Path
) -> None:
    """A computed cell typed over (999 in 年度资金总额·全年执行数): the report shows what the
    inputs give, and its first page says the return has errors."""
    import openpyxl

    spec, source = returns["project_expense_2023"]
    workbook = openpyxl.load_workbook(source)
    sheet_name, ref = next(iter(workbook.defined_names["funds_total_spent"].destinations))
    sheet = workbook[sheet_name]
    sheet.protection.sheet = False
    sheet[ref.replace("$", "")].value = 999
    changed = tmp_path / "改写.xlsx"
    workbook.save(changed)
    target = tmp_path / "改写.docx"
    result = _report(changed, target)
    assert result.exit_code == 1  # written, but the return has errors
    assert target.is_file()
    funds = next(t for t in tables(target) if t[0][:2] == ["项目", "年初预算数"])
    spent = funds[0].index("全年执行数")
    assert as_number(funds[1][spent]) == 124.01  # the sum of its 其中 rows, not the 999 typed
    assert "999" not in funds[1][spent]
    before, broken = first_page(target)
    assert broken
    assert any("检查未通过" in getattr(item, "text", "") for item in before)


def test_return_with_errors_has_its_findings_on_the_first_page(
    returns: dict[str, tuple[Spec, Path]], tmp_path: Path
) -> None:
    spec, _ = returns["project_expense_2023"]
    data = dict(_example(spec), ind_output_quantity_1_actual="全覆盖", funds_current_spent=130)
    data.pop("phone", None)
    template = tmp_path / "template.xlsx"
    generate_template(spec, template)
    careless = tmp_path / "粗心.xlsx"
    assert fill_workbook(template, spec, data, careless) == []
    target = tmp_path / "粗心.docx"
    result = _report(careless, target)
    assert result.exit_code == 1
    report, _ = check_file(careless, Registry.load(ROOT / "specs"))
    errors = [f for f in report.findings if f.severity == "error"]
    assert errors
    before, broken = first_page(target)
    assert broken, "the notice and findings end with a page break before 一、基本情况"
    notice = "\n".join(
        getattr(item, "text", "")
        if not hasattr(item, "rows")
        else "\n".join("|".join(c.text for c in r.cells) for r in item.rows)
        for item in before
    )
    assert f"错误 {len(errors)} 个" in notice
    for finding in errors:
        assert finding.code in notice
        assert finding.message.splitlines()[0][:20] in notice
    # the score is the recomputed one of the careless figures
    scores = next(t for t in tables(target) if t[0] == ["评分项目", "分值", "得分"])
    assert as_number(scores[-1][2]) == round(report.total or 0, 2)


def test_blank_return_says_so_first(returns: dict[str, tuple[Spec, Path]], tmp_path: Path) -> None:
    spec = load_spec(ROOT / "specs" / "department_overall.yaml")
    template = tmp_path / "空白.xlsx"
    generate_template(spec, template)
    target = tmp_path / "空白.docx"
    assert _report(template, target).exit_code == 1
    before, broken = first_page(target)
    assert broken
    assert any("此表未填写" in getattr(item, "text", "") for item in before)


def test_placeholders_are_shaded(returns: dict[str, tuple[Spec, Path]], tmp_path: Path) -> None:
    _, source = returns["project_expense_2023"]
    target = tmp_path / "r.docx"
    assert _report(source, target).exit_code == 0
    marked = [p for p in body(target) if getattr(p, "text", "").startswith("【待填写：")]
    assert len(marked) >= 5
    for paragraph in marked:
        assert "w:shd" in paragraph._p.xml


def test_not_a_workbook_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "邮件.xlsx"
    junk.write_bytes("这是一封邮件正文".encode())
    target = tmp_path / "r.docx"
    result = _report(junk, target)
    assert result.exit_code == 1
    assert "[report-not-a-return]" in result.output
    assert "[read-not-a-zip]" in result.output
    assert not target.exists()


def test_output_must_be_docx(returns: dict[str, tuple[Spec, Path]], tmp_path: Path) -> None:
    _, source = returns["project_expense_2023"]
    result = _report(source, tmp_path / "r.pdf")
    assert result.exit_code == 2
    assert "[usage-output-not-docx]" in result.output


def test_unwritable_output_is_a_clear_error(
    returns: dict[str, tuple[Spec, Path]], tmp_path: Path
) -> None:
    _, source = returns["project_expense_2023"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _report(source, blocker / "r.docx")
    assert result.exit_code == 1
    assert "[report-write-failed]" in result.output


# ---- merge --report: the 汇总报告 ------------------------------------------------------------


@pytest.fixture(scope="module")
def merged(
    returns: dict[str, tuple[Spec, Path]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any], Path]:
    """Every bundled return, a careless copy (superseded), a blank template and a junk file
    (rejected), merged with --report: (the report, merge's --json, the returns folder)."""
    import json
    import shutil

    folder = tmp_path_factory.mktemp("merge")
    inbox = folder / "returned"
    inbox.mkdir()
    for _, source in returns.values():
        shutil.copy(source, inbox / source.name)
    spec, _ = returns["project_expense_2023"]
    data = dict(_example(spec), ind_output_quantity_1_actual="全覆盖")
    template = folder / "t.xlsx"
    generate_template(spec, template)
    assert fill_workbook(template, spec, data, inbox / "粗心.xlsx") == []
    low = dict(
        _example(spec), ind_output_quality_1_actual=0.2, ind_output_quality_1_reason="未达标"
    )
    for key in [k for k in low if k.endswith("_self_score")]:  # every qualitative row 未达成
        low[key] = 1
        low[key.removesuffix("self_score") + "level"] = "未达成"
        low[key.removesuffix("self_score") + "reason"] = "未完成"
    low.update(unit_name="某某县医疗保障局", project_name="低分项目")
    assert fill_workbook(template, spec, low, inbox / "低分.xlsx") == []
    generate_template(load_spec(ROOT / "specs" / "department_overall.yaml"), inbox / "空白.xlsx")
    (inbox / "不是工作簿.xlsx").write_bytes(b"not a workbook")
    report = folder / "汇总报告.docx"
    result = CliRunner().invoke(
        main,
        ["merge", str(inbox), "-o", str(folder / "汇总.xlsx"), "--report", str(report),
         "--json", "--workers", "1", "--specs", str(ROOT / "specs")],
    )  # fmt: skip
    assert result.exit_code == 1, result.output  # two files rejected
    return report, json.loads(result.stdout), inbox


def test_summary_report_counts_are_merges_own(merged: tuple[Path, dict[str, Any], Path]) -> None:
    report, accounting, _ = merged
    counts = next(t for t in tables(report) if t[0] == ["项目", "份数"])
    shown = {row[0]: int(row[1]) for row in counts[1:]}
    assert shown["收到的文件"] == accounting["inputs"] == 11
    assert shown["采纳"] == accounting["accepted"]
    assert shown["被替代（同一单位另有一份被采纳）"] == accounting["superseded"] == 1
    assert shown["未采纳"] == accounting["rejected"] == 2
    text = full_text(report)
    assert (
        f"输入 {accounting['inputs']} 个文件：采纳 {accounting['accepted']}，被替代 1，未采纳 2"
        in text
    )
    listed = next(t for t in tables(report) if t[0] == ["文件", "状态", "原因"])
    assert len(listed) - 1 == len(accounting["not_accepted"])
    for row, expected in zip(listed[1:], accounting["not_accepted"], strict=True):
        assert row[0] == Path(expected["file"]).name
        assert f"[{expected['code']}]" in row[2]
    for heading in ("一、收文情况", "二、评价等次与得分分布", "三、得分排名", "五、常见问题"):
        assert heading in headings(report)


def test_summary_report_scores_are_the_checkers(merged: tuple[Path, dict[str, Any], Path]) -> None:
    import docx

    report, accounting, inbox = merged
    registry = Registry.load(ROOT / "specs")
    not_accepted = {Path(r["file"]).name for r in accounting["not_accepted"]}
    checked = [
        check_file(path, registry)[0]
        for path in sorted(inbox.glob("*.xlsx"))
        if path.name not in not_accepted
    ]
    totals = sorted((round(r.total, 2) for r in checked if r.total is not None), reverse=True)
    ranking = next(t for t in tables(report) if t[0][:2] == ["名次", "单位"])
    assert [as_number(row[4]) for row in ranking[1:]] == totals
    grades = next(t for t in tables(report) if t[0] == ["评价等次", "份数"])
    expected: dict[str, int] = {}
    for r in checked:
        expected[r.grade or "（无等次）"] = expected.get(r.grade or "（无等次）", 0) + 1
    assert {row[0]: int(row[1]) for row in grades[1:]} == expected
    below = next(t for t in tables(report) if t[0][:3] == ["单位", "项目", "自评表"])
    low = [r for r in checked if r.unit == "某某县医疗保障局"]
    assert low and low[0].total is not None and low[0].total < 70
    assert [row[0] for row in below[1:]] == ["某某县医疗保障局"]
    assert as_number(below[1][3]) == round(low[0].total, 2)
    assert len(docx.Document(str(report)).inline_shapes) == 2  # the two charts


def test_summary_report_lists_the_most_frequent_findings(
    merged: tuple[Path, dict[str, Any], Path],
) -> None:
    report, _, inbox = merged
    registry = Registry.load(ROOT / "specs")
    files: dict[str, int] = {}
    for path in sorted(inbox.glob("*.xlsx")):
        found = {f.code for f in check_file(path, registry)[0].findings if f.severity != "info"}
        for code in found:
            files[code] = files.get(code, 0) + 1
    table = next(t for t in tables(report) if t[0][:3] == ["代码", "级别", "文件数"])
    assert files[table[1][0]] == max(files.values())
    for row in table[1:]:
        assert int(row[2]) == files[row[0]]


def test_merge_report_must_be_docx(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["merge", str(tmp_path), "-o", str(tmp_path / "s.xlsx"), "--report", "r.pdf"]
    )
    assert result.exit_code == 2
    assert "[usage-output-not-docx]" in result.output


def test_the_demo_writes_both_reports(tmp_path: Path) -> None:
    from xltools.demo import run_demo

    lines: list[str] = []
    out = tmp_path / "out"
    run_demo(out, lines.append)
    filled = sorted(p.stem for p in (out / "filled").glob("*.xlsx"))
    written = sorted(p.name for p in (out / "reports").glob("*.docx"))
    assert written == [f"{stem}_自评报告.docx" for stem in filled]
    assert len(written) == len(SPECS)
    for name in written:
        assert "三、自评情况" in headings(out / "reports" / name)
    summary = out / "汇总报告.docx"
    counts = next(t for t in tables(summary) if t[0] == ["项目", "份数"])
    shown = {row[0]: int(row[1]) for row in counts[1:]}
    closing = f"输入 {shown['收到的文件']} 个文件：采纳 {shown['采纳']}，被替代 "
    closing += f"{shown['被替代（同一单位另有一份被采纳）']}，未采纳 {shown['未采纳']}"
    assert any(line.strip() == closing for line in lines), closing


def test_deviations_come_from_the_forms_own_text(
    returns: dict[str, tuple[Spec, Path]], tmp_path: Path
) -> None:
    """四、偏差原因及改进措施 quotes the 偏差原因分析及改进措施 the unit wrote, at its indicator."""
    spec, _ = returns["project_expense_2023"]
    reason = "受疫情影响，参保宣传推迟到第四季度，明年提前部署"
    data = dict(_example(spec), ind_output_quality_1_actual=0.5, ind_output_quality_1_reason=reason)
    template = tmp_path / "t.xlsx"
    generate_template(spec, template)
    source = tmp_path / "偏差.xlsx"
    assert fill_workbook(template, spec, data, source) == []
    target = tmp_path / "偏差.docx"
    assert _report(source, target).exit_code == 0
    items = body(target)
    texts = [getattr(item, "text", "") for item in items]
    start = texts.index("四、偏差原因及改进措施")
    end = texts.index("五、问题与建议")
    section = "\n".join(texts[start:end])
    values = _values(source)
    weight, score = values["ind_output_quality_1_weight"], values["ind_output_quality_1_score"]
    assert f"产出指标—质量指标—参保率（分值 {weight:.2f}，得分 {score:.2f}）：{reason}" in section
