"""Verdicts on returns as clerks really make them: what the sheet's own formulas saw is what
the checker scores, and what was distributed is what the checker trusts."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from check_fixtures import SHEET, edit, example_data, filled, ref, registry, set_field
from click.testing import CliRunner

from xltools.check.run import check_file
from xltools.cli import main
from xltools.generate.metadata import PANEL_SHEET
from xltools.generate.panel_layout import FIRST_ROW, TOP_FIRST
from xltools.libreoffice import recalculate

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.libreoffice
@pytest.mark.parametrize("typed", ["124.01", "１２４．０１", "124.01万"])
def test_text_in_number_cell_is_scored_as_the_sheet_shows_it(typed: str, tmp_path: Path) -> None:
    """A budget pasted as text: LibreOffice's formulas skip it, so the sheet shows a lower
    score. The checker scores what the sheet shows, accuses nobody of rewriting the results,
    and says at the cell what to type."""
    data = example_data()
    path = edit(
        filled(tmp_path, data), tmp_path / "typed.xlsx", set_field("funds_current_budget", typed)
    )
    (saved,) = recalculate([path], tmp_path / "lo")
    shown = openpyxl.load_workbook(saved, data_only=True)
    sheet, cell = ref(shown, "total_score")
    shown_total = sheet[cell].value
    report, _ = check_file(saved, registry())
    codes = [f.code for f in report.findings]
    assert not [c for c in codes if c.startswith("tamper-") or c == "cached-result-mismatch"], codes
    assert report.total == pytest.approx(shown_total, abs=1e-9)
    clean, _ = check_file(
        recalculate([filled(tmp_path, data, "clean.xlsx")], tmp_path / "c")[0], registry()
    )
    assert report.total != clean.total  # the text really changed the sheet's figures
    (mine,) = [f for f in report.findings if f.field == "funds_current_budget"]
    assert (mine.severity, mine.code) == ("error", "value-text-in-number-cell")
    assert mine.expected == "124.01" and mine.found == typed
    assert "124.01" in mine.message and "粘贴" in mine.message


@pytest.mark.libreoffice
def test_faked_total_is_rejected_by_merge(tmp_path: Path) -> None:
    """A shown total that the inputs do not give is tampering: merge does not accept it."""
    from test_check import _rewrite_cached

    data = example_data()
    data["funds_current_spent"] = data["funds_current_budget"] / 2
    (source,) = recalculate([filled(tmp_path, data)], tmp_path / "lo")
    faked = tmp_path / "returns" / "faked.xlsx"
    faked.parent.mkdir()
    _rewrite_cached(source, faked, "total_score", "100")
    result = CliRunner().invoke(main, ["merge", str(faked.parent), "-o", str(tmp_path / "s.xlsx")])
    assert "采纳 0" in result.output and "未采纳 1" in result.output, result.output


def test_tampered_prefilled_weight_never_reaches_the_total(tmp_path: Path) -> None:
    """The 分值 pre-filled for a bureau and locked: a clerk who unprotects and raises it is
    caught, and the total is computed with the distributed weight."""
    roster = tmp_path / "roster.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["bureau_id", "bureau_name", "unit_name", "ind_output_quantity_1_weight"])
        writer.writerow(["B0001", "示例县医疗保障局", "示例县医疗保障局", "10"])
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "generate",
            str(ROOT / "specs" / "project_expense_2023.yaml"),
            "--roster",
            str(roster),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    (distributed,) = out.glob("*.xlsx")
    data = {k: v for k, v in example_data().items() if k not in ("unit_name",)}
    data.pop("ind_output_quantity_1_weight", None)
    honest = tmp_path / "honest.xlsx"
    from xltools.fill import fill_workbook
    from xltools.spec import load_spec

    spec = load_spec(ROOT / "specs" / "project_expense_2023.yaml")
    assert fill_workbook(distributed, spec, data, honest) == []

    def raise_weight(workbook: openpyxl.Workbook) -> None:
        workbook[SHEET].protection.sheet = False
        sheet, cell = ref(workbook, "ind_output_quantity_1_weight")
        sheet[cell].value = 30

    tampered = edit(honest, tmp_path / "tampered.xlsx", raise_weight)
    before, _ = check_file(honest, registry())
    after, _ = check_file(tampered, registry())
    assert any(f.code == "tamper-prefill-changed" for f in after.findings)
    assert after.total == before.total
    assert after.values["ind_output_quantity_1_weight"] == 10.0


def _overwrite_status(workbook: openpyxl.Workbook) -> None:
    panel = workbook[PANEL_SHEET]
    panel.protection.sheet = False
    panel["B2"].value = "可以提交"


def _demote_an_error_row(workbook: openpyxl.Workbook) -> None:
    panel = workbook[PANEL_SHEET]
    panel.protection.sheet = False
    row = next(r for r in range(FIRST_ROW + 1, panel.max_row + 1) if panel[f"B{r}"].value == "错误")
    panel[f"B{row}"].value = "提示"  # its problem would no longer be counted


def _overwrite_a_row_status(workbook: openpyxl.Workbook) -> None:
    panel = workbook[PANEL_SHEET]
    panel.protection.sheet = False
    panel[f"E{FIRST_ROW + 1}"].value = "通过"


def _overwrite_a_slot(workbook: openpyxl.Workbook) -> None:
    """The open problem listed first, typed over: the clerk's screenshot shows none."""
    panel = workbook[PANEL_SHEET]
    panel.protection.sheet = False
    panel[f"C{TOP_FIRST + 1}"].value = ""


def _delete_panel(workbook: openpyxl.Workbook) -> None:
    del workbook[PANEL_SHEET]


PANEL_TAMPERING = {
    "status-overwritten": (_overwrite_status, "tamper-panel-changed", "B2"),
    "row-demoted": (_demote_an_error_row, "tamper-panel-changed", ""),
    "row-status-overwritten": (
        _overwrite_a_row_status,
        "tamper-panel-changed",
        f"E{FIRST_ROW + 1}",
    ),
    "slot-overwritten": (_overwrite_a_slot, "tamper-panel-changed", f"C{TOP_FIRST + 1}"),
    "panel-deleted": (_delete_panel, "tamper-panel-missing", ""),
}


@pytest.mark.libreoffice
def test_panel_tampering_is_caught_before_and_after_libreoffice_save(tmp_path: Path) -> None:
    data = example_data()
    data.pop("project_name")  # one open problem: the panel says 还有 1 个问题
    honest = filled(tmp_path, data)
    tampered = {
        name: edit(honest, tmp_path / f"{name}.xlsx", change)
        for name, (change, _, _) in PANEL_TAMPERING.items()
    }
    saved = dict(zip(tampered, recalculate(list(tampered.values()), tmp_path / "lo"), strict=True))
    (honest_saved,) = recalculate([honest], tmp_path / "lo-honest")
    report, _ = check_file(honest_saved, registry())
    assert not [f.code for f in report.findings if "panel" in f.code]
    for name, (_, code, cell) in PANEL_TAMPERING.items():
        for path in (tampered[name], saved[name]):
            report, _ = check_file(path, registry())
            mine = [f for f in report.findings if f.code == code]
            assert mine, (name, path, [f.code for f in report.findings])
            assert not cell or mine[0].cell == cell
            assert mine[0].severity == ("error" if code == "tamper-panel-changed" else "warning")


def test_a_panel_known_clean_does_not_hide_a_label_changed_in_the_shared_strings(
    tmp_path: Path,
) -> None:
    """The panel is known again by a fingerprint of its part; the labels it counts by live in
    sharedStrings.xml, so changing one there must still be caught after a clean return."""
    import zipfile

    data = example_data()
    data.pop("project_name")
    honest = filled(tmp_path, data)
    clean, _ = check_file(honest, registry())  # remembered as clean
    assert not [f for f in clean.findings if "panel" in f.code]
    again, _ = check_file(honest, registry())
    assert [f.code for f in again.findings] == [f.code for f in clean.findings]
    tampered = tmp_path / "label.xlsx"
    with zipfile.ZipFile(honest) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for item in zin.infolist():
            content = zin.read(item.filename)
            if item.filename == "xl/sharedStrings.xml":
                assert b"<t>\xe9\x94\x99\xe8\xaf\xaf</t>" in content  # <t>错误</t>
                content = content.replace("<t>错误</t>".encode(), "<t>提示</t>".encode())
            zout.writestr(item, content)
    report, _ = check_file(tampered, registry())
    assert any(f.code == "tamper-panel-changed" for f in report.findings), report.findings
