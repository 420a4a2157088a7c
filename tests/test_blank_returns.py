"""Returns sent back unfilled: 未填写 in one line, never accepted, scored or averaged."""

from __future__ import annotations

import shutil
from pathlib import Path

from check_fixtures import example_data, filled, registry, spec
from click.testing import CliRunner

from xltools.check.run import check_file
from xltools.cli import main
from xltools.generate import generate_template

ROOT = Path(__file__).resolve().parent.parent


def test_a_blank_template_is_said_to_be_blank_in_one_line(tmp_path: Path) -> None:
    for template in sorted((ROOT / "templates").glob("*.xlsx")):
        report, _ = check_file(template, registry())
        assert report.blank, template.name
        first = report.findings[0]
        assert (first.severity, first.code) == ("info", "return-blank")
        # the per-field findings stay, as the template's own 自检 panel counts them
        missing = [f for f in report.findings if f.code == "value-required"]
        assert missing and f"另有 {len(missing)} 个必填项未填" in first.message
        assert report.total is None and report.grade == ""
        assert f"{template}: 未填写，错误 " in report.summary_line()
    result = CliRunner().invoke(main, ["check", "--no-copy", str(template)])
    lines = result.output.splitlines()
    assert len(lines) == 2 and "[未填写] - return-blank: 此表未填写" in lines[1], result.output


def test_a_return_with_only_its_header_typed_is_near_blank(tmp_path: Path) -> None:
    header_only = {k: v for k, v in example_data().items() if k in ("unit_name", "phone", "filler")}
    report, _ = check_file(filled(tmp_path, header_only), registry())
    assert report.blank and "评分所需" in report.findings[0].message


def test_a_filled_return_is_not_blank(tmp_path: Path) -> None:
    report, _ = check_file(filled(tmp_path), registry())
    assert not report.blank and report.total == 100.0
    partly = {k: v for k, v in example_data().items() if k.startswith("funds_")}
    report, _ = check_file(filled(tmp_path, partly, "partly.xlsx"), registry())
    assert not report.blank
    assert any(f.code == "value-required" for f in report.findings)  # said field by field


def test_merge_never_accepts_or_averages_a_blank_return(tmp_path: Path) -> None:
    returns = tmp_path / "returns"
    returns.mkdir()
    generate_template(spec(), returns / "空白.xlsx")
    shutil.copy(filled(tmp_path), returns / "已填.xlsx")
    out = tmp_path / "summary.xlsx"
    result = CliRunner().invoke(main, ["merge", str(returns), "-o", str(out)])
    assert "采纳 1" in result.output and "未采纳 1" in result.output, result.output
    assert "未填写" in result.output

    from xltools.merge import merge

    with merge([returns], workers=1) as merged:
        assert list(merged.summary["total"]) == [100.0]
        manifest = merged.manifest.set_index("status")
        assert list(manifest.loc[["rejected"], "code"]) == ["return-blank"]
