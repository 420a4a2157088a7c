"""``xltools report RETURN.xlsx -o 自评报告.docx``: a draft 自评报告 of one return.

The structure is the one the seed reports share: 一、基本情况 (（一）项目概况, （二）资金投入和使用情况),
二、绩效目标, 三、自评情况 (资金, 绩效指标, 自评得分), 四、偏差原因及改进措施 (the form's own
偏差原因 column), 五、问题与建议, and an appendix with the rest of the form. Every figure is the
checker's recomputation (:func:`~xltools.check.run.check_file`, the code path of ``xltools
check``), never a result cached in the workbook. What a person must still write is a shaded
【待填写：…】 paragraph. A return with errors gets a first page that says so, with the findings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..atomic import atomic_path
from ..check.report import SEVERITY_LABEL, Report
from ..registry import Registry
from ..spec.model import Field, IndicatorBlock, ListBlock, Spec, TableBlock
from . import ReportError, figures
from . import docx_style as style
from .layout import HIDDEN_COLUMNS, FieldGroup, ReportLayout, layout_report

NUMERIC_KINDS = frozenset({"money", "number", "percent", "integer"})
SCORE_KEYS = frozenset({"weight", "score"})


def check_return(path: Path, registry: Registry) -> tuple[Report, Spec]:
    """The checker's report of ``path`` and the spec it was checked by; ReportError when the
    file is not a return a report can be written of (unreadable, not one of our templates)."""
    from ..check.run import check_file

    report, _ = check_file(path, registry)
    errors = [f for f in report.sorted_findings() if f.severity == "error"]
    if not report.readable:
        first = errors[0] if errors else None
        why = f"{first.message} [{first.code}]" if first else "不是自评表模板 [not-a-template]"
        raise ReportError(
            "report-not-a-return", f"无法生成自评报告：此文件不是可识别的自评表。{why}"
        )
    spec = registry.find(report.template, report.version)
    if spec is None:
        raise ReportError(
            "report-unknown-template",
            f"无法生成自评报告：规范文件夹中没有模板 {report.template} 第 {report.version} 版",
        )
    return report, spec


def write_return_report(source: Path, output: Path, registry: Registry) -> Report:
    """Check ``source`` and write its 自评报告 to ``output`` (atomically); the check's report."""
    report, spec = check_return(source, registry)
    document = build_return_report(report, spec)
    save(document, output)
    return report


def save(document: Any, output: Path) -> None:
    try:
        with atomic_path(output) as temporary:
            document.save(str(temporary))
    except OSError as error:
        raise ReportError(
            "report-write-failed", f"无法写出 {output}：{error.strerror or error}"
        ) from error


def report_title(spec: Spec) -> str:
    title = spec.title.strip()
    return (title[:-1] if title.endswith("表") else title) + "报告"


def build_return_report(report: Report, spec: Spec, *, today: dt.date | None = None) -> Any:
    """The python-docx Document of one checked return."""
    values = report.values
    layout = layout_report(spec)
    title = report_title(spec)
    document = style.new_document(title=title)
    document.add_paragraph(title, style="Title")
    subject = _subject(layout, values) or report.unit
    if subject:
        style.paragraph(document, subject, center=True, bold=True)
    day = today or dt.date.today()
    style.paragraph(
        document,
        f"（草稿：由 xltools 依据《{spec.title}》第 {spec.version} 版的填报内容生成，"
        f"{day.year}年{day.month}月{day.day}日）",
        center=True,
    )
    style.paragraph(
        document,
        "说明：本报告表格中的数字均由自评表的填报内容按规范重新计算，不取工作簿中显示的结果；"
        "底色标注的【待填写】段落须由单位撰写后方可上报。",
    )
    if not report.valid or report.blank:
        _notice(document, report)
    _basic(document, spec, layout, values)
    _goals(document, layout, values)
    _evaluation(document, spec, layout, report)
    _deviations(document, spec, layout, values)
    style.heading(document, "五、问题与建议", 1)
    style.heading(document, "（一）存在的问题及原因分析", 2)
    style.placeholder(document, "项目实施和资金使用中存在的主要问题及其原因")
    style.heading(document, "（二）下一步改进措施和建议", 2)
    style.placeholder(document, "针对上述问题的改进措施、有关建议，以及自评结果的应用和公开情况")
    _appendix(document, spec, layout, values)
    return document


def _subject(layout: ReportLayout, values: Mapping[str, Any]) -> str:
    for spec_field in layout.header:
        if spec_field.id in ("project_name", "dept_name"):
            return figures.text_of(values.get(spec_field.id))
    return ""


# ---- the first page of a return with errors ------------------------------------------------


def _notice(document: Any, report: Report) -> None:
    errors, warnings = report.count("error"), report.count("warning")
    if report.blank:
        text = (
            "注意：此表未填写（退回的是空白或只有预填内容的表格），检查未通过，"
            "本报告中的数字不能作为自评结果。请单位填写后重新提交、重新生成报告。"
        )
    else:
        text = (
            f"注意：此自评表检查未通过，有错误 {errors} 个、警告 {warnings} 个（见下表）。"
            "报告中的数字按填报内容重新计算，错误改正前本报告不宜上报。"
        )
    notice = style.paragraph(document, text, indent=False, bold=True)
    style.shade(notice._p.get_or_add_pPr(), style.NOTICE_FILL)
    for run in notice.runs:
        run.font.color.rgb = style.RED
    shown = [f for f in report.sorted_findings() if f.severity != "info"]
    if report.blank:
        shown = [f for f in report.findings if f.code == "return-blank"] or shown[:10]
    rows = [
        [
            SEVERITY_LABEL.get(f.severity, f.severity),
            f.cell or f.sheet,
            f.label.replace("/", "·"),
            f"{f.message}（{f.code}）",
        ]
        for f in shown
    ]
    style.paragraph(document, "检查发现的问题：", indent=False, bold=True)
    style.table(
        document,
        ["级别", "位置", "字段", "说明（代码）"],
        rows,
        widths=(1.3, 1.5, 4.0, 9.0),
        size=9,
    )
    infos = report.count("info")
    if infos:
        style.paragraph(
            document, f"另有 {infos} 条提示，见 xltools check 的检查结果。", indent=False
        )
    style.page_break(document)


# ---- 一、基本情况 -----------------------------------------------------------------------------


def _basic(document: Any, spec: Spec, layout: ReportLayout, values: Mapping[str, Any]) -> None:
    style.heading(document, "一、基本情况", 1)
    style.heading(document, "（一）项目概况", 2)
    if layout.header:
        rows = [[f.label, figures.show(f, values.get(f.id))] for f in layout.header]
        style.table(document, ["项目", "内容"], rows, widths=(4.5, 11.3))
    style.placeholder(document, "项目立项依据、主要内容、实施主体和实施期限等概况")
    style.heading(document, "（二）资金投入和使用情况", 2)
    sentence = _funds_sentence(spec, layout, values)
    if sentence:
        style.paragraph(document, sentence)
    style.placeholder(
        document, "资金来源、拨付和使用的管理情况（财务制度执行、专款专用、监督检查等）"
    )


def _funds_sentence(spec: Spec, layout: ReportLayout, values: Mapping[str, Any]) -> str:
    """The first fund table's first row in words: 年度资金总额：全年预算数 124.01 万元，…"""
    table = next((b for b in layout.funds if isinstance(b, TableBlock)), None)
    if table is None or not table.rows:
        return ""
    row = table.rows[0]
    parts = []
    for column in table.columns:
        field_id = table.cells.get((row.key, column.key))
        if field_id is None or column.key in SCORE_KEYS:
            continue
        spec_field = spec.fields[field_id]
        shown = figures.with_unit(spec_field, values.get(field_id))
        if shown:
            parts.append(f"{column.label}{shown}")
    return f"{row.label}：{'，'.join(parts)}。" if parts else ""


# ---- 二、绩效目标 -----------------------------------------------------------------------------


def _goals(document: Any, layout: ReportLayout, values: Mapping[str, Any]) -> None:
    style.heading(document, "二、绩效目标", 1)
    texts = [figures.text_of(values.get(f.id)) for f in layout.goal_expected]
    if any(texts):
        for spec_field, text in zip(layout.goal_expected, texts, strict=True):
            if text:
                style.paragraph(document, f"{spec_field.label}：{text}")
    else:
        style.placeholder(document, "年度总体绩效目标（自评表中未填写）")
    style.placeholder(document, "绩效目标的设定依据，以及分解的产出、效益、满意度等指标的说明")


# ---- 三、自评情况 -----------------------------------------------------------------------------


def _evaluation(document: Any, spec: Spec, layout: ReportLayout, report: Report) -> None:
    values = report.values
    style.heading(document, "三、自评情况", 1)
    number = iter("一二三四五六七八九十")
    if layout.funds:
        style.heading(document, f"（{next(number)}）资金情况", 2)
        for block in layout.funds:
            _funds_block(document, spec, block, values)
    if layout.indicators or layout.goal_actual:
        style.heading(document, f"（{next(number)}）绩效指标完成情况", 2)
        for spec_field in layout.goal_actual:
            text = figures.text_of(values.get(spec_field.id))
            if text:
                style.paragraph(document, f"总体目标{spec_field.label}：{text}")
        for indicators in layout.indicators:
            _caption(document, getattr(indicators, "title", None) or "绩效指标")
            headers, rows, numeric, merge = indicator_table(spec, indicators, values)
            table = style.table(
                document, headers, rows, numeric=numeric, size=9, widths=widths_of(headers)
            )
            _merge_levels(table, merge)
    style.heading(document, f"（{next(number)}）自评得分", 2)
    _scores(document, spec, layout, report)


def _caption(document: Any, text: str) -> None:
    caption = style.paragraph(document, text, center=True, bold=True)
    caption.paragraph_format.keep_with_next = True


def _funds_block(
    document: Any, spec: Spec, block: TableBlock | ListBlock | FieldGroup, values: Mapping[str, Any]
) -> None:
    if isinstance(block, FieldGroup):
        if block.title:
            _caption(document, block.title.rstrip("：:"))
        rows = [[f.label, figures.with_unit(f, values.get(f.id))] for f in block.fields]
        style.table(document, ["项目", "数值"], rows, numeric=(1,), widths=(8, 7.8))
        return
    if isinstance(block, TableBlock):
        _caption(document, block.title or "资金情况")
        headers = [block.corner or "项目", *(c.label for c in block.columns)]
        rows = []
        for row in block.rows:
            cells = [row.label]
            for column in block.columns:
                field_id = block.cells.get((row.key, column.key))
                cells.append(
                    figures.show(spec.fields[field_id], values.get(field_id)) if field_id else ""
                )
            rows.append(cells)
        widths = [3.2, *([2.0] * len(block.columns))]
        style.table(
            document, headers, rows, numeric=range(1, len(headers)), size=9.5, widths=widths
        )
        return
    _caption(document, block.title or _list_caption(block))
    headers, rows, numeric = list_table(spec, block, values)
    style.table(document, headers, rows, numeric=numeric, size=9.5)


def _list_caption(block: ListBlock) -> str:
    return "、".join(c.label for c in block.columns[:2]) + "明细"


def list_table(
    spec: Spec, block: ListBlock, values: Mapping[str, Any]
) -> tuple[list[str], list[list[str]], list[int]]:
    """A repeating list: its used rows, and its totals row."""
    headers = [c.label for c in block.columns]
    numeric = [
        n
        for n, c in enumerate(block.columns)
        if block.rows and spec.fields[block.rows[0][c.key]].type in NUMERIC_KINDS
    ]
    rows = []
    for row in block.rows:
        cells = [
            figures.show(spec.fields[row[c.key]], values.get(row[c.key])) for c in block.columns
        ]
        if any(cells):
            rows.append(cells)
    if block.totals:
        total = [
            figures.show(spec.fields[block.totals[c.key]], values.get(block.totals[c.key]))
            if c.key in block.totals
            else ""
            for c in block.columns
        ]
        total[0] = total[0] or block.total_label
        rows.append(total)
    return headers, rows, numeric


def indicator_rows(
    block: IndicatorBlock, values: Mapping[str, Any]
) -> Iterator[tuple[tuple[str, ...], dict[str, str]]]:
    """Each used indicator row (a row with a name, or every row of a form without names)."""
    for group in block.groups:
        for chain, row in group.labelled_rows():
            if "name" in row and not figures.text_of(values.get(row["name"])):
                continue
            yield chain, row


def indicator_table(
    spec: Spec, block: IndicatorBlock | ListBlock, values: Mapping[str, Any]
) -> tuple[list[str], list[list[str]], list[int], int]:
    """(headers, rows, numeric columns, leading level columns to merge)."""
    if isinstance(block, ListBlock):
        headers, rows, numeric = list_table(spec, block, values)
        return headers, rows, numeric, 0
    columns = [c for c in block.columns if c.key not in HIDDEN_COLUMNS and c.key != "op"]
    has_op = any(c.key == "op" for c in block.columns)
    levels = list(block.levels)
    headers = [*levels, *(c.label for c in columns)]
    numeric = [len(levels) + n for n, c in enumerate(columns) if c.key in SCORE_KEYS]
    rows = []
    for chain, row in indicator_rows(block, values):
        unit = figures.text_of(values.get(row["unit"])) if "unit" in row else ""
        cells = [*(chain + ("",) * len(levels))[: len(levels)]]
        for column in columns:
            field_id = row.get(column.key)
            if field_id is None:
                cells.append("")
                continue
            value = values.get(field_id)
            if column.key in SCORE_KEYS:
                shown = figures.score(value)
            elif column.key in ("target", "actual", "standard") and unit == "%":
                shown = (
                    figures.percent(value)
                    if figures.number(value) is not None
                    else figures.text_of(value)
                )
            else:
                shown = figures.show(spec.fields[field_id], value)
            if column.key == "target" and has_op:
                op = figures.text_of(values.get(row["op"]))
                if op and op not in ("定性", "=") and shown:
                    shown = f"{op}{shown}"
            cells.append(shown)
        rows.append(cells)
    return headers, rows, numeric, len(levels)


_WIDTHS = {"单位": 1.1, "符号": 1.0, "分值": 1.3, "得分": 1.3, "自评分值": 1.4, "三级指标": 3.4}


def widths_of(headers: Sequence[str]) -> list[float]:
    """Relative widths of an indicator table's columns: names wide, units and scores narrow."""
    return [_WIDTHS.get(h, 3.0 if "标准" in h or "内容" in h else 2.0) for h in headers]


def _merge_levels(table: Any, levels: int) -> None:
    """Merge the 一级/二级 cells of consecutive rows of one group, as the form does."""
    body = table.rows[1:]
    for col in range(levels):
        start = 0
        for end in range(1, len(body) + 1):
            same = end < len(body) and all(
                body[end].cells[c].text == body[start].cells[c].text for c in range(col + 1)
            )
            if same:
                continue
            if end - start > 1:
                text = body[start].cells[col].text
                merged = body[start].cells[col].merge(body[end - 1].cells[col])
                for paragraph in merged.paragraphs[1:]:
                    paragraph._p.getparent().remove(paragraph._p)
                if merged.paragraphs and merged.paragraphs[0].text != text:
                    merged.paragraphs[0].runs[0].text = text
            start = end


def score_rows(spec: Spec, layout: ReportLayout, values: Mapping[str, Any]) -> list[list[str]]:
    """评分项目 / 分值 / 得分: the funds score, each 一级 group, the total."""
    rows = []
    for block in layout.funds:
        if isinstance(block, TableBlock) and block.rows:
            first = block.rows[0].key
            weight = block.cells.get((first, "weight"))
            scored = block.cells.get((first, "score"))
            if scored:
                rows.append(
                    [
                        "资金管理（预算执行率）",
                        figures.score(values.get(weight)) if weight else "",
                        figures.score(values.get(scored)),
                    ]
                )
    for indicators in layout.indicators:
        if isinstance(indicators, IndicatorBlock):
            for group in indicators.groups:
                share = values.get(group.weight_field) if group.weight_field else group.weight
                rows.append(
                    [
                        group.label,
                        figures.score(share),
                        figures.score(values.get(group.score_field)),
                    ]
                )
    weight_field = next(
        (f for f in layout.results if f.id != layout.total_id and f.type in NUMERIC_KINDS), None
    )
    if layout.total_id:
        total = spec.fields[layout.total_id]
        rows.append(
            [
                "合计" if rows else total.label,
                figures.score(values.get(weight_field.id)) if weight_field else "",
                figures.score(values.get(layout.total_id)),
            ]
        )
    return rows


def _scores(document: Any, spec: Spec, layout: ReportLayout, report: Report) -> None:
    values = report.values
    if not layout.scored:
        style.paragraph(document, f"《{spec.title}》不评分：本表只填报基础数据，见上表。")
        return
    style.table(
        document,
        ["评分项目", "分值", "得分"],
        score_rows(spec, layout, values),
        numeric=(1, 2),
        widths=(9, 3.4, 3.4),
    )
    total, grade = report.total, report.grade
    if total is None:
        style.paragraph(document, "表中有未填写的内容，未能计算自评总分。")
        return
    text = f"经按自评表规范重新计算，自评得分 {figures.score(total)} 分"
    style.paragraph(document, text + (f"，评价等次为“{grade}”。" if grade else "。"))


# ---- 四、偏差原因及改进措施 -----------------------------------------------------------------------


def deviations(
    spec: Spec, layout: ReportLayout, values: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """(indicator, the form's own 偏差原因 text or "") for every row with a reason written, or a
    score below its weight."""
    found = []
    for block in layout.indicators:
        if not isinstance(block, IndicatorBlock):
            continue
        for chain, row in indicator_rows(block, values):
            name = figures.text_of(values.get(row["name"])) if "name" in row else chain[-1]
            reason = figures.text_of(values.get(row["reason"])) if "reason" in row else ""
            weight = figures.number(values.get(row.get("weight", "")))
            scored = figures.number(values.get(row.get("score", "")))
            short = weight is not None and scored is not None and scored < weight - 0.005
            if reason or short:
                where = "—".join((*chain, name) if name != chain[-1] else chain)
                gap = (
                    f"（分值 {figures.score(weight)}，得分 {figures.score(scored)}）"
                    if short
                    else ""
                )
                found.append((where + gap, reason))
    return found


def _deviations(document: Any, spec: Spec, layout: ReportLayout, values: Mapping[str, Any]) -> None:
    style.heading(document, "四、偏差原因及改进措施", 1)
    found = deviations(spec, layout, values)
    if not found:
        style.paragraph(document, "自评表中各项指标均得满分，表中未填写偏差原因。")
    for n, (where, reason) in enumerate(found, start=1):
        if reason:
            style.paragraph(document, f"{n}. {where}：{reason}")
        else:
            style.paragraph(document, f"{n}. {where}：")
            style.placeholder(document, "得分低于分值，自评表中未说明偏差原因及改进措施")
    style.placeholder(document, "对上述偏差的整改措施、责任人和完成时限")


# ---- 附 ------------------------------------------------------------------------------------


def _appendix(document: Any, spec: Spec, layout: ReportLayout, values: Mapping[str, Any]) -> None:
    if not (layout.long_texts or layout.signoff or layout.people):
        return
    style.heading(document, "附：自评表中的其他填报内容", 1)
    for spec_field in layout.long_texts:
        text = figures.text_of(values.get(spec_field.id))
        style.paragraph(document, f"{spec_field.label}：{text or '（未填写）'}")
    for block in layout.people:
        headers, rows, numeric = list_table(spec, block, values)
        if rows:
            _caption(document, block.title or "评价人员")
            style.table(document, headers, rows, numeric=numeric)
    if layout.signoff:
        style.table(
            document,
            ["项目", "内容", "项目", "内容"],
            _pairs(layout.signoff, values),
            widths=(3.9, 4, 3.9, 4),
        )


def _pairs(fields: Sequence[Field], values: Mapping[str, Any]) -> list[list[str]]:
    cells = [[f.label, figures.show(f, values.get(f.id))] for f in fields]
    rows = []
    for n in range(0, len(cells), 2):
        pair = cells[n : n + 2]
        rows.append([*pair[0], *(pair[1] if len(pair) > 1 else ["", ""])])
    return rows
