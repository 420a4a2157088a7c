"""Write the authoring workbook (XlsxWriter): a 说明 sheet, then one sheet per table of
:mod:`.export`, each with a frozen header row, column widths, a Chinese prompt on every
column and dropdowns for the columns that take one of a few values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...atomic import atomic_path
from . import layout as L
from .export import Table

BODY_ROWS = 2000  # rows below the header that get the column's prompt and dropdown

GUIDE_LINES = (
    ("在 Excel 里写规范", "title"),
    (
        "这个工作簿就是一份规范：xltools spec import 把它读成 YAML 规范，"
        "xltools generate 可以直接用它生成模板。选中表头或单元格可看到这一列的说明。",
        "",
    ),
    ("基本信息", "head"),
    ("模板编号、版本、标题、年度等，一行一项，只填“值”一列。", ""),
    ("字段", "head"),
    (
        "表上从上到下的内容，一行一项，“类别”一列说明这一行是什么：表页（一张工作表）→ 区块"
        "（字段组、表格、列表、指标表、说明文字）→ 区块中的 字段 / 列 / 行 / 单元格。"
        "区块按行的先后排列；字段组的每个字段一行，表格、列表、指标表的每一列一行，"
        "表格的每一行一个“行”，某一格要特别设置时在该“行”下面加“单元格”（编号写列的 key）。",
        "",
    ),
    ("指标", "head"),
    (
        "指标表的分组，一行一个：“指标表”写区块编号，“层级”写 1（一级指标）、2（二级）……，"
        "子分组紧跟在上级分组下面，不能跳级；最末一级分组写“行数”（单位自填的空行），"
        "或在它下面加“层级”为“行”的预设行，各列的固定值写在“标签（key）”列中。",
        "",
    ),
    ("规则、校验、选项、等次", "head"),
    (
        "规则：自定义评分规则；校验：条件不满足时提示的交叉校验（“区块”填列表或指标表的编号"
        "则每一行都校验）；选项：下拉选项表，一行一个选项；等次：从高到低，一行一档。",
        "",
    ),
    ("写法", "head"),
    (
        '是/否 列填“是”或“否”；多个值用逗号分隔；"" 表示空文字；'
        "以 { 或 [ 开头的内容按 YAML 读，如 {kind: ratio, num: spent, den: budget}。",
        "",
    ),
)


def write_workbook(tables: list[Table], output: Path, title: str) -> None:
    from xlsxwriter.workbook import Workbook

    with atomic_path(output) as temporary:
        workbook = Workbook(
            str(temporary),
            {
                "in_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        workbook.set_properties({"title": f"规范：{title}", "comments": "xltools spec export"})
        formats = _formats(workbook)
        _guide(workbook, formats)
        for table in tables:
            _table(workbook, table, formats)
        workbook.close()


def _formats(workbook: Any) -> dict[str, Any]:
    base = {"font_name": "宋体", "font_size": 11, "valign": "top"}
    return {
        "header": workbook.add_format(
            {**base, "bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True}
        ),
        "cell": workbook.add_format({**base, "text_wrap": True}),
        L.SHEET_ROW: workbook.add_format(
            {**base, "bold": True, "bg_color": "#FCE4D6", "text_wrap": True}
        ),
        L.BLOCK_ROW: workbook.add_format(
            {**base, "bold": True, "bg_color": "#FFF2CC", "text_wrap": True}
        ),
        "title": workbook.add_format({**base, "bold": True, "font_size": 16}),
        "head": workbook.add_format({**base, "bold": True, "font_size": 12}),
        "": workbook.add_format({**base, "text_wrap": True}),
    }


def _guide(workbook: Any, formats: dict[str, Any]) -> None:
    sheet = workbook.add_worksheet(L.GUIDE)
    sheet.set_column(0, 0, 100)
    for row, (text, style) in enumerate(GUIDE_LINES):
        sheet.write_string(row, 0, text, formats[style])
    sheet.activate()


def _write(sheet: Any, row: int, column: int, value: Any, cell_format: Any) -> None:
    if value is None:
        sheet.write_blank(row, column, None, cell_format)
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value, cell_format)
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value, cell_format)
    else:
        sheet.write_string(row, column, str(value), cell_format)


def _prompt(col: L.Col) -> dict[str, Any]:
    return {"input_title": col.header[:32], "input_message": col.prompt[:255]} if col.prompt else {}


def _dropdown(col: L.Col) -> dict[str, Any]:
    return {
        "validate": "list",
        "source": [label for label, _ in col.options],
        "error_type": "warning",
        "error_title": col.header[:32],
        "error_message": f"应为：{'、'.join(label for label, _ in col.options)}"[:225],
        **_prompt(col),
    }


def _table(workbook: Any, table: Table, formats: dict[str, Any]) -> None:
    sheet = workbook.add_worksheet(table.name)
    sheet.freeze_panes(1, 0)
    for index, col in enumerate(table.columns):
        sheet.set_column(index, index, col.width)
        sheet.write_string(0, index, col.header, formats["header"])
        if col.prompt:
            sheet.data_validation(0, index, 0, index, {"validate": "any", **_prompt(col)})
        if col.options:
            sheet.data_validation(1, index, BODY_ROWS, index, _dropdown(col))
        elif col.prompt:
            sheet.data_validation(1, index, BODY_ROWS, index, {"validate": "any", **_prompt(col)})
    if table.name == L.INFO:
        sheet.set_column(0, 0, 16)
        sheet.set_column(1, 1, 40)
        sheet.set_column(2, 2, 50)
    kind_header = L.KIND_COL.header
    for number, row in enumerate(table.rows, start=1):
        style = formats.get(str(row.get(kind_header, "")), formats["cell"])
        if table.name != L.FIELDS:
            style = formats["cell"]
        for index, col in enumerate(table.columns):
            _write(sheet, number, index, row.get(col.header), style)
        info_col = table.row_cols.get(number - 1)
        if info_col is not None:  # 基本信息: the 值 cell takes what its setting takes
            options = (
                _dropdown(info_col)
                if info_col.options
                else {"validate": "any", **_prompt(info_col)}
            )
            if options.get("input_message") or options["validate"] == "list":
                sheet.data_validation(number, 1, number, 1, options)
