"""The summary workbook's first sheet, 概况: what an officer hands on and acts on. A title and
the date, the verdict (how many were accepted, how many need chasing), the next step, the
counts, the files that were not accepted with their reasons, and what each sheet holds. All
in Chinese: no template id, code or hash (those are on the other sheets and in 字段说明)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Final

from ..textfit import DEFAULT_FONT_PT, row_height
from .safe import write_cell
from .sheet_setup import RowHeights, page_setup
from .spool import Spool

if TYPE_CHECKING:
    from .result import MergeResult

SHEET: Final = "概况"
TITLE: Final = "绩效自评表汇总"
WIDTHS: Final = (26.0, 14.0, 56.0)
LISTED: Final = 30  # files not accepted listed here; the rest are on 未采纳
TITLE_PT: Final = 18.0
STATUS_PT: Final = 13.0
GOOD, BAD = "#C6EFCE", "#FFC7CE"
SHEETS: Final = (
    ("汇总", "每份采纳的自评表一行：资金、各类指标得分、总分、等次、错误数"),
    ("指标明细", "采纳的自评表的每一条绩效指标：指标值、完成值、分值、得分"),
    ("问题清单", "检查发现的每一个问题：哪个文件、哪一格、怎么改"),
    ("未采纳", "没有采纳或被替代的文件，各附原因"),
    ("清单", "收到的每一个文件，各计一次：状态、原因、保存时间"),
    ("统计", "等次分布、总分分布、各单位预算执行率（表与图）"),
    ("字段说明", "各表的列在 CSV、Parquet、SQLite 中的列名，模板名称与模板编号"),
)


def _name(file: str) -> str:
    """A file as people name it: its own name (the full path is on 未采纳 and 清单)."""
    return PurePosixPath(file.replace("\\", "/").split("!")[-1]).name or file


def cover_sheet(workbook: Any, spool: Spool, result: MergeResult) -> None:
    counts = result.counts
    connection = spool.connection
    with_errors, average = connection.execute(
        "SELECT SUM(errors > 0), AVG(total) FROM files WHERE status = 'accepted'"
    ).fetchone()
    with_errors = int(with_errors or 0)
    rejected = connection.execute(
        "SELECT file, COALESCE(NULLIF(unit, ''), ''), reason FROM files"
        " WHERE status = 'rejected' ORDER BY id LIMIT ?",
        (LISTED + 1,),
    ).fetchall()

    if counts.rejected:
        status = f"结论：采纳 {counts.accepted} 份；{counts.rejected} 份未采纳，需要催报" + (
            f"；{counts.superseded} 份被同一单位的另一份替代" if counts.superseded else ""
        )
        step = (
            f"下一步：通知下表所列 {counts.rejected} 份未采纳文件的单位，按“原因”修改后"
            "重新提交（全部见“未采纳”工作表）。"
        )
    else:
        status = f"结论：全部采纳（{counts.accepted} 份）" + (
            f"，另有 {counts.superseded} 份被同一单位的另一份替代" if counts.superseded else ""
        )
        step = "下一步：无需催报；各单位得分见“汇总”，各项指标见“指标明细”。"
    if with_errors:
        step += (
            f"采纳的文件中有 {with_errors} 份仍有错误（已按重新计算的分数汇总），"
            "问题见“问题清单”，可请有关单位更正。"
        )
    now = result.when.strftime("%Y-%m-%d %H:%M")

    worksheet = workbook.add_worksheet(SHEET)
    for col, width in enumerate(WIDTHS):
        worksheet.set_column(col, col, width)
    page_setup(worksheet, header_rows=0, landscape=False)
    fmt = {
        "title": workbook.add_format({"bold": True, "font_size": TITLE_PT, "valign": "top"}),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
        "step": workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"}),
        "status": workbook.add_format(
            {
                "bold": True,
                "font_size": STATUS_PT,
                "text_wrap": True,
                "valign": "top",
                "bg_color": BAD if counts.rejected else GOOD,
            }
        ),
        "head": workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "bottom": 1, "text_wrap": True, "valign": "top"}
        ),
        "number": workbook.add_format({"valign": "top", "align": "left"}),
        "label": workbook.add_format({"bold": True, "valign": "top", "text_wrap": True}),
    }
    columns = RowHeights(list(WIDTHS), [True, True, True])
    row = 0

    def banner(text: str, style: str, font_pt: float = DEFAULT_FONT_PT) -> None:
        nonlocal row
        worksheet.set_row(row, row_height(text, sum(WIDTHS), font_pt))
        worksheet.merge_range(row, 0, row, len(WIDTHS) - 1, text, fmt[style])
        row += 1

    def line(values: tuple[Any, ...], styles: tuple[str, ...]) -> None:
        nonlocal row
        height = columns(values)
        if height is not None:
            worksheet.set_row(row, height)
        for col, (value, style) in enumerate(zip(values, styles, strict=True)):
            write_cell(worksheet, row, col, value, fmt[style])
        row += 1

    banner(TITLE, "title", TITLE_PT)
    banner(f"汇总时间：{now}　　共收到 {counts.inputs} 个文件", "wrap")
    banner(status, "status", STATUS_PT)
    banner(step, "step")
    row += 1
    line(("项目", "数量", "说明"), ("head", "head", "head"))
    overview: list[tuple[str, Any, str]] = [
        ("收到的文件", counts.inputs, "每个文件只计一次，逐个列在“清单”"),
        ("采纳", counts.accepted, "计入“汇总”“指标明细”和“统计”"),
        ("被替代", counts.superseded, "同一单位同一项目另有一份被采纳"),
        ("未采纳", counts.rejected, "被篡改、不是模板、无法读取或未填写等，见“未采纳”"),
    ]
    if counts.skipped:
        overview.append(("跳过", counts.skipped, "临时锁定文件、检查副本等，不是提交的原件"))
    overview.append(("采纳但有错误", with_errors, "问题见“问题清单”"))
    if average is not None:
        overview.append(("平均总分", round(average, 2), "采纳的自评表按规范重新计算的总分"))
    for label, value, note in overview:
        line((label, value, note), ("label", "number", "wrap"))
    if rejected:
        row += 1
        banner("未采纳的文件（请催报）", "step")
        line(("文件", "单位", "原因"), ("head", "head", "head"))
        for file, unit, reason in rejected[:LISTED]:
            line((_name(file), unit, reason), ("wrap", "wrap", "wrap"))
        if len(rejected) > LISTED:
            banner(f"……其余见“未采纳”工作表（共 {counts.rejected} 份）", "wrap")
    row += 1
    line(("工作表", "", "内容"), ("head", "head", "head"))
    for sheet, what in SHEETS:
        line((sheet, "", what), ("label", "wrap", "wrap"))
