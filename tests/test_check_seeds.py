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
    typed, total, grade = AS_TYPED[template]
    spec = load_spec(ROOT / "specs" / f"{template}.yaml")
    data: dict[str, Any] = yaml.safe_load(
        (ROOT / "examples" / f"{template}.yaml").read_text(encoding="utf-8")
    )
    generate_template(spec, tmp_path / "t.xlsx")
    assert fill_workbook(tmp_path / "t.xlsx", spec, data, tmp_path / "f.xlsx") == []

    def type_as_text(workbook: Any) -> None:
        for field_id, text in typed.items():
            sheet, coordinate = ref(workbook, field_id)
            sheet[coordinate].value = text

    returned = edit(tmp_path / "f.xlsx", tmp_path / "returned.xlsx", type_as_text)
    report, _ = check_file(returned, Registry.load(ROOT / "specs"))
    assert (report.total, report.grade) == (total, grade), [
        (f.code, f.field, f.message) for f in report.findings
    ]
    errors = [(f.code, f.field) for f in report.findings if f.severity == "error"]
    assert errors == []
    readings = {f.field for f in report.findings if f.severity == "info"}
    assert set(typed) <= readings  # every cell read from text is reported
