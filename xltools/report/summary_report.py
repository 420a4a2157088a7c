"""``xltools merge … --report 汇总报告.docx``: the bureau's summary of a round of returns.

一、收文情况 (the merge's own accounting: received, accepted, superseded, rejected with
reasons, skipped), 二、评价等次与得分分布 (tables and matplotlib charts), 三、得分排名,
四、低于“合格”的单位, 五、常见问题 (the most frequent findings), and a marked placeholder for
the bureau's own opinion. Every figure comes from the :class:`~xltools.merge.MergeResult`: the
checker's recomputed scores, never a workbook's cached results."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from docx.shared import Cm

from ..check.report import SEVERITY_LABEL
from ..merge.spool import STATUS_LABELS
from ..registry import Registry
from . import charts, figures
from . import docx_style as style
from .return_report import save

if TYPE_CHECKING:
    from ..merge.result import MergeResult

PASS_GRADE: Final = "合格"
DEFAULT_PASS: Final = 60.0  # a spec without a 合格 band: the usual pass line
FREQUENT: Final = 10  # findings listed in 五、常见问题


@dataclass(frozen=True)
class Ranked:
    rank: int
    title: str
    unit: str
    project: str
    total: float
    grade: str
    rate: float | None
    errors: int
    below: bool  # below the 合格 line of its spec


def _text(value: Any) -> str:
    if value is None or isinstance(value, float) and math.isnan(value):
        return ""
    return str(value).strip()


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def pass_line(registry: Registry, template: str, version: int) -> float:
    """The lower bound of the 合格 band of a template's spec (60 when it has none)."""
    spec = registry.find(template, version)
    if spec is not None:
        for band in spec.grade_bands:
            if band.grade == PASS_GRADE and band.min is not None:
                return band.min
    return DEFAULT_PASS


def ranking(result: MergeResult, registry: Registry) -> list[Ranked]:
    """Accepted returns with a total, best first; equal totals share a rank."""
    rows = []
    for row in result.summary.to_dict("records"):
        total = _float(row.get("total"))
        if total is None:
            continue
        unit = _text(row.get("unit")) or f"（文件 {Path(_text(row.get('file'))).name}）"
        version = int(row.get("version") or 0)
        line = pass_line(registry, _text(row.get("template")), version)
        rows.append(
            (
                total,
                _text(row.get("title")),
                unit,
                _text(row.get("project")),
                _text(row.get("grade")),
                _float(row.get("execution_rate")),
                int(row.get("errors") or 0),
                total < line - 1e-9,
            )
        )
    rows.sort(key=lambda r: (-r[0], r[1], r[2], r[3]))
    ranked: list[Ranked] = []
    for n, (total, title, unit, project, grade, rate, errors, below) in enumerate(rows, start=1):
        rank = ranked[-1].rank if ranked and ranked[-1].total == total else n
        ranked.append(Ranked(rank, title, unit, project, total, grade, rate, errors, below))
    return ranked


def grade_counts(result: MergeResult) -> list[tuple[str, int]]:
    """(grade, accepted returns) best grade first, as the 统计 sheet orders them."""
    summary = result.summary
    totals: dict[str, list[float]] = {}
    for row in summary.to_dict("records"):
        grade = _text(row.get("grade")) or "（无等次）"
        total = _float(row.get("total"))
        totals.setdefault(grade, []).append(total if total is not None else -1.0)
    order = sorted(totals, key=lambda g: (-sum(totals[g]) / len(totals[g]), g))
    return [(grade, len(totals[grade])) for grade in order]


def frequent_findings(
    result: MergeResult, limit: int = FREQUENT
) -> list[tuple[str, str, int, int, str]]:
    """(code, severity, files, occurrences, an example message) of the errors and warnings
    found in the returns, most files first."""
    occurrences: Counter[str] = Counter()
    files: dict[str, set[str]] = {}
    example: dict[str, tuple[str, str]] = {}
    for row in result.findings.to_dict("records"):
        severity = _text(row.get("severity"))
        if severity not in ("error", "warning") or _text(row.get("status")) == "skipped":
            continue
        code = _text(row.get("code"))
        occurrences[code] += 1
        files.setdefault(code, set()).add(_text(row.get("file")))
        example.setdefault(code, (severity, _text(row.get("message"))))
    order = sorted(occurrences, key=lambda c: (-len(files[c]), -occurrences[c], c))
    return [
        (code, example[code][0], len(files[code]), occurrences[code], example[code][1])
        for code in order[:limit]
    ]


def build_summary_report(
    result: MergeResult, registry: Registry, *, today: dt.date | None = None
) -> Any:
    counts = result.counts
    title = "预算绩效自评汇总报告"
    document = style.new_document(title=title)
    document.add_paragraph(title, style="Title")
    titles = sorted({_text(t) for t in result.summary["title"] if _text(t)})
    if titles:
        style.paragraph(document, "（" + "、".join(f"《{t}》" for t in titles) + "）", center=True)
    day = today or dt.date.today()
    style.paragraph(
        document,
        f"（由 xltools 汇总 {counts.inputs} 个返回文件生成，{day.year}年{day.month}月{day.day}日）",
        center=True,
    )
    style.paragraph(
        document,
        "说明：本报告的得分和等次均由各单位填报内容按自评表规范重新计算，不取工作簿中显示的结果；"
        "底色标注的【待填写】段落须由汇总单位撰写。",
    )
    _received(document, result)
    ranked = ranking(result, registry)
    _distribution(document, result, ranked)
    _ranking(document, ranked)
    _below(document, ranked)
    _findings(document, result)
    style.heading(document, "六、汇总意见", 1)
    style.placeholder(
        document, "对本轮自评总体情况的评价、需要关注的单位和问题，以及结果应用的意见"
    )
    return document


def write_summary_report(result: MergeResult, target: Path, registry: Registry) -> None:
    """Write the 汇总报告 of ``result`` to ``target`` (atomically; ReportError on failure)."""
    save(build_summary_report(result, registry), target)


def count_rows(result: MergeResult) -> list[list[str]]:
    counts = result.counts
    rows = [
        ["收到的文件", str(counts.inputs)],
        ["采纳", str(counts.accepted)],
        ["被替代（同一单位另有一份被采纳）", str(counts.superseded)],
        ["未采纳", str(counts.rejected)],
    ]
    if counts.skipped:
        rows.append(["跳过（不是提交的原件）", str(counts.skipped)])
    return rows


def _received(document: Any, result: MergeResult) -> None:
    style.heading(document, "一、收文情况", 1)
    style.paragraph(document, f"{result.line}。")
    style.table(document, ["项目", "份数"], count_rows(result), numeric=(1,), widths=(10, 5.8))
    rows = []
    for row in result.not_accepted():
        status = _text(row.get("status"))
        reason = f"[{_text(row.get('code'))}] {_text(row.get('reason'))}"
        rows.append([Path(_text(row.get("file"))).name, STATUS_LABELS.get(status, status), reason])
    if rows:
        style.paragraph(document, "未采纳、被替代和跳过的文件及原因：", indent=False, bold=True)
        style.table(document, ["文件", "状态", "原因"], rows, widths=(4.2, 1.6, 10), size=9)


def _picture(document: Any, png: bytes) -> None:
    document.add_picture(io.BytesIO(png), width=Cm(14))
    document.paragraphs[-1].alignment = 1  # centred


def _distribution(document: Any, result: MergeResult, ranked: Sequence[Ranked]) -> None:
    style.heading(document, "二、评价等次与得分分布", 1)
    grades = grade_counts(result)
    if not grades:
        style.paragraph(document, "没有采纳的自评表，无等次和得分可统计。")
        return
    totals = [r.total for r in ranked]
    if totals:
        average = sum(totals) / len(totals)
        style.paragraph(
            document,
            f"采纳的 {len(result.summary)} 份自评表中，有总分的 {len(totals)} 份，平均总分 "
            f"{figures.score(average)} 分，最高 {figures.score(max(totals))} 分，最低 "
            f"{figures.score(min(totals))} 分。",
        )
    style.heading(document, "（一）评价等次分布", 2)
    style.table(
        document,
        ["评价等次", "份数"],
        [[g, str(n)] for g, n in grades],
        numeric=(1,),
        widths=(10, 5.8),
    )
    _picture(
        document,
        charts.bar_chart([g for g, _ in grades], [n for _, n in grades], title="评价等次分布"),
    )
    if totals:
        style.heading(document, "（二）总分分布", 2)
        bins = charts.histogram_bins(totals)
        rows = [[f"{n * 10}–{n * 10 + 10}", str(c)] for n, c in enumerate(bins) if c]
        style.table(document, ["总分段", "份数"], rows, numeric=(1,), widths=(10, 5.8))
        _picture(document, charts.score_histogram(totals))


def _ranking(document: Any, ranked: Sequence[Ranked]) -> None:
    style.heading(document, "三、得分排名", 1)
    if not ranked:
        style.paragraph(document, "没有可排名的自评表。")
        return
    rows = [
        [
            str(r.rank),
            r.unit,
            r.project,
            r.title,
            figures.score(r.total),
            r.grade,
            figures.percent(r.rate) if r.rate is not None else "",
            str(r.errors),
        ]
        for r in ranked
    ]
    style.table(
        document,
        ["名次", "单位", "项目", "自评表", "总分", "等次", "执行率", "错误数"],
        rows,
        numeric=(0, 4, 6, 7),
        widths=(1.0, 3.0, 3.0, 3.4, 1.7, 1.2, 1.9, 1.2),
        size=9,
    )


def _below(document: Any, ranked: Sequence[Ranked]) -> None:
    style.heading(document, f"四、低于“{PASS_GRADE}”的单位", 1)
    below = [r for r in ranked if r.below]
    if not below:
        style.paragraph(document, f"采纳的自评表中没有低于“{PASS_GRADE}”的单位。")
        return
    style.paragraph(
        document, f"共 {len(below)} 份自评表的总分低于所用自评表规定的“{PASS_GRADE}”线："
    )
    rows = [[r.unit, r.project, r.title, figures.score(r.total), r.grade] for r in below]
    style.table(
        document,
        ["单位", "项目", "自评表", "总分", "等次"],
        rows,
        numeric=(3,),
        widths=(3.4, 3.4, 4.6, 1.6, 1.6),
        size=9,
    )
    style.placeholder(document, "对上述单位的整改要求和跟踪安排")


def _findings(document: Any, result: MergeResult) -> None:
    style.heading(document, "五、常见问题", 1)
    found = frequent_findings(result)
    if not found:
        style.paragraph(document, "检查未发现错误或警告。")
        return
    style.paragraph(document, "检查各返回文件时出现最多的问题（错误和警告；按涉及的文件数排列）：")
    rows = [
        [code, SEVERITY_LABEL.get(severity, severity), str(n_files), str(n), message]
        for code, severity, n_files, n, message in found
    ]
    style.table(
        document,
        ["代码", "级别", "文件数", "次数", "示例说明"],
        rows,
        numeric=(2, 3),
        widths=(5.0, 1.2, 1.3, 1.2, 7.1),
        size=9,
    )
