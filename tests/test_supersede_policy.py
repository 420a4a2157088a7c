"""Which copy counts (issue 18, part 2): the distribution stamp and a declared policy — the
copy with the fewest errors, the last by submission record or by the workbook's own save
time, never the file system's time alone — and every superseded copy listed with why."""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from check_fixtures import ROOT, example_data, registry
from click.testing import CliRunner

from xltools.fill import fill_workbook, flatten
from xltools.generate import generate_template
from xltools.merge import merge
from xltools.merge.command import merge_command
from xltools.merge.inputs import InputError
from xltools.merge.submissions import read_submissions
from xltools.merge.supersede import Candidate, decide, parse_time
from xltools.xlsx.reader import read_workbook

SPECS = ROOT / "specs"
KEY = ("project_expense_2023", "bureau", "B001")


def _c(index: int, name: str, errors: int = 0, **times: Any) -> Candidate:
    return Candidate(index, KEY, name, errors, sha256=f"sha{index}", **times)


def _only(updates: list[Any]) -> tuple[str, str, str, int | None, int]:
    assert len(updates) == 1, updates
    return updates[0]  # type: ignore[no-any-return]


# ---- the decision, on candidates -----------------------------------------------------------


def test_fewest_errors_beats_a_newer_careless_copy() -> None:
    clean = _c(0, "clean.xlsx", 0, saved=1000.0, mtime=1000.0)
    careless = _c(1, "careless.xlsx", 3, saved=2000.0, mtime=2000.0)
    status, code, reason, by, index = _only(decide([clean, careless], "fewest-errors", False))
    assert (status, code, by, index) == ("superseded", "superseded-errors", 0, 1)
    assert "另有错误更少的一份：clean.xlsx" in reason
    assert "错误 0 个，本份 3 个" in reason and "fewest-errors" in reason
    assert "同一单位（编号 B001）" in reason


def test_equal_errors_go_to_the_workbook_save_time_not_the_file_time() -> None:
    # copied from a USB stick: the earlier-saved workbook has the newer file time
    early = _c(0, "a.xlsx", 1, saved=1000.0, mtime=9000.0)
    late = _c(1, "b.xlsx", 1, saved=2000.0, mtime=1000.0)
    _, code, reason, by, index = _only(decide([early, late], "fewest-errors", False))
    assert (code, by, index) == ("superseded-saved", 1, 0)
    assert "工作簿保存时间较晚" in reason and "1970-01-01 00:33:20 UTC" in reason


def test_the_file_time_decides_only_last_and_says_so() -> None:
    a = _c(0, "a.xlsx", 0, saved=1000.0, mtime=5000.0)
    b = _c(1, "b.xlsx", 0, saved=1000.0, mtime=4000.0)
    _, code, reason, by, index = _only(decide([a, b], "fewest-errors", False))
    assert (code, by, index) == ("superseded-file-time", 0, 1)
    assert "两份的错误数、工作簿保存时间相同" in reason
    assert "U 盘" in reason and "请核实" in reason


def test_a_group_without_save_times_skips_them() -> None:
    a = _c(0, "a.xlsx", 0, saved=None, mtime=5000.0)
    b = _c(1, "b.xlsx", 0, saved=3000.0, mtime=4000.0)
    _, code, reason, by, _ = _only(decide([a, b], "saved", False))
    assert (code, by) == ("superseded-file-time", 0)  # one copy records no save time
    assert "两份的" not in reason  # nothing else was compared


def test_then_the_larger_name() -> None:
    a = _c(0, "in/a.xlsx", 0, saved=1.0, mtime=1.0)
    b = _c(1, "in/b.xlsx", 0, saved=1.0, mtime=1.0)
    _, code, reason, by, _ = _only(decide([a, b], "fewest-errors", False))
    assert (code, by) == ("superseded-name", 1)
    assert "文件修改时间都相同" not in reason and "文件修改时间相同" in reason


def test_saved_ignores_errors_and_first_keeps_the_earliest() -> None:
    clean = _c(0, "clean.xlsx", 0, saved=1000.0, mtime=1.0)
    careless = _c(1, "careless.xlsx", 3, saved=2000.0, mtime=1.0)
    assert _only(decide([clean, careless], "saved", False))[3] == 1
    assert _only(decide([clean, careless], "latest", False))[3] == 1  # the same rule
    _, code, reason, by, _ = _only(decide([clean, careless], "first", False))
    assert (code, by) == ("superseded-saved", 0) and "保存时间较早" in reason


def test_submitted_orders_by_the_record() -> None:
    a = _c(0, "a.xlsx", 0, saved=2000.0, submitted=100.0)
    b = _c(1, "b.xlsx", 5, saved=1000.0, submitted=200.0)
    _, code, reason, by, _ = _only(decide([a, b], "submitted", False))
    assert (code, by) == ("superseded-submitted", 1) and "提交记录中另有较晚提交" in reason


def test_an_identical_copy_is_called_a_duplicate() -> None:
    a = Candidate(0, KEY, "a.xlsx", 0, sha256="same", saved=1.0, mtime=1.0)
    b = Candidate(1, KEY, "b.xlsx", 0, sha256="same", saved=1.0, mtime=2.0)
    _, code, reason, by, _ = _only(decide([a, b], "fewest-errors", False))
    assert (code, by) == ("superseded-duplicate", 1) and "内容完全相同" in reason


def test_strict_rejects_before_superseding_and_other_keys_stand_alone() -> None:
    careless = _c(1, "careless.xlsx", 3, saved=2.0)
    other = Candidate(2, (*KEY[:2], "B002"), "other.xlsx", 0)
    updates = decide([_c(0, "clean.xlsx", 0, saved=1.0), careless, other], "saved", True)
    assert [(u[0], u[1], u[4]) for u in updates] == [("rejected", "strict-errors", 1)]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1970-01-01T00:00:10Z", 10.0),
        ("1970-01-01T00:00:10.123456789Z", 10.123456),  # LibreOffice writes nanoseconds
        ("1970-01-01 08:00:10", 10.0),  # no zone: a bureau's clock, UTC+8
        ("1970-01-01T00:00:10+00:00", 10.0),
        ("", None),
        ("昨天", None),
    ],
)
def test_parse_time(text: str, seconds: float | None) -> None:
    found = parse_time(text)
    assert found == (pytest.approx(seconds) if seconds is not None else None)


def test_read_submissions(tmp_path: Path) -> None:
    good = tmp_path / "record.csv"
    good.write_text(
        "\ufefffile,submitted_at\na.xlsx,2024-03-01 09:30\nb.xlsx,2024-03-02T10:00:00+08:00\n",
        encoding="utf-8",
    )
    record = read_submissions(good)
    assert record["b.xlsx"] - record["a.xlsx"] == pytest.approx(24.5 * 3600)
    for body, code in (
        ("name,when\na.xlsx,2024-03-01\n", "usage-submissions-columns"),
        ("file,submitted_at\na.xlsx,上周\n", "usage-submissions-row"),
        (
            "file,submitted_at\na.xlsx,2024-03-01\na.xlsx,2024-03-02\n",
            "usage-submissions-duplicate",
        ),
    ):
        bad = tmp_path / "bad.csv"
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(InputError, match=code):
            read_submissions(bad)


# ---- the workbook's own save time ----------------------------------------------------------


def _set_saved(source: Path, target: Path, when: str, mtime: float) -> Path:
    """``source`` with docProps/core.xml's dcterms:modified set to ``when``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "docProps/core.xml":
                text = re.sub(
                    r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rf"\g<1>{when}\g<2>",
                    data.decode(),
                )
                data = text.encode()
            new.writestr(info, data)
    os.utime(target, (mtime, mtime))
    return target


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A clean fill and a careless fill (3 errors) of the same unit and project."""
    folder = tmp_path_factory.mktemp("copies")
    spec = registry().find("project_expense_2023", 1)
    assert spec is not None
    template = folder / "template.xlsx"
    generate_template(spec, template)
    data = flatten(example_data())
    careless = dict(data, ind_output_quantity_1_actual="全覆盖", funds_current_spent=130)
    careless.pop("phone")
    paths = {"clean": folder / "clean.xlsx", "careless": folder / "careless.xlsx"}
    assert fill_workbook(template, spec, data, paths["clean"]) == []
    assert fill_workbook(template, spec, careless, paths["careless"]) == []
    return paths


def test_the_reader_gives_the_save_time(copies: dict[str, Path], tmp_path: Path) -> None:
    moved = _set_saved(copies["clean"], tmp_path / "x.xlsx", "2024-03-01T09:30:00Z", 1.0)
    assert read_workbook(moved.read_bytes()).saved == "2024-03-01T09:30:00Z"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", read_workbook(copies["clean"].read_bytes()).saved
    )


def test_merge_keeps_the_clean_copy_whatever_the_file_times(
    copies: dict[str, Path], tmp_path: Path
) -> None:
    clean = _set_saved(copies["clean"], tmp_path / "in" / "clean.xlsx", "2024-03-01T09:00:00Z", 1e6)
    careless = _set_saved(
        copies["careless"], tmp_path / "in" / "careless.xlsx", "2024-03-02T09:00:00Z", 2e6
    )
    with merge([tmp_path / "in"], specs_dir=SPECS, workers=1) as result:
        assert result.line == "输入 2 个文件：采纳 1，被替代 1，未采纳 0"
        assert list(result.summary["file"]) == [str(clean)]
        row = result.rejected.iloc[0]
        assert row["file"] == str(careless) and row["superseded_by"] == str(clean)
        assert row["code"] == "superseded-errors"
        manifest = result.manifest.set_index("file")
        assert manifest.loc[str(clean), "saved"] == "2024-03-01T09:00:00Z"


def test_saved_policy_trusts_the_workbook_not_the_file_time(
    tmp_path: Path, copies: dict[str, Path]
) -> None:
    # the later save arrived on a USB stick whose copy left it the older file time
    older = _set_saved(copies["clean"], tmp_path / "in" / "a.xlsx", "2024-03-01T09:00:00Z", 2e6)
    newer = _set_saved(copies["clean"], tmp_path / "in" / "b.xlsx", "2024-03-05T09:00:00Z", 1e6)
    with merge([tmp_path / "in"], specs_dir=SPECS, supersede="saved", workers=1) as result:
        assert list(result.summary["file"]) == [str(newer)]
        row = result.rejected.iloc[0]
        assert row["file"] == str(older) and row["code"] == "superseded-saved"
        assert "保存于 2024-03-05 09:00:00 UTC，本份 2024-03-01 09:00:00 UTC" in row["reason"]


def test_cli_submitted_policy_and_json(tmp_path: Path, copies: dict[str, Path]) -> None:
    clean = _set_saved(copies["clean"], tmp_path / "in" / "clean.xlsx", "2024-03-09T09:00:00Z", 2e6)
    careless = _set_saved(
        copies["careless"], tmp_path / "in" / "careless.xlsx", "2024-03-01T09:00:00Z", 1e6
    )
    record = tmp_path / "record.csv"
    record.write_text(
        "file,submitted_at\nclean.xlsx,2024-03-10 09:00\ncareless.xlsx,2024-03-11 09:00\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    args = [str(tmp_path / "in"), "-o", str(tmp_path / "out.xlsx"), "--workers", "1"]
    run = runner.invoke(
        merge_command, [*args, "--supersede", "submitted", "--submissions", str(record), "--json"]
    )
    assert run.exit_code == 0, run.output
    document = json.loads(run.stdout)
    (row,) = document["not_accepted"]
    assert row["file"] == str(clean) and row["status"] == "superseded"
    assert row["code"] == "superseded-submitted" and row["superseded_by"] == str(careless)
    # the console names the copy kept and why
    plain = runner.invoke(merge_command, args)
    assert plain.exit_code == 0, plain.output
    assert f"被替代 {careless}: [superseded-errors]" in plain.output
    assert "另有错误更少的一份" in plain.output
    # a record without its policy, or the policy without a record, is a usage error
    for extra in (["--submissions", str(record)], ["--supersede", "submitted"]):
        refused = runner.invoke(merge_command, [*args, *extra])
        assert refused.exit_code == 2 and "usage-submissions-policy" in refused.output


def test_the_demo_keeps_the_clean_copy(tmp_path: Path) -> None:
    from xltools.demo import run_demo

    lines: list[str] = []
    run_demo(tmp_path / "out", lines.append)
    text = "\n".join(lines)
    assert "输入 11 个文件：采纳 7，被替代 1，未采纳 3" in text
    (superseded,) = [line for line in lines if line.strip().startswith("被替代")]
    assert "粗心填写_project_expense_2023.xlsx" in superseded
    assert "另有错误更少的一份：project_expense_2023.xlsx" in superseded
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "out" / "summary.xlsx", read_only=True)["汇总"]
    rows = list(sheet.iter_rows(values_only=True))
    files = [Path(str(v)).name for row in rows[1:] for v in row if str(v).endswith(".xlsx")]
    assert "project_expense_2023.xlsx" in files
    assert "粗心填写_project_expense_2023.xlsx" not in files
