"""templates/ holds the generated template of every spec, kept in sync (content, not bytes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xltools.cli import template_file_name
from xltools.generate import generate_template
from xltools.generate.content import differences, workbook_content
from xltools.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_template_is_up_to_date(spec_path: Path, tmp_path: Path) -> None:
    spec = load_spec(spec_path)
    committed = ROOT / "templates" / template_file_name(spec)
    assert committed.is_file(), (
        f"missing {committed}: run `xltools generate specs/*.yaml -o templates/`"
    )
    fresh = tmp_path / committed.name
    generate_template(spec, fresh)
    diff = differences(workbook_content(fresh), workbook_content(committed))
    assert not diff, (
        "templates/ is out of date with specs/; run `xltools generate specs/*.yaml -o templates/`:\n"
        + "\n".join(diff)
    )


def test_no_stale_templates() -> None:
    expected = {template_file_name(load_spec(p)) for p in SPECS}
    assert {p.name for p in (ROOT / "templates").glob("*.xlsx")} == expected


def test_a_changed_label_is_detected(tmp_path: Path) -> None:
    """The comparison is not blind: a relabelled spec differs from its committed template."""
    source = (ROOT / "specs" / "project_expense_2023.yaml").read_text(encoding="utf-8")
    changed = tmp_path / "changed.yaml"
    changed.write_text(source.replace("label: 项目名称", "label: 项目全称"), encoding="utf-8")
    fresh = tmp_path / "fresh.xlsx"
    generate_template(load_spec(changed), fresh)
    committed = ROOT / "templates" / "project_expense_2023_v1.xlsx"
    assert any(
        "项目名称" in line
        for line in differences(workbook_content(committed), workbook_content(fresh))
    )
