"""What the first screen of ``校验结果`` says: a title, the verdict with its counts, the next
step, and the few facts an officer checks (file, template, unit, score, when). Words only:
``report_sheet`` lays them out. Everything here is Chinese for people; no template id, field
id or finding code (those stay in the hidden columns of the table and in ``--json``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from ..report import Report

Verdict = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class FirstScreen:
    title: str
    verdict: Verdict
    status: str  # 结论 with the counts, one line
    next_step: str
    details: list[tuple[str, object]]  # label, value


def template_name(report: Report) -> str:
    """The template as people know it: its title and version (the id only when the spec has no
    title, which the bundled specs never lack)."""
    if not report.template:
        return "未识别（不是本工具下发的自评表）"
    name = report.title or report.template
    return f"{name}（第 {report.version} 版）" if report.version else name


def first_screen(report: Report, now: dt.datetime | None = None) -> FirstScreen:
    errors, warnings, infos = (report.count(s) for s in ("error", "warning", "info"))
    counts = f"错误 {errors} 个，警告 {warnings} 个，提示 {infos} 个"
    verdict: Verdict
    if report.blank:
        verdict, word = "fail", "未填写"
        step = "此表未填写（可能误交了空白模板）：请填写后重新提交。"
    elif not report.readable:
        verdict, word = "fail", "不通过"
        step = "此文件不能作为自评表检查：按下表“说明”处理，用下发的模板填写后重新提交。"
    elif errors:
        verdict, word = "fail", "不通过"
        step = (
            f"按下表逐项改正 {errors} 个错误（表中已标红；点“单元格”一列可跳到该格），"
            "保存后重新提交。"
        )
        if warnings:
            step += f"标黄的 {warnings} 个警告请一并核实。"
    elif warnings:
        verdict, word = "warn", "通过"
        step = f"可以提交；提交前请核实下表的 {warnings} 个警告（表中已标黄）。"
    else:
        verdict, word = "pass", "通过"
        step = "无需修改，可以提交。"
    title = "校验结果：" + (report.title or "自评表")
    when = (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    details: list[tuple[str, object]] = [
        ("文件", report.file),
        ("模板", template_name(report)),
        ("单位", report.bureau_name or report.unit),
        ("重算总分", report.total if report.total is not None else ""),
        ("评价等次", report.grade),
        ("检查时间", when),
    ]
    return FirstScreen(title, verdict, f"结论：{word}（{counts}）", f"下一步：{step}", details)
