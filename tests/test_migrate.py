"""Versions carried forward: every bundled spec, a made-up version 2 of it (one field renamed,
one removed, one added, as ``previous:`` declares), a return filled on version 1 and migrated
by ``xltools migrate``; the old-version policies of check and merge."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from xltools.check.run import check_file
from xltools.cli import main
from xltools.fill import fill_workbook
from xltools.registry import Registry
from xltools.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
NEW_FIELD = {"id": "remark_v2", "label": "备注（第2版新增）", "type": "text", "max_length": 200}


def _free_inputs(raw: dict[str, Any], text: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(block, field) of plain input fields that nothing else in the spec names."""
    found = []
    for sheet in raw["sheets"]:
        for block in sheet.get("blocks") or []:
            if block.get("kind") != "fields":
                continue
            for field in block.get("fields") or []:
                fid = field.get("id", "")
                plain = not any(k in field for k in ("value", "rule", "formula", "required"))
                if plain and len(re.findall(rf"\b{re.escape(fid)}\b", text)) == 1:
                    found.append((block, field))
    return found


def make_v2(spec_path: Path, folder: Path, **extra: Any) -> dict[str, Any]:
    """Version 1 (as bundled) and a version 2 of it in ``folder``; the changes made."""
    text = spec_path.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    shutil.copy(spec_path, folder / f"{raw['template']}.v1.yaml")
    free = _free_inputs(raw, text)
    renamed: dict[str, str] = {}
    removed: list[str] = []
    if free:
        block, field = free[0]
        renamed[field["id"]] = field["id"] + "_v2"
        field["id"] += "_v2"
    if len(free) > 1:
        block, field = free[1]
        block["fields"].remove(field)
        removed.append(field["id"])
    first_fields = next(
        b for s in raw["sheets"] for b in s.get("blocks") or [] if b.get("kind") == "fields"
    )
    first_fields["fields"].append(dict(NEW_FIELD))
    raw["version"] = 2
    raw["previous"] = {"version": 1, "renamed": renamed, "removed": removed}
    raw.update(extra)
    target = folder / f"{raw['template']}.v2.yaml"
    target.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load_spec(target)  # a spec lint accepts
    return {"template": raw["template"], "renamed": renamed, "removed": removed}


SAMPLE = {"text": "（测试）迁移值", "date": "2024-03-15"}


def filled_v1(spec_path: Path, tmp: Path, changes: dict[str, Any] | None = None) -> Path:
    """The example return of version 1, with the renamed and removed fields filled too."""
    spec = load_spec(spec_path)
    data = yaml.safe_load((ROOT / "examples" / spec_path.name).read_text(encoding="utf-8"))
    for field_id in [*(changes or {}).get("renamed", {}), *(changes or {}).get("removed", [])]:
        data.setdefault(field_id, SAMPLE[spec.fields[field_id].type])
    target = tmp / "v1_return.xlsx"
    template = ROOT / "templates" / f"{spec.template}_v{spec.version}.xlsx"
    assert fill_workbook(template, spec, data, target) == []
    return target


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_every_bundled_spec_migrates_to_a_made_up_version_2(spec_path: Path, tmp_path: Path):
    specs = tmp_path / "specs"
    specs.mkdir()
    changes = make_v2(spec_path, specs)
    old = filled_v1(spec_path, tmp_path, changes)
    registry = Registry.load(specs)
    before, _ = check_file(old, registry)
    assert before.version == 1
    assert any(f.code == "old-version" for f in before.findings)  # the default: accept

    out = tmp_path / "v2_return.xlsx"
    result = CliRunner().invoke(
        main, ["migrate", str(old), "-o", str(out), "--specs", str(specs), "--json"]
    )
    assert result.exit_code == 0, result.output
    moved = json.loads(result.output)
    assert (moved["from_version"], moved["to_version"]) == (1, 2)
    after, _ = check_file(out, registry)
    assert after.version == 2 and not any(f.code.startswith("tamper-") for f in after.findings)
    # every carried value is in the new workbook under its new id
    for item in moved["carried"]:
        assert after.values[item["to"]] == before.values[item["from"]], item
    for old_id, new_id in changes["renamed"].items():
        assert before.values[old_id] not in (None, "")
        assert (old_id, new_id) in [(c["from"], c["to"]) for c in moved["carried"]]
        assert after.values[new_id] == before.values[old_id]
    for old_id in changes["removed"]:
        assert old_id not in after.values
        assert old_id in [r["field"] for r in moved["removed"]]
    # only what is new in version 2 is asked for, not what the unit left empty in version 1
    assert [a["field"] for a in moved["added"]] == ["remark_v2"]
    # the renamed and removed fields feed no score: the verdict is the same
    assert (after.total, after.grade) == (before.total, before.grade)
    assert after.count("error") == before.count("error")
    assert old.read_bytes() == (tmp_path / "v1_return.xlsx").read_bytes()  # never modified


def test_migration_reports_in_chinese_and_refuses_a_current_return(tmp_path: Path):
    spec_path = ROOT / "specs" / "department_overall.yaml"
    specs = tmp_path / "specs"
    specs.mkdir()
    make_v2(spec_path, specs)
    old = filled_v1(spec_path, tmp_path)
    out = tmp_path / "v2.xlsx"
    runner = CliRunner()
    result = runner.invoke(main, ["migrate", str(old), "-o", str(out), "--specs", str(specs)])
    assert result.exit_code == 0, result.output
    assert "第 1 版 → 第 2 版" in result.output and "搬运" in result.output
    assert "[可补填] “备注（第2版新增）”" in result.output
    again = runner.invoke(main, ["migrate", str(out), "-o", str(tmp_path / "x.xlsx"),
                                 "--specs", str(specs)])  # fmt: skip
    assert again.exit_code == 1
    assert "[migrate-already-current]" in again.output and "无需迁移" in again.output


def test_a_value_the_new_rules_refuse_is_listed_not_written(tmp_path: Path):
    spec_path = ROOT / "specs" / "department_overall.yaml"
    specs = tmp_path / "specs"
    specs.mkdir()
    make_v2(spec_path, specs)
    v2 = specs / "department_overall.v2.yaml"
    raw = yaml.safe_load(v2.read_text(encoding="utf-8"))
    raw["sheets"][0]["blocks"][0]["fields"][0]["max_length"] = 3  # dept_name now at most 3
    v2.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    old = filled_v1(spec_path, tmp_path)
    out = tmp_path / "v2.xlsx"
    result = CliRunner().invoke(
        main, ["migrate", str(old), "-o", str(out), "--specs", str(specs), "--json"]
    )
    assert result.exit_code == 0, result.output
    refused = json.loads(result.output)["refused"]
    assert [r["field"] for r in refused] == ["dept_name"]
    after, _ = check_file(out, Registry.load(specs))
    assert after.values["dept_name"] in (None, "")


def test_a_version_without_declared_changes_cannot_be_migrated(tmp_path: Path):
    spec_path = ROOT / "specs" / "department_overall.yaml"
    specs = tmp_path / "specs"
    specs.mkdir()
    make_v2(spec_path, specs)
    v2 = specs / "department_overall.v2.yaml"
    raw = yaml.safe_load(v2.read_text(encoding="utf-8"))
    del raw["previous"]
    v2.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    old = filled_v1(spec_path, tmp_path)
    result = CliRunner().invoke(
        main, ["migrate", str(old), "-o", str(tmp_path / "o.xlsx"), "--specs", str(specs)]
    )
    assert result.exit_code == 1
    assert "[migrate-no-path]" in result.output and "previous" in result.output
    assert not (tmp_path / "o.xlsx").exists()


def test_refuse_policy_makes_an_old_return_an_error_naming_where_to_get_the_new(tmp_path: Path):
    spec_path = ROOT / "specs" / "department_overall.yaml"
    specs = tmp_path / "specs"
    specs.mkdir()
    make_v2(spec_path, specs, old_versions="refuse", obtain="从市财政局网站“下载专区”下载")
    old = filled_v1(spec_path, tmp_path)
    report, _ = check_file(old, Registry.load(specs))
    refusal = next(f for f in report.findings if f.code == "superseded-version")
    assert refusal.severity == "error"
    assert "现行为第 2 版" in refusal.message and "下载专区" in refusal.message
    assert not report.valid


def test_merge_migrates_old_returns_when_the_bureau_says_so(tmp_path: Path):
    spec_path = ROOT / "specs" / "department_overall.yaml"
    specs = tmp_path / "specs"
    specs.mkdir()
    changes = make_v2(spec_path, specs, old_versions="migrate")
    returns = tmp_path / "returns"
    returns.mkdir()
    old = filled_v1(spec_path, returns, changes)
    before, _ = check_file(old, Registry.load(specs))
    assert any(f.code == "old-version-migrate" for f in before.findings)

    from xltools.merge.worker import check_one

    result = check_one(str(old), str(specs))
    assert result.candidate and result.version == 2
    assert result.total == before.total and result.grade == before.grade
    assert any(f[1] == "old-version-migrated" for f in result.findings)
    assert changes["renamed"]
    for old_id, new_id in changes["renamed"].items():
        assert result.migrated[new_id] == before.values[old_id] != ""


def test_lint_holds_previous_to_this_version(tmp_path: Path):
    from xltools.spec.lint import lint_file

    specs = tmp_path / "specs"
    specs.mkdir()
    make_v2(ROOT / "specs" / "department_overall.yaml", specs)
    v2 = specs / "department_overall.v2.yaml"
    raw = yaml.safe_load(v2.read_text(encoding="utf-8"))
    raw["previous"] = {"version": 2, "renamed": {"a": "no_such"}, "removed": ["dept_name"]}
    v2.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _, problems = lint_file(v2)
    codes = {p.code for p in problems}
    assert {
        "spec-previous-version",
        "spec-previous-unknown-field",
        "spec-previous-removed-present",
    } <= codes


def test_the_readme_example_is_a_spec_lint_accepts(tmp_path: Path):
    from xltools.spec.lint import lint_file

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### New versions of a form", 1)[1]
    block = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, flags=re.S).group(1))
    specs = tmp_path / "specs"
    specs.mkdir()
    make_v2(ROOT / "specs" / f"{block['template']}.yaml", specs)
    v2 = specs / f"{block['template']}.v2.yaml"
    raw = yaml.safe_load(v2.read_text(encoding="utf-8"))
    raw.update(block)
    v2.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    spec, problems = lint_file(v2)
    assert spec is not None and problems == [], problems
    assert spec.previous is not None and spec.previous.renamed == block["previous"]["renamed"]
    assert (spec.old_versions, spec.obtain) == ("migrate", block["obtain"])
