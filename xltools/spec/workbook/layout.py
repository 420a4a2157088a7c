"""The authoring workbook's layout, written once for both directions: which sheet holds what,
each column's Chinese header, the spec key it carries and how a cell holds its value.

Adding a spec key is one line: append a :class:`Col` to the table of the row it belongs to
(``FIELD_COLUMNS`` for a field or a table/list/indicator column, ``BLOCK_COLUMNS`` with its
``blocks`` for a block setting, ``GROUP_COLUMNS`` for an indicator group, ``TOP_KEYS`` for a
top-level setting …).
Export writes it, import reads it, the round-trip test covers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# How a cell holds a value (xltools/spec/workbook/cells.py reads and writes each):
#   value   as typed: text, number or 是/否; `""` is the empty text, `~` null (does not
#           apply); `{…}` / `[…]` inline YAML
#   text    text as typed            id       an id: lower-case letters, digits, _ (a-z first)
#   int     a whole number          number   a number
#   bool    是 / 否                 list     items separated by commas (ints: whole numbers)
#   yaml    inline YAML ({a: 1} or [a, b]); plain text stays text
#   choice  one of ``options`` (Chinese label → spec value); the spec value is accepted too
KINDS: Final = ("value", "text", "id", "int", "number", "bool", "list", "ints", "yaml", "choice")

YES, NO = "是", "否"


@dataclass(frozen=True)
class Col:
    header: str  # the Chinese header in row 1
    key: str  # the spec key (a dotted path in 基本信息: previous.version)
    kind: str = "value"
    prompt: str = ""  # shown when the cell is selected (≤ 255 characters)
    width: int = 12
    options: tuple[tuple[str, str], ...] = ()  # (shown, spec value) for a dropdown
    shapes: tuple[type, ...] = ()  # yaml: what the value may be (a mapping, a list, a text)
    blocks: tuple[str, ...] = ()  # 字段: the block kinds whose 区块 row uses this column

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind


FIELD_TYPES: Final = (
    ("文本", "text"), ("整数", "integer"), ("数值", "number"), ("金额", "money"),
    ("百分比", "percent"), ("日期", "date"), ("选项", "choice"), ("是否", "bool"),
    ("任意", "any"),
)  # fmt: skip
BLOCK_KINDS: Final = (
    ("字段组", "fields"), ("表格", "table"), ("列表", "list"), ("指标表", "indicators"),
    ("说明文字", "note"),
)  # fmt: skip
SEVERITIES: Final = (("错误", "error"), ("警告", "warning"), ("提示", "info"))
OLD_VERSIONS: Final = (("照常采纳", "accept"), ("迁移到本版", "migrate"), ("不予采纳", "refuse"))
BOOL_OPTIONS: Final = ((YES, YES), (NO, NO))
POSITIONS: Final = (("之后", "after"), ("之前", "before"))

# ---- sheet names ----------------------------------------------------------------------------

GUIDE, INFO, FIELDS, INDICATORS, RULES, CHECKS, CHOICES, GRADES = (
    "说明", "基本信息", "字段", "指标", "规则", "校验", "选项", "等次",
)  # fmt: skip
SHEETS: Final = (GUIDE, INFO, FIELDS, INDICATORS, RULES, CHECKS, CHOICES, GRADES)

# ---- 基本信息: one row per top-level setting (项目 | 值) ---------------------------------------------

INFO_HEADERS: Final = ("项目", "值", "说明")
TOP_KEYS: Final = (
    Col("模板编号", "template", "text", "稳定的模板 id：小写字母、数字、下划线，以字母开头"),
    Col("版本", "version", "int", "整数；表样改变时加 1"),
    Col("标题", "title", "text", "表的标题，如 2024年度项目支出绩效自评表"),
    Col("年度", "year", "int", "如 2024"),
    Col("简介", "description", "text", "这张表的用途（可空）"),
    Col("仍接受的旧版本", "accepts", "ints", "检查时仍接受的旧版本号，用逗号分隔，如 1, 2"),
    Col("旧版填报", "old_versions", "choice", "收到旧版填报时怎么办", options=OLD_VERSIONS),
    Col("取得现行模板", "obtain", "text", "写进旧版提示里：到哪里取得现行模板"),
    Col("上一版版本号", "previous.version", "int", "本版替代的上一版的版本号"),
    Col("上一版改名的字段", "previous.renamed", "yaml", "{旧字段id: 新字段id, …}", shapes=(dict,)),
    Col("上一版删去的字段", "previous.removed", "list", "旧版字段 id，用逗号分隔"),
)

# ---- 字段: the sheets and their blocks in order, one row per field / column / row ---------------
# Column 类别 says what a row is:
SHEET_ROW, BLOCK_ROW, FIELD_ROW, COLUMN_ROW, TABLE_ROW, CELL_ROW, PRESET_ROW = (
    "表页", "区块", "字段", "列", "行", "单元格", "预设行",
)  # fmt: skip
ROW_KINDS: Final = (SHEET_ROW, BLOCK_ROW, FIELD_ROW, COLUMN_ROW, TABLE_ROW, CELL_ROW, PRESET_ROW)
PRESET_COL_HEADER: Final = "固定值"  # a list's 预设行: {列key: 值, …} in this column

KIND_COL: Final = Col(
    "类别", "", "text",
    "表页：一张工作表；区块：其下的一个区块；字段：字段组中的一项；列：表格、列表或指标表的一列；"
    "行：表格的一行；单元格：上一行中某一格的特别设置；预设行：列表中预设的一行（固定值写 {列key: 值}）",
    8, tuple((kind, kind) for kind in ROW_KINDS),
)  # fmt: skip
ID_COL: Final = Col("编号", "id", "id", "字段 id，或列、行的 key：小写字母、数字、下划线", 24,
                    blocks=("table", "list", "indicators"))  # fmt: skip
LABEL_COL: Final = Col("名称", "label", "text", "中文标签；表页行为工作表名（不超过 31 字）", 24)

# The settings of one field (a 字段 row), one table / list / indicator column (a 列 row) or one
# table cell (a 单元格 row). ``id`` / ``key`` are in 编号.
FIELD_COLUMNS: Final = (
    Col("类型", "type", "choice", "字段类型", 8, FIELD_TYPES),
    Col("单位", "unit", "text", "如 万元、元、%、人", 8),
    Col("选项", "choices", "yaml", "“选项”表中的选项表名，或 [甲, 乙, 丙]", 12, shapes=(str, list)),
    Col("必填", "required", "bool", "是：必须填写", 6, BOOL_OPTIONS),
    Col("最小值", "min", "value", "", 8),
    Col("最大值", "max", "value", "", 8),
    Col("最大长度", "max_length", "int", "文本最多多少字", 8),
    Col("格式", "pattern", "text", r"正则表达式，文本须整体符合，如 \d{6}", 14),
    Col("公式", "formula", "value", "Excel 公式写法，按 id 引用字段，如 SUM(current, carry)", 30),
    Col("规则", "rule", "yaml", "规则种类，如 ratio；带参数时写 {kind: ratio, num: spent, den: budget}", 24,
        shapes=(str, dict)),
    Col("固定值", "value", "value", "规范固定的值（模板中锁定）", 12),
    Col("填报", "input", "bool", "否：不由填报单位填写", 6, BOOL_OPTIONS),
    Col("提示", "prompt", "text", "选中单元格时显示的提示", 16),
    Col("文本行数", "lines", "int", "多行文本框的行数", 8),
    Col("仅在这些行", "only", "list", "表格的列：只在这些行（key，逗号分隔）出现", 12),
    # the evaluator scoring sheet's indicator columns (issue 13, part 1)
    Col("须符合得分列", "held_to", "id", "指标表列：评价人填写的得分，须与这一列（按评分标准算出的得分）一致", 10),
    Col("小计求和", "total", "bool", "指标表列：在每个小计与合计行求和", 6, BOOL_OPTIONS),
)  # fmt: skip

# Block settings on a 区块 row (kind itself is in 区块类型); ``blocks`` says which kinds use
# each. Keys not here are the block's children: fields (字段 rows), columns (列 rows, or 指标列 for `standard`), rows (行
# rows of a table), groups (the 指标 sheet), row_checks (the 校验 sheet).
BLOCK_KIND_COL: Final = Col("区块类型", "kind", "choice", "区块的种类", 10, BLOCK_KINDS)
TITLE_COL: Final = Col("标题", "title", "text", "表页或区块的标题", 20,
                       blocks=("fields", "table", "list", "indicators"))  # fmt: skip
BLOCK_COLUMNS: Final = (
    Col("栏数", "columns", "int", "字段组：每行排几个字段（1–4）", 6, blocks=("fields",)),
    Col("行数", "rows", "int", "列表：空行数", 6, blocks=("list",)),
    Col("合计列", "totals", "list", "列表：要合计的列 key，逗号分隔", 10, blocks=("list",)),
    Col("合计行名称", "total_label", "text", "列表、指标表：合计行的名称", 10,
        blocks=("list", "indicators")),
    Col("角标", "corner", "text", "表格：左上角的文字", 10, blocks=("table",)),
    Col("总分值", "weight", "number", "指标表：各一级指标分值之和", 8, blocks=("indicators",)),
    Col("层级名称", "levels", "list", "指标表：表头各级名称，逗号分隔，如 一级指标, 二级指标", 16,
        blocks=("indicators",)),
    Col("指标列", "columns", "text", "指标表：standard 表示标准指标行（不必再列出各列）", 8,
        blocks=("indicators",)),
    Col("小计层级", "subtotal_levels", "ints", "指标表：哪几级分组有小计行，如 1, 2", 8,
        blocks=("indicators",)),
    Col("小计行名称", "subtotal_label", "text", "指标表：小计行的名称，默认“小计”", 10,
        blocks=("indicators",)),
    Col("小计位置", "subtotal_position", "choice", "指标表：小计行在分组各行之后或之前", 8,
        POSITIONS, blocks=("indicators",)),
    Col("合计位置", "total_position", "choice", "指标表：合计行在表末或表头之下", 8, POSITIONS,
        blocks=("indicators",)),
    Col("文字", "text", "text", "说明文字区块的内容", 30, blocks=("note",)),
    Col("横向", "landscape", "bool", "表页：横向打印", 6, BOOL_OPTIONS),  # a 表页 setting
)  # fmt: skip

SHEET_KEYS: Final = {"名称": "name", "标题": "title", "横向": "landscape"}
TABLE_ROW_KEYS: Final = {"编号": "key", "名称": "label"}

FIELD_SHEET_COLUMNS: Final = (KIND_COL, ID_COL, LABEL_COL, TITLE_COL, BLOCK_KIND_COL,
                              *FIELD_COLUMNS, *BLOCK_COLUMNS)  # fmt: skip
#: block kind -> the headers its 区块 row uses (from each column's ``blocks``)
BLOCK_KEYS: Final[dict[str, tuple[str, ...]]] = {
    kind: tuple(c.header for c in FIELD_SHEET_COLUMNS if kind in c.blocks)
    for _, kind in BLOCK_KINDS
}

# ---- 指标: the groups of every indicator block, one row per group or preset row ------------------
GROUP_ROW = "行"  # 层级 of a preset indicator row; groups have 1, 2, 3 …
MAX_LEVELS: Final = 4
INDICATOR_BLOCK_COL: Final = Col(
    "指标表", "", "text", "指标表区块的编号（字段表中区块行的编号）", 8
)
LEVEL_COL: Final = Col(
    "层级", "", "text",
    "1 为一级指标分组，2 为其下的二级……；“行”为上面那个分组中预设的一行指标",
    6, tuple((str(n), str(n)) for n in range(1, MAX_LEVELS + 1)) + ((GROUP_ROW, GROUP_ROW),),
)  # fmt: skip
GROUP_COLUMNS: Final = (
    Col("编号", "key", "id", "分组的 key：小写字母、数字、下划线", 16),
    Col("名称", "label", "text", "分组的中文名称", 24),
    Col("分组分值", "weight", "number", "分组的分值；其下各项相加须等于它", 8),
    Col("行数", "rows", "int", "最末一级分组：由单位填写的空行数（与“行”预设行二选一）", 6),
    Col("小计", "subtotal", "bool", "是否给这一组一行小计（默认：一级分组与写了分值的分组有）", 6,
        BOOL_OPTIONS),
)  # fmt: skip
# After these come one column per indicator column key, headed “标签（key）”: the values a
# preset row fixes; `{type: percent}` there changes that cell's settings instead.
PRESET_PROMPT: Final = (
    '预设行中这一列的固定值；写 {type: percent, …} 则改这一格的设置；"" 为空文字，~ 为本行不适用'
)

# ---- 规则, 校验, 选项, 等次 -----------------------------------------------------------------------------
RULE_COLUMNS: Final = (
    Col("规则名", "", "text", "自定义规则种类的名称（小写字母、数字、下划线）", 14),
    Col("说明", "label", "text", "规则的中文说明", 30),
    Col("参数", "params", "yaml", "{参数名: 默认值, …}，默认值写列名或表达式，必填参数写 null", 30,
        shapes=(dict, list)),
    Col("表达式", "expression", "text", "用参数名写的 Excel 公式", 50),
)  # fmt: skip
CHECK_COLUMNS: Final = (
    Col("区块", "", "text", "空：整张表的校验；填列表或指标表的编号：每一行都要满足的校验", 8),
    Col("编号", "id", "id", "校验的 id：小写字母、数字、下划线", 20),
    Col("级别", "severity", "choice", "错误、警告或提示", 6, SEVERITIES),
    Col("条件", "assert", "value", "表填对时为 TRUE 的表达式", 40),
    Col("提示信息", "message", "text", "条件不满足时显示的中文说明", 40),
    Col("单元格", "cells", "list", "出错时标出的字段 id，逗号分隔", 20),
)  # fmt: skip
CHOICE_COLUMNS: Final = (
    Col("选项表", "", "text", "选项表名（字段的“选项”列引用它）；空着表示与上一行相同", 14),
    Col("选项", "", "value", "一行一个选项", 24),
)
GRADE_COLUMNS: Final = (
    Col("等次", "grade", "text", "从高到低，一行一档", 10),
    Col("下限", "min", "number", "该档的最低分（含）；最后一档可空", 8),
)
