"""The seeds as the bureaus filled them — percentages typed as text, amounts stored as text,
“全覆盖” for a coverage rate — checked: the published totals and grades come out, and every
reading is reported (domain.md, "Figures the seeds publish")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from check_fixtures import edit, ref

from xltools.check.run import check_file
from xltools.fill import fill_workbook
from xltools.generate import generate_template
from xltools.registry import Registry
from xltools.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent

# template -> (cells typed as text the way the seed shows them, published total, grade)
AS_TYPED: dict[str, tuple[dict[str, str], float, str]] = {
    "project_expense_2022": (
        {
            "funds_current_budget": "194.19",
            "funds_current_spent": "194.19",
            "ind_output_quantity_1_actual": "100%",
            "ind_output_quantity_2_actual": "100%",
            "ind_output_quality_1_actual": "100%",
            "ind_benefit_satisfaction_1_actual": "90%",
        },
        100.0,
        "优秀",
    ),
    "scoring_sheet_medical_aid": (
        {
            "ind_output_quality_ratio_1_actual": "71.84%",
            "ind_output_quality_coverage_1_actual": "全覆盖",
        },
        98.0,
        "优秀",
    ),
}


@pytest.mark.parametrize("template", sorted(AS_TYPED))
def test_seed_as_typed_recomputes_to_the_published_total(template: str, tmp_path: Path) -> None:
    """The seed's figures pasted into the template as the text the documents show. The sheet's
    formulas ignore such text, so each cell gets an error saying what to type instead; typing
    exactly that gives the published total and grade, with no error left."""
    typed, total, grade = AS_TYPED[template]
    spec = load_spec(ROOT / "specs" / f"{template}.yaml")
    data: dict[str, Any] = yaml.safe_load(
        (ROOT / "examples" / f"{template}.yaml").read_text(encoding="utf-8")
    )
    generate_template(spec, tmp_path / "t.xlsx")
    assert fill_workbook(tmp_path / "t.xlsx", spec, data, tmp_path / "f.xlsx") == []
    registry = Registry.load(ROOT / "specs")

    def write(values: dict[str, Any]) -> Any:
        def change(workbook: Any) -> None:
            for field_id, value in values.items():
                sheet, coordinate = ref(workbook, field_id)
                sheet[coordinate].value = value

        return change

    pasted = edit(tmp_path / "f.xlsx", tmp_path / "pasted.xlsx", write(typed))
    report, _ = check_file(pasted, registry)
    told = {f.field: f.expected for f in report.findings if f.code == "value-text-in-number-cell"}
    numeric = {f for f in typed if spec.fields[f].type != "any"}
    assert set(told) == numeric, [(f.code, f.field) for f in report.findings]
    # a free-form 实际完成值 may hold text: read leniently, and said so
    readings = {f.field for f in report.findings if f.severity == "info"}
    assert set(typed) - numeric <= readings
    assert report.total != total  # the sheet really did not count the text

    retyped = {field_id: _as_typed(expected) for field_id, expected in told.items()}
    fixed = edit(tmp_path / "f.xlsx", tmp_path / "retyped.xlsx", write(retyped))
    report, _ = check_file(fixed, registry)
    assert (report.total, report.grade) == (total, grade), [
        (f.code, f.field, f.message) for f in report.findings
    ]
    assert [(f.code, f.field) for f in report.findings if f.severity == "error"] == []


def _as_typed(expected: str) -> float:
    """What a spreadsheet stores when the clerk types the finding's advice: "100%" → 1.0."""
    return float(expected[:-1]) / 100 if expected.endswith("%") else float(expected)
