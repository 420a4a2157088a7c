"""`xltools check DIR`: what is not a workbook is listed apart, zips are opened as merge opens
them, copies go to a 已检查 folder (or -o) with a normal file's mode, and merge skips them."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from check_fixtures import ROOT, filled
from click.testing import CliRunner

from xltools.cli import main
from xltools.merge import merge

SPECS = ROOT / "specs"


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def returns(tmp_path: Path) -> Path:
    """A folder as it comes back: two returns (one in a sub-folder), one zipped with a note,
    and what else people send and their machines leave behind."""
    folder = tmp_path / "返回"
    (folder / "二科").mkdir(parents=True)
    good = filled(tmp_path)
    (folder / "甲县.xlsx").write_bytes(good.read_bytes())
    (folder / "二科" / "乙县.xlsx").write_bytes(good.read_bytes())
    (folder / "说明.pdf").write_bytes(b"%PDF-1.4 invented")
    (folder / "名单.csv").write_text("单位,电话\n测试单位,13800000000\n", encoding="utf-8")
    (folder / "报告.docx").write_bytes(b"PK\x03\x04 not really")
    (folder / "~$甲县.xlsx").write_bytes(b"lock")
    (folder / ".DS_Store").write_bytes(b"\x00")
    with zipfile.ZipFile(folder / "补交.zip", "w") as archive:
        archive.writestr("丙县/丙县.xlsx", good.read_bytes())
        archive.writestr("丙县/说明.txt", "见附件".encode())
    return folder


def _check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "--specs", str(SPECS), *args])
    assert "Traceback" not in result.output and "internal-error" not in result.output
    return result.exit_code, result.output


def test_a_folder_lists_non_workbooks_apart_and_opens_zips(
    returns: Path, usual_umask: None
) -> None:
    code, output = _check(str(returns), "-q")
    assert code == 0, output  # the pdf, csv, docx are not failed returns
    lines = output.splitlines()
    for name in ("说明.pdf", "名单.csv", "报告.docx", "补交.zip!丙县/说明.txt"):
        line = next(x for x in lines if name in x)
        assert line.startswith("跳过（不是工作簿）") and "[skipped-not-workbook]" in line
    assert any(x.startswith("跳过（临时锁定文件）") and "~$甲县.xlsx" in x for x in lines)
    assert any(x.startswith("跳过（隐藏文件）") and ".DS_Store" in x for x in lines)
    assert any("补交.zip!丙县/丙县.xlsx: 通过" in x for x in lines)
    assert "共 3 个文件：3 个通过，0 个不通过。另跳过 6 个" in output
    checked = returns / "已检查"
    copies = sorted(p.relative_to(checked).as_posix() for p in checked.rglob("*.xlsx"))
    assert copies == ["二科/乙县.checked.xlsx", "甲县.checked.xlsx", "补交_丙县_丙县.checked.xlsx"]
    for copy in checked.rglob("*.xlsx"):  # a copy is for colleagues: a normal file's mode
        assert stat.S_IMODE(copy.stat().st_mode) == 0o644, copy
    assert not list(returns.glob("*.checked.xlsx")) and not list(returns.glob(".xltools-*"))


def test_a_second_check_and_a_merge_skip_the_copies(returns: Path, tmp_path: Path) -> None:
    assert _check(str(returns), "-q")[0] == 0
    code, output = _check(str(returns), "-q")
    assert code == 0, output
    assert "跳过（检查副本） 3 个" in output and "[skipped-checked-copy]" in output
    assert not list((returns / "已检查").rglob("*.checked.checked.xlsx"))
    for junk in ("说明.pdf", "名单.csv", "报告.docx", "~$甲县.xlsx", ".DS_Store"):
        (returns / junk).unlink()
    with zipfile.ZipFile(returns / "补交.zip", "w") as archive:
        archive.writestr("丙县.xlsx", (returns / "甲县.xlsx").read_bytes())
    (returns / "另一份.checked.xlsx").write_bytes(b"an old copy beside the returns")
    with merge([returns], specs_dir=SPECS, workers=1) as result:
        statuses = dict(zip(result.manifest["file"], result.manifest["status"], strict=True))
        assert result.counts.rejected == 0 and result.counts.skipped == 4, statuses
        assert result.line.endswith("未采纳 0，跳过 4")
    copies = [f for f, s in statuses.items() if s == "skipped"]
    assert all("已检查" in f or f.endswith(".checked.xlsx") for f in copies)
    from xltools.merge.command import merge_command

    cli = CliRunner().invoke(
        merge_command, [str(returns), "-o", str(tmp_path / "汇总.xlsx"), "--specs", str(SPECS)]
    )
    assert cli.exit_code == 0, cli.output  # skipped copies do not make a merge fail
    assert "未采纳" not in cli.output.replace("未采纳 0", "")
    assert "跳过 4 个文件" in cli.output and "[skipped-checked-copy]" in cli.output


def test_copies_go_into_the_output_folder(returns: Path, tmp_path: Path) -> None:
    out = tmp_path / "检查结果"
    code, output = _check(str(returns), "-q", "-o", str(out))
    assert code == 0, output
    copies = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.xlsx"))
    assert copies == ["二科/乙县.checked.xlsx", "甲县.checked.xlsx", "补交_丙县_丙县.checked.xlsx"]
    assert not (returns / "已检查").exists()
    code, output = _check(str(returns), "-q", "-o", str(out / "x.xlsx"))
    assert code == 2 and "usage-output-not-dir" in output


def test_one_file_keeps_its_copy_beside_it(tmp_path: Path, usual_umask: None) -> None:
    good = filled(tmp_path, name="单位.xlsx")
    code, output = _check(str(good))
    assert code == 0, output
    copy = tmp_path / "单位.checked.xlsx"
    assert copy.exists() and stat.S_IMODE(copy.stat().st_mode) == 0o644
    assert "共 " not in output  # one file: no closing count, as before


def test_several_files_with_the_same_name_get_their_own_copies(tmp_path: Path) -> None:
    good = filled(tmp_path)
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.xlsx").write_bytes(good.read_bytes())
    out = tmp_path / "out"
    code, output = _check(
        str(tmp_path / "a" / "x.xlsx"), str(tmp_path / "b" / "x.xlsx"), "-o", str(out)
    )
    assert code == 0, output
    assert sorted(p.name for p in out.iterdir()) == ["x.checked.xlsx", "x_2.checked.xlsx"]
    code, output = _check(str(tmp_path / "a" / "x.xlsx"), str(tmp_path / "b" / "x.xlsx"), "-q")
    assert (tmp_path / "a" / "已检查" / "x.checked.xlsx").exists()
    assert (tmp_path / "b" / "已检查" / "x.checked.xlsx").exists()


def test_a_zip_given_alone_and_a_broken_zip(returns: Path, tmp_path: Path) -> None:
    code, output = _check(str(returns / "补交.zip"), "--json")
    assert code == 0, output
    document = json.loads(output)
    assert [f["file"] for f in document["files"]] == [f"{returns / '补交.zip'}!丙县/丙县.xlsx"]
    assert document["skipped"][0]["code"] == "skipped-not-workbook"
    assert (returns / "已检查" / "补交_丙县_丙县.checked.xlsx").exists()
    broken = tmp_path / "坏的.zip"
    broken.write_bytes(b"PK\x03\x04 truncated")
    code, output = _check(str(broken), "--no-copy")
    assert code == 1 and "archive-unreadable" in output  # a return that cannot be read fails


def test_nothing_but_non_workbooks_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "说明.pdf").write_bytes(b"%PDF")
    code, output = _check(str(tmp_path))
    assert code == 2 and "usage-no-files" in output and "跳过（不是工作簿）" in output
