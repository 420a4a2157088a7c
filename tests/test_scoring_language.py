"""The spec language for evaluator scoring sheets (issue 13, part 1): rows at any level, cells
that do not apply, limits as expressions, typed scores held to the rule, summed columns,
小计/合计 control and column ranges — on the bundled four-level sheet, filled and recalculated
in LibreOffice, and on small specs written for one feature each."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from xltools.check.run import check_file
from xltools.engine import recompute
from xltools.expr import Call, Name, evaluate, top_level
from xltools.fill import fill_workbook
from xltools.generate import generate_template
from xltools.generate.layout import layout_spec
from xltools.libreoffice import recalculate
from xltools.registry import Registry
from xltools.spec import Spec, load_spec
from xltools.spec.build import build
from xltools.spec.ranges import MAX_ARGS, RangeMisuse, expand_ranges

ROOT = Path(__file__).resolve().parent.parent
WATER = ROOT / "specs" / "scoring_sheet_rural_water.yaml"
SHEET = "绩效评价评分表"


def water() -> Spec:
    return load_spec(WATER)


def example() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "examples" / "scoring_sheet_rural_water.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def filled(tmp: Path, data: dict[str, Any], name: str = "filled.xlsx") -> Path:
    template = tmp / "template.xlsx"
    if not template.exists():
        generate_template(water(), template)
    assert fill_workbook(template, water(), data, tmp / name) == []
    return tmp / name


def codes(path: Path) -> dict[str, list[Any]]:
    report, _ = check_file(path, Registry.load(ROOT / "specs"))
    found: dict[str, list[Any]] = {}
    for finding in report.findings:
        found.setdefault(finding.code, []).append(finding)
    return found


def spec_from(tmp: Path, body: str) -> tuple[Spec | None, list[str]]:
    path = tmp / "spec.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    spec, problems = build(path)
    return spec, [p.code for p in problems.items]


# ---- the bundled four-level sheet: the done-when -------------------------------------


def test_the_four_level_sheet_needs_no_workarounds() -> None:
    """No filler groups, no text in number columns, no repeated limits, no hand-typed SUM."""
    # the spec as data: what its comments say does not count
    text = yaml.safe_dump(yaml.safe_load(WATER.read_text(encoding="utf-8")), allow_unicode=True)
    assert "——" not in text
    assert "SUM(" not in text
    assert len(re.findall(r"\bmax:", text)) <= 1  # the satisfaction row's percent, once
    spec = water()
    for field in spec.fields.values():
        if field.type == "number" and isinstance(field.value, str):
            pytest.fail(f"text preset in a number cell: {field.id}")
    block = spec.sheets[0].blocks[1]
    assert block.levels == ["一级指标", "二级指标", "三级指标", "四级指标"]  # type: ignore[union-attr]
    depths = {len(chain) for g in block.groups for chain, _ in g.labelled_rows()}  # type: ignore[union-attr]
    assert depths == {3, 4}  # rows at the 三级 and at the 四级, with no group in between


def test_a_row_above_the_last_level_spans_the_level_columns_left() -> None:
    layout = layout_spec(water())
    sheet = layout.sheets[0]
    labels = {c.text: c for c in sheet.cells if c.role == "label" and c.text}
    procedure = labels["立项程序规范性"]  # a 三级 indicator with its own row
    assert (procedure.col, procedure.right) == (2, 3)
    policy = labels["符合法律法规、政策和发展规划"]  # a 四级 indicator
    assert (policy.col, policy.right) == (3, 3)


def test_cells_that_do_not_apply_are_blank_and_locked(tmp_path: Path) -> None:
    spec = water()
    base = spec.fields["ind_decision_approval_procedure_1_base"]
    assert not base.input and base.value is None and base.formula is None
    used = spec.fields["ind_process_funds_arrival_1_base"]
    assert used.input and used.label == "计划投入资金（万元）"  # the row's own label
    template = tmp_path / "t.xlsx"
    generate_template(spec, template)
    book = openpyxl.load_workbook(template)
    sheet_name, ref = next(iter(book.defined_names[base.id].destinations))
    cell = book[sheet_name][ref.replace("$", "")]
    assert cell.value is None and cell.protection.locked
    sheet_name, ref = next(iter(book.defined_names[used.id].destinations))
    assert not book[sheet_name][ref.replace("$", "")].protection.locked


def test_max_weight_is_each_rows_own_weight(tmp_path: Path) -> None:
    """``max: weight`` is written once; each row's typed score is held to its own 分值, in the
    template's data validation and in the checker."""
    spec = water()
    assert spec.fields["ind_decision_approval_basis_policy_1_given"].max == 1.5
    assert spec.fields["ind_output_quantity_works_1_given"].max == 8
    template = tmp_path / "t.xlsx"
    generate_template(spec, template)
    book = openpyxl.load_workbook(template)
    sheet_name, ref = next(
        iter(book.defined_names["ind_output_quantity_works_1_given"].destinations)
    )
    cell = ref.replace("$", "")
    limits = [
        (v.formula1, v.formula2) for v in book[sheet_name].data_validations.dataValidation
        if cell in str(v.sqref).split()
    ]  # fmt: skip
    assert [(float(a), float(b)) for a, b in limits] == [(0, 8)]
    data = example() | {"ind_output_quantity_works_1_given": 9}
    with pytest.raises(AssertionError):  # fill refuses it, as the cell would
        filled(tmp_path, data, "over.xlsx")


def test_a_limit_that_reads_an_input_becomes_a_check(tmp_path: Path) -> None:
    spec, problems = spec_from(
        tmp_path,
        """
        template: t
        version: 1
        title: 分值由单位分配
        sheets:
          - name: 表
            blocks:
              - kind: indicators
                id: ind
                columns:
                  - {key: weight, label: 分值, type: number}
                  - {key: score, label: 得分, type: number, formula: "weight"}
                  - {key: given, label: 评价得分, held_to: score}
                groups:
                  - {key: a, label: 甲, groups: [{key: b, label: 乙, rows: 2}]}
        """,
    )
    assert problems == [] and spec is not None
    checks = {c.id: c for c in spec.checks}
    check = checks["max_ind_a_b_1_given"]
    assert check.code == "value-out-of-range" and "分值" in check.message
    values: dict[str, Any] = {"ind_a_b_1_weight": 4.0, "ind_a_b_1_given": 5.0}
    values = recompute(spec, values)
    assert top_level(evaluate(check.expr, values)) is False
    values["ind_a_b_1_given"] = 4.0
    assert top_level(evaluate(check.expr, values)) is True


# ---- typed scores held to the rule, in a return LibreOffice recalculated ---------------------


@pytest.mark.libreoffice
def test_typed_scores_are_held_to_the_rule_in_a_libreoffice_saved_return(tmp_path: Path) -> None:
    data = example()
    good = filled(tmp_path, data)
    wrong = filled(
        tmp_path,
        data
        | {
            "ind_output_quantity_pipes_1_given": 7,  # the rule gives 8
            "ind_output_quantity_pipes_1_remark": "评价人另有看法",
        },
        "wrong.xlsx",
    )
    saved = recalculate([good, wrong], tmp_path / "lo")
    clean = codes(saved[0])
    assert not [c for c, fs in clean.items() if any(f.severity != "info" for f in fs)], clean
    found = codes(saved[1])
    [held] = found["score-not-by-rule"]
    assert held.severity == "error" and str(held.expected) in ("8", "8.0")
    assert held.cell.startswith("L")  # at the 评价得分 cell
    # The total and the grade follow the rule, whatever was typed; the typed total is shown,
    # and LibreOffice's cached sums agree with the recomputation (no cached-result finding).
    report, _ = check_file(saved[1], Registry.load(ROOT / "specs"))
    assert report.total == pytest.approx(92.09, abs=0.005) and report.grade == "优"
    assert report.values["ind_given"] == pytest.approx(sum(
        float(v) for k, v in data.items() if k.endswith("_given")
    ) - 1)  # fmt: skip
    assert "cached-result-mismatch" not in found and "tamper-cached-result" not in found
    book = openpyxl.load_workbook(saved[1], data_only=True)
    sheet_name, ref = next(iter(book.defined_names["ind_given"].destinations))
    assert book[sheet_name][ref.replace("$", "")].value == pytest.approx(report.values["ind_given"])


@pytest.mark.libreoffice
def test_column_ranges_count_in_libreoffice(tmp_path: Path) -> None:
    data = {k: v for k, v in example().items() if not k.startswith("ind_benefit")}
    saved = recalculate([filled(tmp_path, data)], tmp_path / "lo")[0]
    report, _ = check_file(saved, Registry.load(ROOT / "specs"))
    assert report.values["indicator_count"] == 27
    typed = sum(1 for k in data if k.endswith("_given"))
    assert report.values["scored_count"] == typed == 21
    book = openpyxl.load_workbook(saved, data_only=True)
    sheet_name, ref = next(iter(book.defined_names["scored_count"].destinations))
    assert book[sheet_name][ref.replace("$", "")].value == typed
    # the rows left blank are required: one finding each, no more
    assert len([f for f in report.findings if f.code == "value-required"]) == 27 - 21


def test_a_value_typed_into_a_cell_that_does_not_apply_is_tampering(tmp_path: Path) -> None:
    path = filled(tmp_path, example())
    book = openpyxl.load_workbook(path)
    sheet_name, ref = next(
        iter(book.defined_names["ind_decision_approval_procedure_1_base"].destinations)
    )
    book[sheet_name].protection.sheet = False
    book[sheet_name][ref.replace("$", "")].value = 5
    book.save(tmp_path / "typed.xlsx")
    found = codes(tmp_path / "typed.xlsx")
    assert any(c.startswith("tamper") for c in found), found


# ---- 小计 / 合计 control ----------------------------------------------------------------------

_CONTROL = """
template: t
version: 1
title: 小计合计
sheets:
  - name: 表
    blocks:
      - kind: indicators
        id: ind
        levels: [一级, 二级, 三级]
        {settings}
        columns:
          - {{key: weight, label: 分值, type: number, input: false}}
          - {{key: score, label: 得分, type: number, formula: "weight"}}
        groups:
          - key: a
            label: 甲
            weight: 3
            groups:
              - key: b
                label: 乙
                weight: 3
                groups:
                  - {{key: c, label: 丙, weight: 1, rows: [{{weight: 1}}]}}
                  - {{key: d, label: 丁, weight: 2, rows: [{{weight: 2}}]}}
"""


def _rows_of(spec: Spec) -> dict[str, int]:
    """Field id -> sheet row of every field placed on the form."""
    sheet = layout_spec(spec).sheets[0]
    return {c.field: c.row for c in sheet.cells if c.role == "field" and c.field}


def test_subtotals_by_default_levels_and_positions(tmp_path: Path) -> None:
    spec, problems = spec_from(tmp_path, _CONTROL.format(settings=""))
    assert problems == [] and spec is not None
    assert {"ind_a_b_c_score", "ind_a_b_d_score", "ind_a_b_score", "ind_a_score"} <= set(
        spec.fields
    )
    spec, problems = spec_from(tmp_path, _CONTROL.format(settings="subtotal_levels: [1]"))
    assert problems == [] and spec is not None
    assert "ind_a_score" in spec.fields
    assert not {"ind_a_b_score", "ind_a_b_c_score"} & set(spec.fields)
    assert spec.fields["ind_score"].formula_source == "SUM(ind_a_score)"
    rows = _rows_of(spec)
    assert rows["ind_a_b_c_1_weight"] < rows["ind_a_b_d_1_weight"] < rows["ind_a_score"]
    assert rows["ind_a_score"] < rows["ind_score"]  # 小计 after, 合计 at the end
    spec, problems = spec_from(
        tmp_path,
        _CONTROL.format(
            settings="subtotal_levels: [1]\n        subtotal_position: before\n"
            "        total_position: before\n        total_label: 总计"
        ),
    )
    assert problems == [] and spec is not None
    rows = _rows_of(spec)
    assert rows["ind_score"] < rows["ind_a_score"] < rows["ind_a_b_c_1_weight"]
    sheet = layout_spec(spec).sheets[0]
    assert any(c.text == "总计" and c.row == rows["ind_score"] for c in sheet.cells)


def test_weights_add_up_through_groups_that_declare_none(tmp_path: Path) -> None:
    body = _CONTROL.format(settings="").replace(
        "weight: 2, rows: [{weight: 2}]", "rows: [{weight: 1.5}]"
    )
    spec, problems = spec_from(tmp_path, body)
    assert "spec-weights-mismatch" in problems


def test_a_group_below_the_last_level_is_refused(tmp_path: Path) -> None:
    body = _CONTROL.format(settings="").replace(
        "{key: c, label: 丙, weight: 1, rows: [{weight: 1}]}",
        "{key: c, label: 丙, weight: 1, groups: [{key: e, label: 戊, rows: [{weight: 1}]}]}",
    )
    _, problems = spec_from(tmp_path, body)
    assert "spec-schema" in problems


# ---- column ranges ---------------------------------------------------------------------------


def test_a_column_range_outside_an_aggregate_is_a_spec_problem(tmp_path: Path) -> None:
    body = _CONTROL.format(settings="") + textwrap.indent(
        textwrap.dedent(
            """
            - kind: fields
              fields:
                - {id: wrong, label: 错, type: number, formula: "ind_all_score+1"}
            """
        ),
        "      ",
    )
    _, problems = spec_from(tmp_path, body)
    assert "spec-range-misuse" in problems


def test_long_ranges_nest_within_excels_argument_limit() -> None:
    members = tuple(f"c{n}" for n in range(600))
    for function in ("SUM", "COUNT", "MAX"):
        node = expand_ranges(Call(function, (Name("r"),)), {"r": members})
        assert isinstance(node, Call)
        assert len(node.args) <= MAX_ARGS
        assert node.function == ("SUM" if function == "COUNT" else function)
    with pytest.raises(RangeMisuse):
        expand_ranges(Call("AVERAGE", (Name("r"),)), {"r": members})


def test_the_merge_tells_four_level_rows_apart(tmp_path: Path) -> None:
    from xltools.merge import merge

    path = filled(tmp_path, example())
    result = merge([path], specs_dir=ROOT / "specs", workers=1)
    frame = result.indicators
    names = list(frame["level3"])
    assert len(names) == 27 and len(set(names)) == 27
    assert "立项依据充分性 / 符合法律法规、政策和发展规划" in names
    assert "立项程序规范性" in names
