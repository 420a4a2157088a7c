"""`xltools check`: the checker trusts only input cells and the spec, and says what it found."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_fixtures import (
    ROOT,
    SHEET,
    edit,
    example_data,
    filled,
    insert_row,
    ref,
    registry,
    set_field,
)
from click.testing import CliRunner

from xltools.check.run import check_file
from xltools.cli import main
from xltools.fill import fill_workbook
from xltools.generate import generate_template
from xltools.generate.metadata import META_SHEET
from xltools.libreoffice import recalculate
from xltools.spec import load_spec


def codes(path: Path) -> dict[str, list[str]]:
    report, _ = check_file(path, registry())
    found: dict[str, list[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.code, []).append(f"{finding.sheet}!{finding.cell}")
    return found


def test_clean_example_passes_with_seed_total(tmp_path: Path) -> None:
    report, _ = check_file(filled(tmp_path), registry())
    assert report.valid, [f.message for f in report.findings if f.severity == "error"]
    assert report.total == 100.0 and report.grade == "优秀"
    assert report.template == "project_expense_2023"


# Each tampering kind: what is done to the workbook, and the code that must name it.
TAMPERING: dict[str, tuple[Any, str]] = {
    "protection removed": (
        lambda wb: setattr(wb[SHEET].protection, "sheet", False),
        "tamper-protection-removed",
    ),
    "weight edited": (set_field("funds_total_weight", 20, unprotect=True), "tamper-fixed-changed"),
    "label edited": (
        lambda wb: wb[SHEET].cell(2, 1).__setattr__("value", "项目全称"),
        "tamper-label-changed",
    ),
    "formula replaced by a constant": (
        set_field("total_score", 100, unprotect=True),
        "tamper-formula-replaced",
    ),
    "formula changed": (
        set_field("funds_total_score", "=funds_total_weight", unprotect=True),
        "tamper-formula-changed",
    ),
    "row inserted": (insert_row(8), "tamper-cells-moved"),
    "sheet renamed": (lambda wb: setattr(wb[SHEET], "title", "自评表"), "tamper-sheet-renamed"),
    "sheet added": (lambda wb: wb.create_sheet("另附"), "tamper-sheet-added"),
    "validation removed": (
        lambda wb: setattr(wb[SHEET].data_validations, "dataValidation", []),
        "tamper-validation-removed",
    ),
    "metadata sheet deleted": (lambda wb: wb.remove(wb[META_SHEET]), "not-a-template"),
    "unknown version": (
        lambda wb: wb[META_SHEET].cell(3, 2).__setattr__("value", 9),
        "unknown-template",
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERING), ids=list(TAMPERING))
def test_tampering_is_detected(kind: str, tmp_path: Path) -> None:
    change, code = TAMPERING[kind]
    if kind == "unknown version":
        code = "superseded-version"  # the template id is known, the version is not
    tampered = edit(filled(tmp_path), tmp_path / "tampered.xlsx", change)
    found = codes(tampered)
    assert code in found, found
    assert "internal-error" not in found


@pytest.mark.libreoffice
def test_tampering_survives_libreoffice_save(tmp_path: Path) -> None:
    """The same detections on files LibreOffice saved (it rewrites every part)."""
    tampered = []
    for n, (kind, (change, _)) in enumerate(TAMPERING.items()):
        if kind in ("metadata sheet deleted", "unknown version"):
            continue
        tampered.append(edit(filled(tmp_path), tmp_path / f"t{n}.xlsx", change))
    saved = recalculate(tampered, tmp_path / "lo")
    expected = [
        code
        for kind, (_, code) in TAMPERING.items()
        if kind not in ("metadata sheet deleted", "unknown version")
    ]
    for path, code in zip(saved, expected, strict=True):
        found = codes(path)
        assert code in found, (path.name, code, found)


@pytest.mark.libreoffice
def test_libreoffice_saved_clean_file_passes(tmp_path: Path) -> None:
    (saved,) = recalculate([filled(tmp_path)], tmp_path / "lo")
    report, _ = check_file(saved, registry())
    assert report.valid, [
        (f.code, f.where(), f.message) for f in report.findings if f.severity != "info"
    ]
    assert report.total == 100.0


@pytest.mark.libreoffice
def test_faked_cached_score_is_reported(tmp_path: Path) -> None:
    data = example_data()
    data["funds_current_spent"] = data["funds_current_budget"] / 2  # 执行率 50 % → 5 of 10
    (saved,) = recalculate([filled(tmp_path, data)], tmp_path / "lo")
    report, _ = check_file(saved, registry())
    assert report.total == 95.0
    faked = tmp_path / "faked.xlsx"
    _rewrite_cached(saved, faked, "total_score", "100")
    report, _ = check_file(faked, registry())
    mismatch = [
        f for f in report.findings if f.code == "tamper-cached-result" and f.field == "total_score"
    ]
    assert mismatch and mismatch[0].severity == "error"
    assert mismatch[0].expected == "95" and mismatch[0].found == "100"
    assert report.total == 95.0  # the recomputation, not the faked cache


def _rewrite_cached(source: Path, target: Path, field_id: str, value: str) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(source)
    sheet, coordinate = ref(workbook, field_id)
    index = workbook.sheetnames.index(sheet.title) + 1
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == f"xl/worksheets/sheet{index}.xml":
                import re

                text = data.decode("utf-8")
                text, count = re.subn(
                    rf'(<c r="{coordinate}"[^>]*>.*?<v>)([^<]*)(</v>)',
                    rf"\g<1>{value}\g<3>",
                    text,
                    count=1,
                    flags=re.S,
                )
                assert count == 1
                data = text.encode("utf-8")
            zout.writestr(item, data)


# Parse rules as they arrive through real cells.
PARSING: list[tuple[str, Any, str, str]] = [
    # a number cell holding text: the sheet's own formulas do not count it, so neither may
    # the verdict; the finding says what to type (see test_text_in_number_cell_*)
    ("funds_current_budget", "124.01", "error", "value-text-in-number-cell"),
    ("funds_current_budget", "１２４.０１", "error", "value-text-in-number-cell"),
    ("funds_current_budget", "1,240.5", "error", "value-text-in-number-cell"),
    ("funds_current_budget", "124.01万元", "error", "value-text-in-number-cell"),
    ("funds_current_budget", "按要求完成", "error", "parse-not-a-number"),
    ("fill_date", "2024年10月17日", "info", "parse-date-text"),
    ("fill_date", "12月31日完成", "error", ""),
    ("ind_output_quantity_1_op", ">=", "info", ""),
    ("ind_output_quantity_1_actual", "全覆盖", "error", "check-actual_is_number"),
    ("funds_current_spent", "#DIV/0!", "error", "parse-excel-error"),
]


@pytest.mark.parametrize(
    ("field_id", "typed", "severity", "code"), PARSING, ids=[f"{f}={t}" for f, t, _, _ in PARSING]
)
def test_inputs_are_read_as_a_reviewer_would(
    field_id: str, typed: Any, severity: str, code: str, tmp_path: Path
) -> None:
    path = edit(filled(tmp_path), tmp_path / "typed.xlsx", set_field(field_id, typed))
    report, _ = check_file(path, registry())
    mine = [f for f in report.findings if f.field == field_id]
    assert mine, [(f.code, f.field) for f in report.findings]
    assert any(f.severity == severity and (not code or f.code == code) for f in mine), [
        (f.severity, f.code) for f in mine
    ]
    assert all(f.message for f in mine)


def test_required_fields_only_in_used_rows(tmp_path: Path) -> None:
    data = example_data()
    data.pop("project_name")
    report, _ = check_file(filled(tmp_path, data), registry())
    required = {f.field for f in report.findings if f.code == "value-required"}
    assert required == {"project_name"}


def test_cli_exit_codes_json_and_copy(tmp_path: Path) -> None:
    good = filled(tmp_path)
    bad = edit(good, tmp_path / "bad.xlsx", set_field("funds_total_weight", 20, unprotect=True))
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "check",
            str(good),
            "--specs",
            str(good.parent.parent / "specs")
            if False
            else str(Path(__file__).resolve().parent.parent / "specs"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["valid"] is True and len(payload["stats"]["sha256"]) == 64
    assert (tmp_path / "filled.checked.xlsx").exists()
    result = runner.invoke(main, ["check", str(bad), "-q"])
    assert result.exit_code == 1
    assert "不通过" in result.output
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"\x00" * 100)
    result = runner.invoke(main, ["check", str(junk)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    result = runner.invoke(main, ["check", str(tmp_path), "-q", "--no-copy"])
    assert result.exit_code == 1
    assert "共 " in result.output  # one line per file, and a closing count


def test_a_reader_that_stops_early_is_not_an_internal_error(tmp_path: Path) -> None:
    """`xltools check folder/ | head -1`: the pipe closes while files are still checked."""
    import os
    import subprocess
    import sys

    good = filled(tmp_path)
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(60):  # enough that checking goes on well after the pipe is closed
        os.link(good, folder / f"{n}.xlsx")
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "-m", "xltools.cli", "check", "--no-copy", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # as head does after its line
    error = process.stderr.read().decode("utf-8", "replace")
    assert process.wait(timeout=120) == 141, error
    assert "internal-error" not in error and "Traceback" not in error, error


def test_input_file_is_never_modified(tmp_path: Path) -> None:
    path = filled(tmp_path)
    before = path.read_bytes()
    CliRunner().invoke(main, ["check", str(path)])
    assert path.read_bytes() == before


@pytest.mark.libreoffice
def test_inputs_are_read_the_same_after_libreoffice_save(tmp_path: Path) -> None:
    typed = [
        edit(filled(tmp_path), tmp_path / f"p{n}.xlsx", set_field(f, v))
        for n, (f, v, _, _) in enumerate(PARSING)
    ]
    saved = recalculate(typed, tmp_path / "lo")
    for path, (field_id, value, severity, code) in zip(saved, PARSING, strict=True):
        report, _ = check_file(path, registry())
        mine = [(f.severity, f.code) for f in report.findings if f.field == field_id]
        assert any(s == severity and (not code or c == code) for s, c in mine), (
            field_id,
            value,
            mine,
        )


def test_an_empty_scoring_sheet_fails_with_its_required_fields(tmp_path: Path) -> None:
    # Every row of this sheet is preset by the spec: its 实际值 is required outright (the old
    # OR(COUNTA(x)=0, LEN(x)>0) counted the field itself as "the row is used", so it never
    # failed and an empty template passed).
    scoring = load_spec(ROOT / "specs" / "scoring_sheet_medical_aid.yaml")
    template = tmp_path / "scoring.xlsx"
    generate_template(scoring, template)
    report, _ = check_file(template, registry())
    assert report.blank and report.findings[0].code == "return-blank"  # 未填写
    result = CliRunner().invoke(main, ["check", str(template), "--specs", str(ROOT / "specs")])
    assert result.exit_code == 1
    # one 实际值 typed: no longer blank, and every other required field is said field by field
    expected = {f.id for f in scoring.inputs() if f.required}
    example = yaml.safe_load(
        (ROOT / "examples" / "scoring_sheet_medical_aid.yaml").read_text(encoding="utf-8")
    )
    first = next(k for k in sorted(expected) if k in example)
    one = tmp_path / "one.xlsx"
    assert fill_workbook(template, scoring, {first: example[first]}, one) == []
    report, _ = check_file(one, registry())
    required = {f.field for f in report.findings if f.code == "value-required"}
    assert len(expected) == 36 and required == expected - {first}
    assert not report.valid


def test_a_free_row_requires_its_fields_once_another_input_is_filled(tmp_path: Path) -> None:
    data = example_data()
    row = "ind_output_quantity_3"
    assert not any(k.startswith(row) for k in data), "the example leaves this row free"
    data[f"{row}_reason"] = "只填了一格"
    report, _ = check_file(filled(tmp_path, data), registry())
    required = {f.field for f in report.findings if f.code == "value-required"}
    assert required == {f"{row}_{k}" for k in ("name", "op", "actual", "weight")}


@pytest.mark.parametrize(("typed", "bad"), [("测试604987", True), ("0731-88889999", False),
                                            (13812345678, False), (73188889999, True)])  # fmt: skip
def test_a_phone_is_checked_once_by_its_pattern_check(
    typed: Any, bad: bool, tmp_path: Path
) -> None:
    path = edit(filled(tmp_path), tmp_path / "phone.xlsx", set_field("phone", typed))
    report, _ = check_file(path, registry())
    found = [f for f in report.findings if f.code == "value-bad-pattern"]
    assert [(f.severity, f.field) for f in found] == ([("error", "phone")] if bad else [])
