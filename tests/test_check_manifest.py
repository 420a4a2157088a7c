"""``xltools check --manifest`` (issue 15): a return against the distribution record. The stamp
inside a workbook can be rewritten by whoever holds the file (the fingerprint is public
arithmetic); the manifest the finance bureau kept cannot. Invented bureaus only."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from xltools.check.manifest import ManifestError, load_manifest
from xltools.check.run import check_file
from xltools.cli import main
from xltools.fill import fill_workbook
from xltools.generate import generate_template
from xltools.libreoffice import recalculate
from xltools.registry import Registry
from xltools.roster import distribute, read_roster, validate_roster
from xltools.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC = load_spec(ROOT / "specs" / "project_expense_2023.yaml")
EXAMPLE = yaml.safe_load((ROOT / "examples" / "project_expense_2023.yaml").read_text("utf-8"))
PREFILLED = {
    "project_name": "示例项目",
    "unit_name": "青禾县医保局",
    "ind_output_quantity_1_name": "完成基金监管非税收入",
    "ind_output_quantity_1_op": "≥",
    "ind_output_quantity_1_target": 60,
    "ind_output_quantity_1_unit": "万元",
    "ind_output_quantity_1_weight": 10,
}


def _roster(tmp: Path, target: float = 60) -> Path:
    path = tmp / f"名册_{target:g}.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["bureau_id", "bureau_name", *PREFILLED])
        for bureau, name in (("T001", "青禾县医保局"), ("T002", "白石县医保局")):
            values = PREFILLED | {"unit_name": name, "ind_output_quantity_1_target": target}
            writer.writerow([bureau, name, *values.values()])
    return path


def _distribute(tmp: Path, target: float = 60) -> tuple[Path, dict[str, Path]]:
    good, bad = validate_roster(SPEC, read_roster(_roster(tmp, target)))
    assert not bad
    out = tmp / f"分发_{target:g}"
    manifest = distribute(SPEC, good, out)
    with manifest.open(encoding="utf-8-sig", newline="") as stream:
        copies = {row["bureau_id"]: out / row["file"] for row in csv.DictReader(stream)}
    return manifest, copies


def _fill(copy: Path, target: Path) -> Path:
    data: dict[str, Any] = {k: v for k, v in EXAMPLE.items() if k not in PREFILLED}
    assert fill_workbook(copy, SPEC, data, target) == []
    return target


def _codes(path: Path, manifest: Path | None) -> set[str]:
    report, _ = check_file(
        path,
        Registry.load(ROOT / "specs"),
        manifest=None if manifest is None else load_manifest(manifest),
    )
    return {f.code for f in report.findings if f.severity == "error"}


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path], Path]:
    tmp = tmp_path_factory.mktemp("manifest")
    manifest, copies = _distribute(tmp)
    return manifest, copies, tmp


@pytest.mark.libreoffice
def test_the_issued_copy_saved_by_libreoffice_passes(
    sent: tuple[Path, dict[str, Path], Path],
) -> None:
    manifest, copies, tmp = sent
    (saved,) = recalculate([_fill(copies["T001"], tmp / "T001.xlsx")], tmp / "lo")
    assert _codes(saved, manifest) == set()


def test_a_self_made_copy_with_a_lower_target_is_caught_only_by_the_manifest(
    sent: tuple[Path, dict[str, Path], Path],
) -> None:
    """A bureau that lowers its own target in a copy it makes itself, stamp and fingerprint
    recomputed as xltools computes them, looks consistent; the manifest says it was not sent."""
    manifest, _, tmp = sent
    forged = tmp / "forged_template.xlsx"
    generate_template(
        SPEC,
        forged,
        prefill=PREFILLED | {"ind_output_quantity_1_target": 30},
        bureau_id="T001",
        bureau_name="青禾县医保局",
    )
    filled = _fill(forged, tmp / "forged.xlsx")
    assert _codes(filled, None) == set()  # the stamp alone proves nothing
    assert _codes(filled, manifest) == {"manifest-fingerprint-mismatch"}


def test_a_copy_from_another_distribution_is_not_the_issued_one(
    sent: tuple[Path, dict[str, Path], Path],
) -> None:
    manifest, _, tmp = sent
    _, other_copies = _distribute(tmp, target=55)
    filled = _fill(other_copies["T002"], tmp / "other_batch.xlsx")
    assert _codes(filled, manifest) == {"manifest-fingerprint-mismatch"}


def test_a_blank_template_and_an_unknown_bureau_were_not_issued(
    sent: tuple[Path, dict[str, Path], Path],
) -> None:
    manifest, _, tmp = sent
    blank = _fill(ROOT / "templates" / "project_expense_2023_v1.xlsx", tmp / "blank.xlsx")
    assert "manifest-not-issued" in _codes(blank, manifest)
    stranger_template = tmp / "stranger_template.xlsx"
    generate_template(SPEC, stranger_template, prefill=PREFILLED, bureau_id="X999")
    stranger = _fill(stranger_template, tmp / "stranger.xlsx")
    assert _codes(stranger, manifest) == {"manifest-not-issued"}


def test_the_command_reports_and_exits_with_the_severity(
    sent: tuple[Path, dict[str, Path], Path],
) -> None:
    manifest, copies, tmp = sent
    good = _fill(copies["T002"], tmp / "cli_good.xlsx")
    blank = _fill(ROOT / "templates" / "project_expense_2023_v1.xlsx", tmp / "cli_blank.xlsx")
    runner = CliRunner()
    result = runner.invoke(
        main, ["check", str(good), "--manifest", str(manifest), "--no-copy", "--json"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main, ["check", str(blank), "--manifest", str(manifest), "--no-copy", "--json"]
    )
    assert result.exit_code == 1
    assert "manifest-not-issued" in json.dumps(json.loads(result.output), ensure_ascii=False)


def test_a_roster_is_not_a_manifest(sent: tuple[Path, dict[str, Path], Path]) -> None:
    _, copies, tmp = sent
    roster = _roster(tmp)
    with pytest.raises(ManifestError, match="manifest-no-fingerprint"):
        load_manifest(roster)
    result = CliRunner().invoke(
        main, ["check", str(copies["T001"]), "--manifest", str(roster), "--no-copy"]
    )
    assert result.exit_code == 2
    assert "[manifest-no-fingerprint]" in result.output and "Traceback" not in result.output
    latin = tmp / "latin.csv"
    latin.write_bytes("bureau_id,bureau_name\nT001,青禾\n".encode("gb18030"))
    result = CliRunner().invoke(
        main, ["check", str(copies["T001"]), "--manifest", str(latin), "--no-copy"]
    )
    assert result.exit_code == 2 and "[manifest-encoding]" in result.output


def test_merge_and_status_hold_returns_to_the_manifest(
    sent: tuple[Path, dict[str, Path], Path],
) -> None:
    """The same rule where the returns are merged and chased: a self-made copy is not
    accepted, and its bureau is told why."""
    manifest, copies, tmp = sent
    inbox = tmp / "inbox"
    inbox.mkdir()
    _fill(copies["T002"], inbox / "白石县.xlsx")
    forged = tmp / "forged_for_merge.xlsx"
    generate_template(
        SPEC,
        forged,
        prefill=PREFILLED | {"ind_output_quantity_1_weight": 5},
        bureau_id="T001",
        bureau_name="青禾县医保局",
    )
    _fill(forged, inbox / "青禾县.xlsx")
    runner = CliRunner()
    plain = runner.invoke(
        main, ["merge", str(inbox), "-o", str(tmp / "plain.xlsx"), "--json", "--workers", "1"]
    )
    assert plain.exit_code == 0, plain.output  # without the manifest both are taken
    held = runner.invoke(
        main,
        ["merge", str(inbox), "-o", str(tmp / "held.xlsx"), "--json", "--workers", "1",
         "--manifest", str(manifest)],
    )  # fmt: skip
    assert held.exit_code == 1, held.output
    document = json.loads(held.stdout)
    assert document["accepted"] == 1 and document["rejected"] == 1
    assert "不是下发给该单位的那一份" in held.stdout
    status = runner.invoke(main, ["status", str(manifest), str(inbox), "--json", "--workers", "1"])
    bureaus = {b["bureau_id"]: b for b in json.loads(status.stdout)["bureaus"]}
    assert bureaus["T002"]["status"] == "已采纳"
    assert bureaus["T001"]["status"] == "已交待修改"
    assert "下发" in bureaus["T001"]["reason"]
