"""xltools merge: accounting of every input, the summary workbook and analyst outputs, formula
injection, atomic outputs, untouched inputs.

The corpus: returns distributed to a roster of bureaus (fully pre-filled, as if filled and
returned), plus a careless fill, a resubmission, a tampered copy, a zip of three returns and junk
of every kind, merged once with ``--workers 2`` and shared by the tests below. It is built twice:
with 100 bureaus, and with 1,000 under the ``slow`` marker (CI runs both; ``-m "not slow"``
skips the big one locally). Generating a distributed workbook costs ~0.1–0.25 s, so most of the
big corpus's time is spent making it, not merging it (the merge time is printed with ``-s``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import pickle
import random
import sqlite3
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from check_fixtures import ROOT, example_data, ref, registry
from click.testing import CliRunner
from overflow import overflowing_cells

from xltools.check.run import check_file
from xltools.fill import fill_workbook, flatten
from xltools.generate import generate_template
from xltools.merge import Outputs, merge, neutralise
from xltools.merge.command import merge_command
from xltools.merge.inputs import ArchiveLimits
from xltools.merge.worker import check_one
from xltools.roster import RosterRow, distribute, validate_roster

SPECS = ROOT / "specs"
TEMPLATE = "project_expense_2023"
INJECTION = '=HYPERLINK("http://example.invalid","点击")'


def _spec() -> Any:
    spec = registry().find(TEMPLATE, 1)
    assert spec is not None
    return spec


def bureau_data(i: int) -> dict[str, Any]:
    """A complete return for bureau ``i``, its figures varied so scores and grades differ."""
    data = flatten(example_data())
    budget = float(50 + (i * 37) % 400)
    target = round(budget * 0.9, 2)
    data.update(
        project_name=f"第{i:04d}号项目",
        department=f"第{i:04d}单位",
        unit_name=f"第{i:04d}单位",
        funds_current_initial=budget,
        funds_current_budget=budget,
        funds_current_spent=round(budget * (0.55 + (i % 50) / 100), 2),
        ind_output_quantity_1_target=target,
        ind_output_quantity_1_actual=round(target * (0.6 + (i % 41) / 100), 2),
        ind_output_quality_1_actual=round(0.70 + (i % 27) / 100, 2),
        ind_satisfaction_service_1_actual=round(0.80 + (i % 16) / 100, 2),
    )
    return data


def _roster(numbers: range, **overrides: dict[str, Any]) -> list[RosterRow]:
    rows = []
    for i in numbers:
        values = {"bureau_id": f"B{i:04d}", "bureau_name": f"第{i:04d}单位", **bureau_data(i)}
        values.update(overrides.get(f"B{i:04d}", {}))
        rows.append(RosterRow(i + 2, values))
    good, bad = validate_roster(_spec(), rows)
    assert bad == []
    return good


def _distribute(start: int, stop: int, folder: str) -> None:
    """Distribute bureaus [start, stop) (run in a worker process: generation is CPU bound)."""
    overrides = {"B0003": {"project_name": INJECTION}}
    distribute(_spec(), _roster(range(start, stop), **overrides), Path(folder))


def _file(folder: Path, i: int) -> Path:
    return folder / f"B{i:04d}_{TEMPLATE}_v1.xlsx"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _set_text(
    source: Path, target: Path, field_id: str, text: str, unprotect: bool = False
) -> Path:
    """Type ``text`` into a field's cell as a unit would in Excel: a text cell, never a formula
    (openpyxl would otherwise store a leading '=' as a formula)."""
    workbook = openpyxl.load_workbook(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    sheet, coordinate = ref(workbook, field_id)
    if unprotect:
        sheet.protection.sheet = False
    cell = sheet[coordinate]
    cell.value = text
    cell.data_type = "s"
    workbook.save(target)
    return target


@dataclass
class Corpus:
    bureaus: int
    returns: Path
    out: Path
    summary: Path
    hashes: dict[Path, str]
    stdout: str
    exit_code: int
    seconds: float
    expected_inputs: set[str]
    rejected: dict[str, str]  # display -> expected code (prefix)
    superseded: str
    superseded_by: str


@pytest.fixture(scope="module", params=[100, pytest.param(1000, marks=pytest.mark.slow)])
def corpus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    bureaus = int(request.param)
    base = tmp_path_factory.mktemp(f"merge{bureaus}")
    returns = base / "returns"
    returns.mkdir()
    half = bureaus // 2
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_distribute, (0, half), (half, bureaus), (str(returns), str(returns))))
    (returns / "manifest.csv").unlink()  # the distribution's own list: not a return
    spec = _spec()
    now = time.time()
    for path in returns.glob("*.xlsx"):
        os.utime(path, (now - 7200, now - 7200))

    # A resubmission of B0002 (different figures), an hour later: supersedes the first one.
    resubmitted = base / "resubmitted"
    distribute(spec, _roster(range(2, 3), B0002={"funds_current_spent": 10.0}), resubmitted)
    late = returns / "补交" / "B0002_第二次提交.xlsx"
    late.parent.mkdir()
    late.write_bytes(_file(resubmitted, 2).read_bytes())
    os.utime(late, (now - 3600, now - 3600))

    # B0001 "improved" its form: protection removed, a fixed weight raised. Rejected, and it
    # does not supersede the honest return.
    tampered = returns / "被篡改_B0001.xlsx"
    workbook = openpyxl.load_workbook(_file(returns, 1))
    sheet, coordinate = ref(workbook, "funds_total_weight")
    sheet.protection.sheet = False
    sheet[coordinate].value = 20
    workbook.save(tampered)

    # A zip of three returns (bureaus 1001-1003), in a folder inside the archive.
    zipped = base / "zipped"
    distribute(spec, _roster(range(1001, 1004)), zipped)
    with zipfile.ZipFile(returns / "第二批.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(1001, 1004):
            archive.write(_file(zipped, i), f"batch/{_file(zipped, i).name}")

    # A careless fill: B1004 gets a distributed copy (project, unit, budget pre-filled) and
    # fills the rest with xltools.fill, badly: text where a number belongs, no phone.
    careless_dir = base / "careless"
    prefilled_keys = (
        "project_name",
        "department",
        "unit_name",
        "funds_current_initial",
        "funds_current_budget",
    )
    full = bureau_data(1004)
    partial = [
        RosterRow(
            2,
            {"bureau_id": "B1004", "bureau_name": "第1004单位"}
            | {k: full[k] for k in prefilled_keys},
        )
    ]
    good, bad = validate_roster(spec, partial)
    assert bad == []
    distribute(spec, good, careless_dir)
    rest = {k: v for k, v in full.items() if k not in prefilled_keys and k != "phone"}
    rest["ind_output_quantity_1_actual"] = "全覆盖"
    careless = returns / "B1004_粗心填写.xlsx"
    assert fill_workbook(_file(careless_dir, 1004), spec, rest, careless) == []

    # Junk and foreign files.
    (returns / "乱码.xlsx").write_bytes(random.Random(7).randbytes(4096))
    (returns / "空文件.xlsx").write_bytes(b"")
    (returns / "说明.txt").write_text("请查收附件。", encoding="utf-8")
    (returns / "旧版.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    foreign = openpyxl.Workbook()
    foreign.active.append(["单位", "得分"])  # type: ignore[union-attr]
    foreign.active.append(["某单位", 95])  # type: ignore[union-attr]
    foreign.save(returns / "自制表格.xlsx")
    with zipfile.ZipFile(returns / "炸弹.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("huge.xlsx", b"\0" * (4 * 1024 * 1024))

    hashes = {p: _sha(p) for p in returns.rglob("*") if p.is_file()}
    expected_inputs = {str(p) for p in hashes if p.name != "第二批.zip"} | {
        f"{returns / '第二批.zip'}!batch/{_file(zipped, i).name}" for i in range(1001, 1004)
    }
    rejected = {
        str(tampered): "tamper-",
        str(returns / "乱码.xlsx"): "read-",
        str(returns / "空文件.xlsx"): "read-empty-file",
        str(returns / "说明.txt"): "read-not-a-zip",
        str(returns / "旧版.xls"): "read-legacy-xls",
        str(returns / "自制表格.xlsx"): "not-a-template",
        str(returns / "炸弹.zip"): "archive-zip-bomb",
    }

    out = base / "out"
    summary = out / "汇总.xlsx"
    started = time.perf_counter()
    result = CliRunner().invoke(
        merge_command,
        [
            str(returns),
            "-o",
            str(summary),
            "--csv",
            str(out / "csv"),
            "--parquet",
            str(out / "parquet"),
            "--sqlite",
            str(out / "汇总.sqlite"),
            "--workers",
            "2",
            "--specs",
            str(SPECS),
        ],
    )
    seconds = time.perf_counter() - started
    print(f"\nmerge of {len(expected_inputs)} inputs, --workers 2: {seconds:.1f} s")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return Corpus(
        bureaus,
        returns,
        out,
        summary,
        hashes,
        result.stdout,
        result.exit_code,
        seconds,
        expected_inputs,
        rejected,
        str(_file(returns, 2)),
        str(late),
    )


def _sheet(path: Path, name: str) -> list[dict[str, Any]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = workbook[name].iter_rows(values_only=True)
        header = [str(h) for h in next(rows)]
        return [dict(zip(header, row, strict=True)) for row in rows]
    finally:
        workbook.close()


# ---- accounting ---------------------------------------------------------------------------


def test_every_input_is_accounted_for_once(corpus: Corpus) -> None:
    n = len(corpus.expected_inputs)
    assert n == corpus.bureaus + 12
    accepted, superseded, rejected = corpus.bureaus + 4, 1, 7
    assert accepted + superseded + rejected == n
    assert (
        f"输入 {n} 个文件：采纳 {accepted}，被替代 {superseded}，未采纳 {rejected}" in corpus.stdout
    )
    assert corpus.exit_code == 1  # some inputs were rejected
    manifest = _sheet(corpus.summary, "清单")
    files = [row["文件"] for row in manifest]
    assert len(files) == len(set(files)) == n
    assert set(files) == corpus.expected_inputs
    statuses = [row["状态"] for row in manifest]
    assert statuses.count("采纳") == accepted
    assert statuses.count("被替代") == superseded
    assert statuses.count("未采纳") == rejected
    assert all(row["SHA-256"] and row["大小（字节）"] is not None for row in manifest)
    summary = _sheet(corpus.summary, "汇总")
    assert len(summary) == accepted
    assert len({row["单位编号"] for row in summary}) == accepted  # one row per bureau


def test_rejected_sheet_lists_each_file_with_its_reason(corpus: Corpus) -> None:
    rows = {row["文件"]: row for row in _sheet(corpus.summary, "未采纳")}
    assert set(rows) == set(corpus.rejected) | {corpus.superseded}
    for file, code in corpus.rejected.items():
        assert rows[file]["状态"] == "未采纳"
        assert str(rows[file]["代码"]).startswith(code), (file, rows[file])
        assert rows[file]["原因"]
    assert "不是工作簿" in rows[str(corpus.returns / "说明.txt")]["原因"]
    assert "压缩炸弹" in rows[str(corpus.returns / "炸弹.zip")]["原因"]
    assert "被篡改" in rows[str(corpus.returns / "被篡改_B0001.xlsx")]["原因"]
    late = rows[corpus.superseded]
    assert late["状态"] == "被替代"
    assert late["替代它的文件"] == corpus.superseded_by
    assert late["单位编号"] == "B0002"


def test_summary_agrees_with_check_file(corpus: Corpus) -> None:
    rows = {row["文件"]: row for row in _sheet(corpus.summary, "汇总")}
    reg = registry()
    step = max(1, corpus.bureaus // 15)
    sample = [str(_file(corpus.returns, i)) for i in range(0, corpus.bureaus, step) if i != 2]
    sample += [corpus.superseded_by, str(corpus.returns / "B1004_粗心填写.xlsx")]
    for file in sample:
        report, _ = check_file(Path(file), reg)
        row = rows[file]
        assert row["总分"] == pytest.approx(report.total)
        assert row["等次"] == report.grade
        assert (row["错误数"], row["警告数"], row["提示数"]) == (
            report.count("error"),
            report.count("warning"),
            report.count("info"),
        )
        assert row["单位编号"] == report.bureau_id
        assert row["全年预算数"] == pytest.approx(report.values["funds_total_budget"])
        assert row["执行率"] == pytest.approx(report.values["funds_total_rate"])
        assert row["产出指标得分"] == pytest.approx(report.values["ind_output_score"])
        assert row["SHA-256"] == report.sha256
    careless = rows[str(corpus.returns / "B1004_粗心填写.xlsx")]
    assert careless["错误数"] > 0  # accepted, with its errors counted
    assert rows[corpus.superseded_by]["全年执行数"] == pytest.approx(10.0)  # the resubmission


def test_zip_members_are_inputs_of_their_own(corpus: Corpus) -> None:
    rows = {row["文件"]: row for row in _sheet(corpus.summary, "汇总")}
    members = [f for f in rows if "第二批.zip!batch/" in f]
    assert sorted(rows[f]["单位编号"] for f in members) == ["B1001", "B1002", "B1003"]
    with zipfile.ZipFile(corpus.returns / "第二批.zip") as archive:
        data = archive.read(f"batch/B1001_{TEMPLATE}_v1.xlsx")
    member = next(f for f in members if "B1001" in f)
    assert rows[member]["SHA-256"] == hashlib.sha256(data).hexdigest()


def test_indicators_and_findings_sheets(corpus: Corpus) -> None:
    indicators = _sheet(corpus.summary, "指标明细")
    b0000 = [row for row in indicators if row["单位编号"] == "B0000"]
    assert [row["三级指标"] for row in b0000][:2] == ["城乡居民医保征收工作经费", "参保率"]
    assert b0000[0]["一级指标"] == "产出指标" and b0000[0]["二级指标"] == "数量指标"
    assert all(row["三级指标"] for row in indicators)
    assert {row["单位编号"] for row in indicators} == {
        row["单位编号"] for row in _sheet(corpus.summary, "汇总")
    }
    findings = _sheet(corpus.summary, "问题清单")
    files = {row["文件"] for row in findings}
    assert set(corpus.rejected) <= files
    careless = [row for row in findings if row["文件"].endswith("B1004_粗心填写.xlsx")]
    assert any(row["级别"] == "错误" and row["单元格"] for row in careless)


def test_no_text_overflows_its_cell_in_any_sheet(corpus: Corpus) -> None:
    """Long reasons, paths, zip members and typed formulas all wrap and fit (issue 17)."""
    assert overflowing_cells(corpus.summary) == []


def test_analyst_outputs_hold_the_same_tables(corpus: Corpus) -> None:
    import pyarrow.parquet as pq

    database = sqlite3.connect(corpus.out / "汇总.sqlite")
    for key, sheet in (
        ("summary", "汇总"),
        ("indicators", "指标明细"),
        ("findings", "问题清单"),
        ("rejected", "未采纳"),
        ("manifest", "清单"),
    ):
        rows = len(_sheet(corpus.summary, sheet))
        raw = (corpus.out / "csv" / f"{key}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese
        with (corpus.out / "csv" / f"{key}.csv").open(encoding="utf-8-sig", newline="") as f:
            assert len(list(csv.DictReader(f))) == rows
        assert database.execute(f'SELECT COUNT(*) FROM "{key}"').fetchone()[0] == rows
        assert pq.read_table(corpus.out / "parquet" / f"{key}.parquet").num_rows == rows
    database.close()


def test_formula_text_stays_text_everywhere(corpus: Corpus) -> None:
    workbook = openpyxl.load_workbook(corpus.summary)
    sheet = workbook["汇总"]
    header = [c.value for c in sheet[1]]
    project, bureau = header.index("项目"), header.index("单位编号")
    row = next(r for r in sheet.iter_rows(min_row=2) if r[bureau].value == "B0003")
    assert row[project].value == INJECTION
    assert row[project].data_type == "s"
    with (corpus.out / "csv" / "summary.csv").open(encoding="utf-8-sig", newline="") as f:
        line = next(r for r in csv.DictReader(f) if r["bureau_id"] == "B0003")
    assert line["project"] == "'" + INJECTION
    database = sqlite3.connect(corpus.out / "汇总.sqlite")
    (stored,) = database.execute("SELECT project FROM summary WHERE bureau_id = 'B0003'").fetchone()
    database.close()
    assert stored == "'" + INJECTION


def test_inputs_unmodified_and_outputs_complete(corpus: Corpus) -> None:
    now = {p: _sha(p) for p in corpus.returns.rglob("*") if p.is_file()}
    assert now == corpus.hashes
    leftovers = [p for p in corpus.out.rglob("*") if p.name.startswith(".xltools-")]
    assert leftovers == []
    assert corpus.seconds < 120, f"merge took {corpus.seconds:.0f} s"


# ---- the rules, on small inputs -------------------------------------------------------------


@pytest.fixture(scope="module")
def returns_of_two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two bureaus, B0000 and B0001, as distributed and returned."""
    folder = tmp_path_factory.mktemp("two")
    distribute(_spec(), _roster(range(2)), folder)
    (folder / "manifest.csv").unlink()
    return folder


def _copy(source: Path, target: Path, mtime: float) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    os.utime(target, (mtime, mtime))
    return target


@pytest.mark.parametrize("rule", ["latest", "first"])
def test_supersede_rules(rule: str, returns_of_two: Path, tmp_path: Path) -> None:
    first = _copy(_file(returns_of_two, 0), tmp_path / "in" / "a_第一次.xlsx", 1_000_000)
    second = _copy(_file(returns_of_two, 0), tmp_path / "in" / "b_第二次.xlsx", 2_000_000)
    other = _copy(_file(returns_of_two, 1), tmp_path / "in" / "c.xlsx", 1_500_000)
    with merge(
        [tmp_path / "in"],
        specs_dir=SPECS,
        supersede="latest" if rule == "latest" else "first",
    ) as result:
        assert (result.counts.accepted, result.counts.superseded) == (2, 1)
        kept = set(result.summary["file"])
        loser = result.rejected.iloc[0]
    winner, looser = (second, first) if rule == "latest" else (first, second)
    assert kept == {str(winner), str(other)}
    assert loser["file"] == str(looser)
    assert loser["superseded_by"] == str(winner)


def test_supersede_tie_goes_to_the_larger_name(returns_of_two: Path, tmp_path: Path) -> None:
    a = _copy(_file(returns_of_two, 0), tmp_path / "in" / "a.xlsx", 1_000_000)
    b = _copy(_file(returns_of_two, 0), tmp_path / "in" / "b.xlsx", 1_000_000)
    with merge([a, b], specs_dir=SPECS) as result:
        assert list(result.summary["file"]) == [str(b)]


def test_without_bureau_id_the_key_is_unit_and_project(tmp_path: Path) -> None:
    template = tmp_path / "template.xlsx"
    spec = _spec()
    generate_template(spec, template)
    data = flatten(example_data())
    a = tmp_path / "in" / "a.xlsx"
    b = tmp_path / "in" / "b.xlsx"
    c = tmp_path / "in" / "c.xlsx"
    for path, project in ((a, "项目甲"), (b, "项目甲"), (c, "项目乙")):
        path.parent.mkdir(exist_ok=True)
        assert fill_workbook(template, spec, dict(data, project_name=project), path) == []
    os.utime(a, (1_000_000, 1_000_000))
    with merge([tmp_path / "in"], specs_dir=SPECS) as result:
        assert result.line == "输入 3 个文件：采纳 2，被替代 1，未采纳 0"
        assert set(result.summary["file"]) == {str(b), str(c)}


def test_strict_rejects_files_with_errors(tmp_path: Path) -> None:
    template = tmp_path / "template.xlsx"
    spec = _spec()
    generate_template(spec, template)
    data = flatten(example_data())
    good, bad = tmp_path / "in" / "good.xlsx", tmp_path / "in" / "bad.xlsx"
    good.parent.mkdir()
    assert fill_workbook(template, spec, data, good) == []
    without_phone = {k: v for k, v in data.items() if k != "phone"}
    assert fill_workbook(template, spec, dict(without_phone, unit_name="乙单位"), bad) == []
    with merge([good, bad], specs_dir=SPECS) as result:
        assert result.line == "输入 2 个文件：采纳 2，被替代 0，未采纳 0"
        errors = dict(zip(result.summary["file"], result.summary["errors"], strict=True))
        assert errors[str(bad)] > 0 and errors[str(good)] == 0
    with merge([good, bad], specs_dir=SPECS, strict=True) as strict:
        assert strict.line == "输入 2 个文件：采纳 1，被替代 0，未采纳 1"
        row = strict.rejected.iloc[0]
        assert (row["file"], row["code"]) == (str(bad), "strict-errors")


def test_api_returns_dataframes(returns_of_two: Path) -> None:
    with merge([returns_of_two], specs_dir=SPECS, workers=2) as result:
        assert result.line == "输入 2 个文件：采纳 2，被替代 0，未采纳 0"
        assert list(result.summary["bureau_id"]) == ["B0000", "B0001"]
        assert {"total", "grade", "execution_rate", "score_output"} <= set(result.summary)
        assert len(result.indicators) == 2 * 11
        assert len(result.manifest) == 2
        assert result.rejected.empty
    with pytest.raises(RuntimeError):  # the spool is gone once the result is closed
        _ = result.findings


class _Backwards:
    """An executor of our own (as a Dask one will be): results arrive in any order."""

    def run(self, paths: Any, specs_dir: str | None) -> Any:
        for index in reversed(range(len(paths))):
            yield index, check_one(paths[index], specs_dir)


def test_any_executor_in_any_order(returns_of_two: Path, tmp_path: Path) -> None:
    (tmp_path / "junk.xlsx").write_bytes(b"junk")
    inputs = [_file(returns_of_two, 0), tmp_path / "junk.xlsx", _file(returns_of_two, 1)]
    with merge(inputs, specs_dir=SPECS, executor=_Backwards()) as result:
        assert result.line == "输入 3 个文件：采纳 2，被替代 0，未采纳 1"
        assert list(result.manifest["file"]) == [str(p) for p in inputs]
        assert list(result.manifest["status"]) == ["accepted", "rejected", "accepted"]


def test_check_one_is_picklable(returns_of_two: Path) -> None:
    found = check_one(str(_file(returns_of_two, 0)), str(SPECS))
    again = pickle.loads(pickle.dumps(found))
    assert again.bureau_id == "B0000" and again.candidate and again.indicators


def test_globs_folders_and_junk(returns_of_two: Path, tmp_path: Path) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    _copy(_file(returns_of_two, 0), tmp_path / "in" / "sub" / "x.xlsx", 1_000_000)
    (tmp_path / "in" / "~$x.xlsx").write_bytes(b"lock")
    (tmp_path / "in" / "x.checked.xlsx").write_bytes(b"copy")
    (tmp_path / "in" / "sub" / "readme.md").write_text("hi", encoding="utf-8")
    pattern = str(tmp_path / "in" / "**" / "*.xlsx")
    with merge([pattern], specs_dir=SPECS) as result:
        codes = dict(zip(result.manifest["file"], result.manifest["code"].fillna(""), strict=True))
    assert codes == {
        str(tmp_path / "in" / "sub" / "x.xlsx"): "",
        str(tmp_path / "in" / "~$x.xlsx"): "skipped-temporary",
        str(tmp_path / "in" / "x.checked.xlsx"): "skipped-checked-copy",
    }
    runner = CliRunner()
    missing = runner.invoke(merge_command, [str(tmp_path / "nope"), "-o", str(tmp_path / "s.xlsx")])
    assert missing.exit_code == 2 and "usage-file-not-found" in missing.output
    nomatch = runner.invoke(
        merge_command, [str(tmp_path / "*.none"), "-o", str(tmp_path / "s.xlsx")]
    )
    assert nomatch.exit_code == 2 and "usage-no-match" in nomatch.output
    same = tmp_path / "in" / "sub" / "x.xlsx"
    refused = runner.invoke(merge_command, [str(same), "-o", str(same)])
    assert refused.exit_code == 2 and "usage-output-is-input" in refused.output


def test_zip_members_cannot_escape_and_bombs_are_refused(
    returns_of_two: Path, tmp_path: Path
) -> None:
    data = _file(returns_of_two, 0).read_bytes()
    archive = tmp_path / "in" / "returns.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("../../evil.xlsx", data)
        z.writestr("dir/", b"")
        z.writestr("__MACOSX/._evil.xlsx", b"junk")
    many = tmp_path / "in" / "many.zip"
    with zipfile.ZipFile(many, "w") as z:
        for n in range(6):
            z.writestr(f"{n}.xlsx", b"x")
    limits = ArchiveLimits(max_members=5)
    with merge([tmp_path / "in"], specs_dir=SPECS, archive_limits=limits) as result:
        codes = dict(zip(result.manifest["file"], result.manifest["code"], strict=True))
        statuses = dict(zip(result.manifest["file"], result.manifest["status"], strict=True))
    assert statuses[f"{archive}!../../evil.xlsx"] == "accepted"
    assert codes[f"{archive}!__MACOSX/._evil.xlsx"] == "skipped-hidden"
    assert codes[str(many)] == "archive-too-many-members"
    assert not (tmp_path / "evil.xlsx").exists() and not (tmp_path.parent / "evil.xlsx").exists()
    assert len(codes) == 3


def test_several_archives_and_an_empty_one(returns_of_two: Path, tmp_path: Path) -> None:
    for name, i in (("a.zip", 0), ("b.zip", 1)):
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            z.writestr("x.xlsx", _file(returns_of_two, i).read_bytes())
    with zipfile.ZipFile(tmp_path / "0.zip", "w"):
        pass
    with merge([tmp_path], specs_dir=SPECS) as result:
        assert result.line == "输入 3 个文件：采纳 2，被替代 0，未采纳 1"
        assert set(result.summary["bureau_id"]) == {"B0000", "B0001"}
        assert list(result.rejected["code"]) == ["archive-empty"]


def test_zip_member_names_written_on_chinese_windows(returns_of_two: Path, tmp_path: Path) -> None:
    """A GBK member name without the UTF-8 flag (what Windows' own zip tool writes)."""
    archive = tmp_path / "gbk.zip"
    data = _file(returns_of_two, 0).read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("PLACEHOLDER.xlsx", data)
    gbk = "汇总表.xlsx".encode("gbk")
    raw = buffer.getvalue().replace(b"PLACEHOLDER.xlsx", gbk.ljust(16, b"_")[:16])
    archive.write_bytes(raw)
    with merge([archive], specs_dir=SPECS) as result:
        (name,) = result.manifest["file"]
    assert name.startswith(f"{archive}!汇总表")


@pytest.mark.skipif(sys.platform != "linux", reason="file names are bytes only on Linux")
def test_file_names_in_gbk_bytes_are_merged_and_readable(
    returns_of_two: Path, tmp_path: Path
) -> None:
    """A file copied from a Windows USB stick: its name is GBK bytes, held by Python as
    surrogate escapes that SQLite, the workbook and the terminal cannot take."""
    folder = tmp_path / "usb"
    folder.mkdir()
    raw_name = os.fsdecode("单位一.xlsx".encode("gbk"))
    (folder / raw_name).write_bytes(_file(returns_of_two, 0).read_bytes())
    (folder / os.fsdecode(b"\xff\xfe.xlsx")).write_bytes(b"not a workbook")
    target = tmp_path / "汇总.xlsx"
    with merge([folder], specs_dir=SPECS, outputs=Outputs(xlsx=target)) as result:
        assert result.counts.accepted == 1
        files = list(result.manifest["file"])
    assert str(folder / "单位一.xlsx") in files
    assert str(folder / "\ufffd\ufffd.xlsx") in files
    assert target.exists()


def test_parquet_without_pyarrow_is_a_clear_error(
    returns_of_two: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    result = CliRunner().invoke(
        merge_command,
        [str(returns_of_two), "-o", str(tmp_path / "s.xlsx"), "--parquet", str(tmp_path / "p")],
    )
    assert result.exit_code == 2
    assert "pyarrow" in result.output and "xltools[analyst]" in result.output
    assert not (tmp_path / "s.xlsx").exists()


def test_outputs_are_atomic(
    returns_of_two: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out" / "汇总.xlsx"
    target.parent.mkdir()
    target.write_bytes(b"the previous summary")
    import xltools.merge.workbook as writer

    def broken(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(writer, "_statistics_sheet", broken)
    with pytest.raises(OSError, match="disk full"):
        merge([returns_of_two], specs_dir=SPECS, outputs=Outputs(xlsx=target))
    assert target.read_bytes() == b"the previous summary"
    assert [p.name for p in target.parent.iterdir()] == ["汇总.xlsx"]
    monkeypatch.undo()
    with merge([returns_of_two], specs_dir=SPECS, outputs=Outputs(xlsx=target)) as result:
        assert result.counts.accepted == 2
    assert zipfile.is_zipfile(target)
    assert [p.name for p in target.parent.iterdir()] == ["汇总.xlsx"]


def test_neutralise() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", INJECTION):
        assert neutralise(text) == "'" + text
    for value in ("项目", "1-2", "", None, -5.0, 3):
        assert neutralise(value) == value


def test_command_module_imports_only_click() -> None:
    code = (
        "import sys, xltools.merge.command; "
        "heavy = {'pandas', 'xlsxwriter', 'openpyxl', 'pyarrow', 'yaml'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- LibreOffice ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def typed_injection(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A return whose unit typed the formula-looking text into 项目名称, merged."""
    folder = tmp_path_factory.mktemp("typed")
    template = folder / "template.xlsx"
    spec = _spec()
    generate_template(spec, template)
    filled = folder / "filled.xlsx"
    assert fill_workbook(template, spec, example_data(), filled) == []
    returned = _set_text(filled, folder / "in" / "返回.xlsx", "project_name", INJECTION)
    summary = folder / "out" / "summary.xlsx"
    with merge(
        [returned], specs_dir=SPECS, outputs=Outputs(xlsx=summary, csv=folder / "csv")
    ) as result:
        assert result.counts.accepted == 1
        assert result.summary.loc[0, "project"] == "'" + INJECTION
    return summary, folder


def _project_cell(path: Path) -> Any:
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["汇总"]
    header = [c.value for c in sheet[1]]
    return sheet.cell(row=2, column=header.index("项目") + 1)


def test_typed_formula_text_is_plain_text(typed_injection: tuple[Path, Path]) -> None:
    summary, folder = typed_injection
    cell = _project_cell(summary)
    assert (cell.value, cell.data_type) == (INJECTION, "s")
    with (folder / "csv" / "indicators.csv").open(encoding="utf-8-sig", newline="") as f:
        assert {r["project"] for r in csv.DictReader(f)} == {"'" + INJECTION}


@pytest.mark.libreoffice
def test_libreoffice_opens_summary_as_text_with_charts(
    typed_injection: tuple[Path, Path], tmp_path: Path
) -> None:
    from xltools.libreoffice import recalculate

    summary, _ = typed_injection
    (converted,) = recalculate([summary], tmp_path)
    cell = _project_cell(converted)
    assert cell.value == INJECTION and cell.data_type == "s"
    with zipfile.ZipFile(converted) as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3
    workbook = openpyxl.load_workbook(converted, read_only=True)
    assert workbook.sheetnames == [
        "概况",
        "汇总",
        "指标明细",
        "问题清单",
        "未采纳",
        "清单",
        "统计",
        "字段说明",
    ]
    workbook.close()


def test_expand_takes_each_file_once_and_leaves_out_the_outputs(tmp_path: Path) -> None:
    """Links to a file already named, a folder named through a link, and the merge's own
    outputs under the input folder: each real file is one input, outputs none."""
    from xltools.merge.inputs import expand

    inputs = tmp_path / "in"
    (inputs / "a").mkdir(parents=True)
    (inputs / "a" / "one.xlsx").write_bytes(b"1")
    (inputs / "a" / "two.xlsx").write_bytes(b"2")
    (inputs / "link-to-one.xlsx").symlink_to(inputs / "a" / "one.xlsx")
    (tmp_path / "folder-link").symlink_to(inputs / "a", target_is_directory=True)
    (inputs / "out" / "csv").mkdir(parents=True)
    (inputs / "out" / "summary.xlsx").write_bytes(b"s")
    (inputs / "out" / "csv" / "summary.csv").write_bytes(b"c")
    (inputs / "out-not-under.xlsx").write_bytes(b"3")  # shares a prefix with "out", not under it
    found = expand(
        [inputs, tmp_path / "folder-link", inputs / "a" / ".." / "a" / "two.xlsx"],
        workdir=tmp_path / "work",
        exclude=[inputs / "out" / "summary.xlsx", inputs / "out" / "csv"],
    )
    assert sorted(Path(item.path).name for item in found) == [
        "one.xlsx",
        "out-not-under.xlsx",
        "two.xlsx",
    ]
