"""``xltools fill`` writes the cached result of every formula, as the recomputation gives it.

Every bundled example is filled into its bundled template; then every formula cell of the
filled workbook — the form's derived values and scores and the 自检 panel's statuses — must
show, to a viewer that does not recalculate, what :func:`xltools.engine.recompute` says; the
checker must find nothing to complain about in the shown results; and LibreOffice,
recalculating the file, must change none of them.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from xltools.check.run import check_file
from xltools.engine import agrees, recompute
from xltools.expr import BLANK
from xltools.fill import fill_workbook, prepare
from xltools.generate.metadata import META_SHEET, PANEL_SHEET
from xltools.generate.panel import FIRST_ROW, TODO, check_status, overall_text
from xltools.generate.panel_layout import MORE_ROW, TOP_FIRST, TOP_SLOTS
from xltools.registry import Registry
from xltools.spec import Spec, load_spec
from xltools.workbook import describe_workbook, open_workbook

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


def _template(spec: Spec) -> Path:
    return ROOT / "templates" / f"{spec.template}_v{spec.version}.xlsx"


def _example(spec_path: Path) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "examples" / spec_path.name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _fill(spec_path: Path, out_dir: Path) -> tuple[Spec, dict[str, Any], Path]:
    spec = load_spec(spec_path)
    data = _example(spec_path)
    filled = out_dir / f"{spec.template}.xlsx"
    assert fill_workbook(_template(spec), spec, data, filled) == []
    values, refusals = prepare(spec, data)
    assert refusals == []
    return spec, values, filled


def _expected_cells(spec: Spec, values: dict[str, Any], path: Path) -> dict[tuple[str, str], Any]:
    """(sheet, cell) -> the value every formula cell must show, worked out here from the spec:
    each computed field at its defined name, each panel status, the overall status."""
    results = recompute(spec, values)
    names = describe_workbook(open_workbook(path)).names
    expected: dict[tuple[str, str], Any] = {}
    for field in spec.computed():
        ref = names[field.id]
        expected[(ref.sheet, ref.coordinate)] = results[field.id]
    if spec.checks:
        errors = warnings = 0
        for index, check in enumerate(spec.checks):
            status = check_status(check, results)
            expected[(PANEL_SHEET, f"E{FIRST_ROW + index + 1}")] = status
            if status == TODO:
                errors += check.severity == "error"
                warnings += check.severity == "warning"
        expected[(PANEL_SHEET, "B2")] = overall_text(errors, warnings)
        expected.update(_expected_top(spec, results, path))
    return expected


def _expected_top(spec: Spec, results: dict[str, Any], path: Path) -> dict[tuple[str, str], Any]:
    """The open problems on top of the panel (errors first), its helpers and the line that
    counts the rest, worked out from the statuses and the list the file holds."""
    listed = open_workbook(path)[PANEL_SHEET]
    statuses = [check_status(c, results) for c in spec.checks]
    open_ = [i for i, s in enumerate(statuses) if s == TODO]
    errors = [i for i in open_ if spec.checks[i].severity == "error"]
    order = errors + [i for i in open_ if i not in errors]
    out: dict[tuple[str, str], Any] = {
        (PANEL_SHEET, "H2"): len(errors),
        (PANEL_SHEET, "H3"): len(order),
    }
    for index in range(len(spec.checks)):
        rank = order.index(index) + 1 if index in order else 0
        out[(PANEL_SHEET, f"H{FIRST_ROW + index + 1}")] = rank
    for slot in range(TOP_SLOTS):
        row = TOP_FIRST + slot + 1
        if slot < len(order):
            at = FIRST_ROW + order[slot] + 1
            shown = [slot + 1, *(listed[f"{c}{at}"].value or "" for c in "BCD"), order[slot] + 1]
        else:
            shown = ["", "", "", "", ""]
        out.update({(PANEL_SHEET, f"{c}{row}"): v for c, v in zip("ABCDE", shown, strict=True)})
    more = len(order) - TOP_SLOTS
    out[(PANEL_SHEET, f"A{MORE_ROW + 1}")] = (
        "没有待处理的问题。"
        if not order
        else f"另有 {more} 项待处理，见下方全部检查中标色的行。"
        if more > 0
        else ""
    )
    return out


def _formula_cells(path: Path) -> set[tuple[str, str]]:
    workbook = openpyxl.load_workbook(path)
    return {
        (sheet.title, cell.coordinate)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    }


def _shown(path: Path) -> dict[tuple[str, str], Any]:
    workbook = openpyxl.load_workbook(path, data_only=True)
    return {
        (sheet.title, cell.coordinate): cell.value
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
    }


@pytest.fixture(scope="module")
def filled(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Spec, dict[str, Any], Path]]:
    out = tmp_path_factory.mktemp("filled")
    return {p.stem: _fill(p, out) for p in SPECS}


@pytest.mark.parametrize("name", [p.stem for p in SPECS])
def test_every_formula_cell_shows_the_recomputed_result(
    name: str, filled: dict[str, tuple[Spec, dict[str, Any], Path]]
) -> None:
    spec, values, path = filled[name]
    expected = _expected_cells(spec, values, path)
    # every formula of the workbook is one we know the result of, and the other way round
    assert _formula_cells(path) == set(expected)
    shown = _shown(path)
    wrong = {
        where: (value, shown.get(where))
        for where, value in expected.items()
        if not agrees(value, shown.get(where))
    }
    assert not wrong
    # the example is not all blanks: some result is a number that is not zero
    assert any(isinstance(v, float) and v != 0 for v in expected.values())


@pytest.mark.parametrize("name", [p.stem for p in SPECS])
def test_inputs_are_written_and_the_template_is_kept(
    name: str, filled: dict[str, tuple[Spec, dict[str, Any], Path]]
) -> None:
    spec, values, path = filled[name]
    workbook = open_workbook(path)
    info = describe_workbook(workbook)
    for field_id, value in values.items():
        ref = info.names[field_id]
        cell = workbook[ref.sheet][ref.coordinate]
        found = cell.value
        if isinstance(value, dt.date):
            assert isinstance(found, dt.datetime) and found.date() == value, field_id
        elif value is None or value is BLANK:
            assert found is None, field_id
        else:
            assert found == value, field_id
        assert cell.protection.locked is False, field_id  # still editable
    template = describe_workbook(open_workbook(_template(spec)))
    assert info.meta == template.meta  # id, version, spec hash, issue time, stamp
    with zipfile.ZipFile(_template(spec)) as before, zipfile.ZipFile(path) as after:
        assert before.namelist() == after.namelist()
        kept = [n for n in before.namelist() if before.read(n) == after.read(n)]
        # only worksheets change, and the metadata and list sheets not at all
        assert set(before.namelist()) - set(kept) <= {
            n for n in before.namelist() if n.startswith("xl/worksheets/")
        }
        assert "xl/styles.xml" in kept and "xl/workbook.xml" in kept
    assert META_SHEET in info.sheet_names


@pytest.mark.parametrize("name", [p.stem for p in SPECS])
def test_check_finds_the_shown_results_right(
    name: str, filled: dict[str, tuple[Spec, dict[str, Any], Path]]
) -> None:
    _, _, path = filled[name]
    report, _ = check_file(path, Registry.load(ROOT / "specs"))
    codes = {finding.code for finding in report.findings}
    assert "cached-result-mismatch" not in codes
    assert not any(code.startswith(("tamper-", "read-")) for code in codes), codes


def test_a_cached_result_follows_the_values(tmp_path: Path) -> None:
    """A changed input changes the shown total: the results are computed, not copied."""
    spec_path = ROOT / "specs" / "project_expense_2023.yaml"
    spec = load_spec(spec_path)
    data = _example(spec_path)
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert fill_workbook(_template(spec), spec, data, first) == []
    assert fill_workbook(_template(spec), spec, {**data, "funds_current_spent": 0}, second) == []
    names = describe_workbook(open_workbook(first)).names
    ref = names["funds_total_score"]
    a, b = _shown(first)[(ref.sheet, ref.coordinate)], _shown(second)[(ref.sheet, ref.coordinate)]
    assert isinstance(a, int | float) and isinstance(b, int | float) and a > b


def test_refilling_keeps_earlier_values_in_the_results(tmp_path: Path) -> None:
    """Filling a filled file recomputes from every value it holds, not only the new ones."""
    spec_path = ROOT / "specs" / "project_expense_2023.yaml"
    spec = load_spec(spec_path)
    data = _example(spec_path)
    once, twice = tmp_path / "once.xlsx", tmp_path / "twice.xlsx"
    assert fill_workbook(_template(spec), spec, data, once) == []
    assert fill_workbook(once, spec, {"project_name": "另一个项目"}, twice) == []
    values, _ = prepare(spec, {**data, "project_name": "另一个项目"})
    expected = _expected_cells(spec, values, twice)
    shown = _shown(twice)
    assert all(agrees(value, shown.get(where)) for where, value in expected.items())


@pytest.mark.libreoffice
def test_libreoffice_recalculation_changes_no_cached_value(
    filled: dict[str, tuple[Spec, dict[str, Any], Path]], tmp_path: Path
) -> None:
    from xltools.libreoffice import recalculate

    paths = [path for _, _, path in filled.values()]
    recalculated = recalculate(paths, tmp_path / "lo")
    for (spec, values, path), again in zip(filled.values(), recalculated, strict=True):
        before, after = _shown(path), _shown(again)
        for where in _expected_cells(spec, values, path):
            ours, theirs = before.get(where), after.get(where)
            if isinstance(ours, int | float) and not isinstance(ours, bool):
                assert isinstance(theirs, int | float), (spec.template, where, ours, theirs)
                assert abs(ours - theirs) <= 1e-9 * max(1.0, abs(ours)), (where, ours, theirs)
            else:
                # openpyxl reads an empty result as None; LibreOffice writes it as ""
                assert (ours or None) == (theirs or None), (spec.template, where, ours, theirs)


def test_a_distributed_copy_keeps_its_stamp_and_its_prefill_counts(tmp_path: Path) -> None:
    """A bureau's pre-filled, stamped copy (``generate --roster``), filled: the pre-filled
    values take part in the results, the stamp is kept, and check accepts the file."""
    from xltools.fill import flatten
    from xltools.roster import distribute, read_roster, validate_roster

    spec_path = ROOT / "specs" / "project_expense_2023.yaml"
    spec = load_spec(spec_path)
    rows, problems = validate_roster(
        spec, read_roster(ROOT / "examples" / "roster_project_expense_2023.csv")
    )
    assert problems == []
    distribute(spec, rows[:1], tmp_path / "out")
    (copy,) = (tmp_path / "out").glob("*.xlsx")
    prefilled = {k for k in rows[0].values if k in spec.fields}
    data = {k: v for k, v in flatten(_example(spec_path)).items() if k not in prefilled}
    filled = tmp_path / "filled.xlsx"
    assert fill_workbook(copy, spec, data, filled) == []
    assert (
        describe_workbook(open_workbook(filled)).meta == describe_workbook(open_workbook(copy)).meta
    )
    values, _ = prepare(spec, {**{k: rows[0].values[k] for k in prefilled}, **data})
    expected = _expected_cells(spec, values, filled)
    shown = _shown(filled)
    assert all(agrees(value, shown.get(where)) for where, value in expected.items())
    report, _ = check_file(filled, Registry.load(ROOT / "specs"))
    codes = {finding.code for finding in report.findings}
    assert "cached-result-mismatch" not in codes
    assert not any(code.startswith(("tamper-", "read-")) for code in codes), codes
    assert report.bureau_id == rows[0].values["bureau_id"]


def test_awkward_text_reads_back_as_written(tmp_path: Path) -> None:
    """Text with XML's special characters, a literal ``_x0041_``, a control character, edge
    spaces and a line break comes back exactly (inline strings, Excel's escapes)."""
    spec_path = ROOT / "specs" / "project_expense_2023.yaml"
    spec = load_spec(spec_path)
    awkward = {
        "project_name": '  <a & b> "q" _x0041_ 1\x01 2\n第二行 ',
        "unit_name": "一般单位",
    }
    target = tmp_path / "awkward.xlsx"
    assert fill_workbook(_template(spec), spec, awkward, target) == []
    from xltools.xlsx.reader import read_workbook

    workbook = read_workbook(target)
    for field_id, text in awkward.items():
        place = workbook.resolve(field_id)
        assert place is not None
        cell = workbook.cell(*place)
        assert cell is not None and cell.value == text, field_id
    book = open_workbook(target)  # and openpyxl reads it too
    ref = describe_workbook(book).names["unit_name"]
    assert book[ref.sheet][ref.coordinate].value == "一般单位"


def test_a_template_whose_formula_was_replaced_is_refused(tmp_path: Path) -> None:
    """A computed cell overwritten by a constant: fill cannot give its result and says so,
    writing nothing."""
    spec_path = ROOT / "specs" / "project_expense_2023.yaml"
    spec = load_spec(spec_path)
    names = describe_workbook(open_workbook(_template(spec))).names
    ref = names["funds_total_score"]
    changed = tmp_path / "changed.xlsx"
    with zipfile.ZipFile(_template(spec)) as source, zipfile.ZipFile(changed, "w") as sink:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                text = data.decode("utf-8")
                start = text.find(f'<c r="{ref.coordinate}"')
                if start >= 0 and "<f>" in text[start : text.index("</c>", start)]:
                    end = text.index("</c>", start) + len("</c>")
                    text = text[:start] + f'<c r="{ref.coordinate}"><v>10</v></c>' + text[end:]
                data = text.encode("utf-8")
            sink.writestr(info, data)
    target = tmp_path / "out.xlsx"
    refusals = fill_workbook(changed, spec, _example(spec_path), target)
    assert [r.code for r in refusals] == ["fill-template-changed"]
    assert ref.coordinate in refusals[0].field and "模板" in refusals[0].message
    assert not target.exists()
