"""The quick start's main job, end to end on the bundled specs and examples.

It lints every spec, generates every template, fills each bundled example as a bureau would,
distributes pre-filled workbooks to a sample roster, and reports the recomputed totals and
grades, checks what comes back, writes a 自评报告 (Word) of each filled example and merges the
returns into one summary workbook and a 汇总报告.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import yaml

from .engine import recompute
from .fill import fill_workbook, flatten
from .generate import generate_template
from .registry import PACKAGE_SPECS
from .roster import distribute, read_roster, validate_roster
from .spec import Spec, load_spec
from .spec.lint import lint_file

EXAMPLES = PACKAGE_SPECS.parent / "examples"


def run_demo(out: Path, say: Callable[[str], None]) -> int:
    """Returns the number of problems met (0 when everything worked)."""
    problems = 0
    spec_paths = sorted(PACKAGE_SPECS.glob("*.yaml"))
    say(f"1. 检查规范：{len(spec_paths)} 个")
    specs = {}
    for path in spec_paths:
        _, found = lint_file(path)
        for problem in found:
            say(f"   {problem}")
        problems += len(found)
        if not found:
            spec = load_spec(path)
            specs[spec.template] = spec
    say(f"2. 生成模板 → {out / 'templates'}")
    templates = {}
    for template_id, spec in specs.items():
        target = out / "templates" / f"{template_id}_v{spec.version}.xlsx"
        generate_template(spec, target)
        templates[template_id] = target
        say(f"   {target.name}")
    say(f"3. 按示例数据填写 → {out / 'filled'}")
    for example in sorted(EXAMPLES.glob("*.yaml")):
        if example.stem not in specs:
            continue
        spec = specs[example.stem]
        data = yaml.safe_load(example.read_text(encoding="utf-8"))
        target = out / "filled" / f"{example.stem}.xlsx"
        refusals = fill_workbook(templates[spec.template], spec, data, target)
        for refusal in refusals:
            say(f"   {example.name}: {refusal}")
        problems += len(refusals)
        values = recompute(spec, flatten(data))
        summary = _summary(values)
        say(f"   {target.name}  {spec.title}{summary}")
    for roster in sorted(EXAMPLES.glob("roster_*.csv")):
        template_id = roster.stem.removeprefix("roster_")
        if template_id not in specs:
            continue
        spec = specs[template_id]
        destination = out / "distributed" / template_id
        good, bad = validate_roster(spec, read_roster(roster))
        for roster_problem in bad:
            say(f"   {roster.name}: {roster_problem}")
        problems += len(bad)
        manifest = distribute(spec, good, destination)
        say(
            f"4. 按名册 {roster.name} 分发 {len(good)} 份预填工作簿 → {destination}（清单 {manifest.name}）"
        )
    returns = _returns_as_bureaus_send_them(out, specs, templates)
    say(
        f"5. 检查 {len(returns)} 份返回的文件（部分填写粗心、一份被篡改、一份未填写、一份根本不是工作簿）→ {out / 'checked'}"
    )
    from .check.files import run_checks

    for result in run_checks(
        returns, output=out / "checked", copy=True, specs_dir=PACKAGE_SPECS, progress=False
    ):
        say("   " + result.report.summary_line().replace(str(out) + "/", ""))
    problems += _return_reports(out, say)
    _merge_returns(out, say)
    manifest = out / "distributed" / "project_expense_2023" / "manifest.csv"
    if manifest.is_file():
        say(
            f"8. 收件页（需 pip install 'xltools[serve]'）：xltools serve --roster {manifest} "
            f"--data {out / 'serve'}  各单位用 {out / 'serve' / 'tokens.csv'} 中的口令上传，立即得到检查结果"
        )
    say(f"完成：输出在 {out}" + ("" if not problems else f"；{problems} 个问题见上"))
    return problems


def _return_reports(out: Path, say: Callable[[str], None]) -> int:
    """Step 6: one 自评报告 per filled example (Word), from the checker's recomputation."""
    from .registry import Registry
    from .report import ReportError
    from .report.return_report import write_return_report

    reports = out / "reports"
    say(f"6. 自评报告（Word）→ {reports}")
    registry = Registry.load(PACKAGE_SPECS)
    failed = 0
    for filled in sorted((out / "filled").glob("*.xlsx")):
        target = reports / f"{filled.stem}_自评报告.docx"
        try:
            write_return_report(filled, target, registry)
        except ReportError as error:
            say(f"   {filled.name}: [{error.code}] {error.message}")
            failed += 1
            continue
        say(f"   {target.name}")
    return failed


def _merge_returns(out: Path, say: Callable[[str], None]) -> None:
    """Step 7: merge everything that came back into one summary workbook, analyst CSVs and
    the 汇总报告. Rejected files (the junk, the tampered one) are expected here, not problems
    of the demo."""
    from .merge import Outputs, merge
    from .registry import Registry
    from .report.summary_report import write_summary_report

    summary, analyst = out / "summary.xlsx", out / "analyst"
    report = out / "汇总报告.docx"
    say(f"7. 汇总 {out / 'returned'} → {summary}（分析用 CSV → {analyst}，汇总报告 → {report}）")
    with merge(
        [out / "returned"],
        specs_dir=PACKAGE_SPECS,
        outputs=Outputs(xlsx=summary, csv=analyst),
        workers=1,
    ) as result:
        prefix = str(out / "returned") + "/"
        for row in result.rejected.itertuples():
            label = {"superseded": "被替代", "skipped": "跳过"}.get(str(row.status), "未采纳")
            say(f"   {label} {Path(str(row.file)).name}：{str(row.reason).replace(prefix, '')}")
        write_summary_report(result, report, Registry.load(PACKAGE_SPECS))
        say(f"   {result.line}")


def _returns_as_bureaus_send_them(
    out: Path, specs: Mapping[str, Spec], templates: Mapping[str, Path]
) -> list[Path]:
    """The filled examples, plus what really arrives: a careless fill, a tampered file, a blank
    template sent back by mistake, and a file that is not a workbook at all."""
    returned = out / "returned"
    returned.mkdir(parents=True, exist_ok=True)
    files = []
    for filled in sorted((out / "filled").glob("*.xlsx")):
        target = returned / filled.name
        target.write_bytes(filled.read_bytes())
        files.append(target)
    spec = specs.get("project_expense_2023")
    if spec is not None:
        data = yaml.safe_load((EXAMPLES / "project_expense_2023.yaml").read_text(encoding="utf-8"))
        careless = dict(data, ind_output_quantity_1_actual="全覆盖", funds_current_spent=130)
        careless.pop("phone", None)
        target = returned / "粗心填写_project_expense_2023.xlsx"
        if not fill_workbook(templates[spec.template], spec, careless, target):
            files.append(target)
        tampered = returned / "被篡改_project_expense_2023.xlsx"
        _tamper(returned / "project_expense_2023.xlsx", tampered)
        files.append(tampered)
    if "department_overall" in templates:  # the blank template sent back by mistake: 未填写
        blank = returned / "空白_department_overall.xlsx"
        blank.write_bytes(templates["department_overall"].read_bytes())
        files.append(blank)
    junk = returned / "不是工作簿.xlsx"
    junk.write_bytes("这是一封邮件正文，被误存为 .xlsx".encode())
    files.append(junk)
    return files


def _tamper(source: Path, target: Path) -> None:
    """What a unit 'improving' its form does: unprotect, raise a weight, type over a score."""
    import openpyxl

    workbook = openpyxl.load_workbook(source)
    for name, value in (("funds_total_weight", 20), ("total_score", 100)):
        sheet_name, coordinate = next(iter(workbook.defined_names[name].destinations))
        sheet = workbook[sheet_name]
        sheet.protection.sheet = False
        sheet[coordinate.replace("$", "")].value = value
    workbook.save(target)


def _summary(values: Mapping[str, object]) -> str:
    parts = []
    for key, label in (("total_score", "总分"), ("grade", "等次")):
        if key in values and values[key] not in ("", None):
            parts.append(f"{label} {values[key]}")
    return "：" + "，".join(parts) if parts else ""
