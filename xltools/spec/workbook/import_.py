"""An authoring workbook → the spec's data, as ``load_yaml`` would give it: mappings and lists
that remember where they came from. Their "line" is an index into :class:`Places`, which
names the sheet, row and column, so that every later problem (schema, build, lint) can say
「字段」表第 12 行“类型”列. Problems are collected, never raised at the first one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..problems import Problem
from ..source import LocatedDict, LocatedList
from . import layout as L
from .cells import NULL, BadCell, Cell, from_cell

_PRESET_HEADER = re.compile(r"^(.*)[（(]\s*([a-z][a-z0-9_]*)\s*[）)]$")
_FORMULA_KEYS = {"formula", "assert", "expression"}


@dataclass
class Places:
    """Where each located node came from: index → (sheet, row, column header)."""

    items: list[tuple[str, int, str]] = field(default_factory=lambda: [("", 0, "")])

    def add(self, sheet: str, row: int, header: str = "") -> int:
        self.items.append((sheet, row, header))
        return len(self.items) - 1

    def text(self, line: int) -> str:
        if not 0 < line < len(self.items):
            return ""
        sheet, row, header = self.items[line]
        column = f"“{header}”列" if header else ""
        return f"「{sheet}」表第 {row} 行{column}"


@dataclass
class Row:
    sheet: str
    number: int
    cells: dict[str, Cell]  # header -> non-empty cell

    def __bool__(self) -> bool:
        return bool(self.cells)


class _Importer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.places = Places()
        self.problems: list[Problem] = []
        self.blocks: dict[str, LocatedDict] = {}  # list / table / indicators blocks by id

    # ---- problems, located nodes -----------------------------------------------------------

    def problem(self, code: str, message: str, row: Row | None = None, header: str = "") -> None:
        where = (
            self.places.text(self.places.add(row.sheet, row.number, header))
            if row is not None
            else ""
        )
        self.problems.append(Problem(code, f"{where}：{message}" if where else message, self.path))

    def node(self, row: Row) -> LocatedDict:
        node = LocatedDict()
        node.line = self.places.add(row.sheet, row.number)
        node.key_lines = {}
        return node

    def put(self, node: LocatedDict, key: str, value: Any, row: Row, header: str) -> None:
        node[key] = value
        node.key_lines[key] = self.places.add(row.sheet, row.number, header)

    def located_list(self, row: Row) -> LocatedList:
        items = LocatedList()
        items.line = self.places.add(row.sheet, row.number)
        items.item_lines = []
        return items

    def append(self, items: Any, value: Any, row: Row) -> None:
        items.append(value)
        items.item_lines.append(self.places.add(row.sheet, row.number))

    def value(self, row: Row, col: L.Col) -> Any:
        """The spec value of ``col`` in ``row`` (None when empty or wrong, which is reported)."""
        raw = row.cells.get(col.header)
        if raw is None:
            return None
        try:
            return from_cell(col, raw)
        except BadCell as error:
            self.problem("spec-import-bad-cell", str(error), row, col.header)
            return None

    def fill(self, node: LocatedDict, row: Row, columns: Any) -> None:
        """``node``'s keys from the cells of ``columns`` (header → spec key) in ``row``."""
        for col in columns:
            value = self.value(row, col)
            if value is not None:
                if col.key in _FORMULA_KEYS and isinstance(value, str):
                    value = value.removeprefix("=")  # typed as an Excel formula
                self.put(node, col.key, None if value is NULL else value, row, col.header)

    def only(self, row: Row, allowed: set[str], what: str) -> None:
        for header in row.cells:
            if header not in allowed:
                self.problem(
                    "spec-import-cell-not-used",
                    f"{what}行不用这一列，这里的内容不会被读取；请删去或移到正确的行",
                    row,
                    header,
                )

    def require(self, row: Row, node: LocatedDict, key: str, what: str) -> None:
        if key not in node and L.ID_COL.header not in row.cells:  # else reported as bad
            self.problem("spec-import-missing-id", f"{what}需要编号（{key}）", row, L.ID_COL.header)

    # ---- 基本信息 ------------------------------------------------------------------------------

    def info(self, rows: list[Row], data: LocatedDict) -> None:
        by_name = {c.header: c for c in L.TOP_KEYS} | {c.key: c for c in L.TOP_KEYS}
        name_header, value_header, _ = L.INFO_HEADERS
        for row in rows:
            name = str(row.cells.get(name_header, "")).strip()
            if value_header not in row.cells:
                continue
            col = by_name.get(name)
            if col is None:
                self.problem(
                    "spec-import-unknown-setting",
                    f"没有“{name}”这一项；可用：{'、'.join(c.header for c in L.TOP_KEYS)}",
                    row,
                    name_header,
                )
                continue
            value = self.value(row, L.Col(value_header, col.key, col.kind, options=col.options))
            if value is None:
                continue
            owner, parts = data, col.key.split(".")
            for part in parts[:-1]:
                if part not in owner:
                    self.put(owner, part, self.node(row), row, name_header)
                owner = owner[part]
            self.put(owner, parts[-1], value, row, value_header)

    # ---- 字段 --------------------------------------------------------------------------------

    def layout(self, rows: list[Row], data: LocatedDict) -> None:
        by_header = {c.header: c for c in L.FIELD_SHEET_COLUMNS}
        field_headers = {
            L.KIND_COL.header,
            L.ID_COL.header,
            L.LABEL_COL.header,
            *(c.header for c in L.FIELD_COLUMNS),
        }
        sheet: LocatedDict | None = None
        block: LocatedDict | None = None
        table_row: LocatedDict | None = None
        for row in rows:
            kind = str(row.cells.get(L.KIND_COL.header, "")).strip()
            if kind == L.SHEET_ROW:
                self.only(row, {L.KIND_COL.header, *L.SHEET_KEYS}, kind)
                sheet, block, table_row = self.node(row), None, None
                for header, key in L.SHEET_KEYS.items():
                    self.fill(sheet, row, [L.Col(header, key, by_header[header].kind)])
                self.put(sheet, "blocks", self.located_list(row), row, L.KIND_COL.header)
                if "sheets" not in data:
                    self.put(data, "sheets", self.located_list(row), row, L.KIND_COL.header)
                self.append(data["sheets"], sheet, row)
            elif kind == L.BLOCK_ROW:
                table_row = None
                block = self.block(row, sheet, by_header)
            elif kind in (L.FIELD_ROW, L.COLUMN_ROW, L.CELL_ROW):
                self.only(row, field_headers, kind)
                self.member(row, kind, block, table_row)
            elif kind == L.PRESET_ROW:
                self.only(row, {L.KIND_COL.header, L.PRESET_COL_HEADER}, kind)
                self.list_preset(row, block)
            elif kind == L.TABLE_ROW:
                self.only(row, {L.KIND_COL.header, *L.TABLE_ROW_KEYS}, kind)
                table_row = self.table_row(row, block)
            else:
                shown = f"“{kind}”" if kind else "为空"
                self.problem(
                    "spec-import-unknown-row-kind",
                    f"类别{shown}：应为 {'、'.join(L.ROW_KINDS)} 之一",
                    row,
                    L.KIND_COL.header,
                )

    def block(self, row: Row, sheet: LocatedDict | None, by_header: dict[str, L.Col]) -> Any:
        if sheet is None:
            self.problem("spec-import-misplaced-row", "区块行前面要先有一个表页行", row)
            return None
        kind = self.value(row, L.BLOCK_KIND_COL)
        if kind is None:
            if L.BLOCK_KIND_COL.header not in row.cells:
                self.problem(
                    "spec-import-bad-cell", "区块行需要区块类型", row, L.BLOCK_KIND_COL.header
                )
            return None
        headers = L.BLOCK_KEYS[kind]
        self.only(row, {L.KIND_COL.header, L.BLOCK_KIND_COL.header, *headers}, f"{kind} 区块")
        block = self.node(row)
        self.put(block, "kind", kind, row, L.BLOCK_KIND_COL.header)
        self.fill(block, row, [by_header[h] for h in headers])
        if kind == "fields":
            self.put(block, "fields", self.located_list(row), row, L.BLOCK_KIND_COL.header)
        if kind == "indicators":
            self.put(block, "groups", self.located_list(row), row, L.BLOCK_KIND_COL.header)
        if kind in ("table", "list", "indicators"):
            self.require(row, block, "id", "区块")
            block_id = block.get("id")
            if block_id in self.blocks:
                self.problem(
                    "spec-import-duplicate-id", f"区块编号 {block_id} 重复", row, L.ID_COL.header
                )
            elif block_id:
                self.blocks[str(block_id)] = block
        self.append(sheet["blocks"], block, row)
        return block

    def member(self, row: Row, kind: str, block: Any, table_row: Any) -> None:
        block_kind = block.get("kind") if block is not None else None
        expected = {
            L.FIELD_ROW: ("fields",),
            L.COLUMN_ROW: ("table", "list", "indicators"),
            L.CELL_ROW: ("table",),
        }[kind]
        if block_kind not in expected or (kind == L.CELL_ROW and table_row is None):
            where = "表格的“行”" if kind == L.CELL_ROW else "、".join(expected) + " 区块"
            self.problem("spec-import-misplaced-row", f"{kind}行应在{where}下面", row)
            return
        node = self.node(row)
        id_key = "id" if kind == L.FIELD_ROW else "key"
        self.fill(
            node,
            row,
            [
                L.Col(L.ID_COL.header, id_key, "id"),
                L.Col(L.LABEL_COL.header, "label", "text"),
                *L.FIELD_COLUMNS,
            ],
        )
        self.require(row, node, id_key, f"{kind}行")
        if kind == L.FIELD_ROW:
            self.append(block["fields"], node, row)
        elif kind == L.COLUMN_ROW:
            if not isinstance(block.get("columns"), list):
                if "columns" in block:
                    self.problem(
                        "spec-import-misplaced-row", "指标列已写 standard，不能再逐列定义", row
                    )
                    return
                self.put(block, "columns", self.located_list(row), row, L.KIND_COL.header)
            self.append(block["columns"], node, row)
        else:
            column = node.pop("key", None)
            node.key_lines.pop("key", None)
            if column is None:
                return
            if "cells" not in table_row:
                self.put(table_row, "cells", self.node(row), row, L.KIND_COL.header)
            self.put(table_row["cells"], str(column), node, row, L.ID_COL.header)

    def list_preset(self, row: Row, block: Any) -> None:
        if block is None or block.get("kind") != "list" or isinstance(block.get("rows"), int):
            why = "列表已写行数" if block is not None and "rows" in block else "应在列表区块下面"
            self.problem("spec-import-misplaced-row", f"预设行{why}", row)
            return
        col = L.Col(L.PRESET_COL_HEADER, "", "yaml", shapes=(dict,))
        value = self.value(row, col)
        preset = self.node(row)
        for key, item in (value or {}).items():
            self.put(preset, str(key), item, row, col.header)
        if "rows" not in block:
            self.put(block, "rows", self.located_list(row), row, L.KIND_COL.header)
        self.append(block["rows"], preset, row)

    def table_row(self, row: Row, block: Any) -> LocatedDict | None:
        if block is None or block.get("kind") != "table":
            self.problem("spec-import-misplaced-row", "行应在表格区块下面", row)
            return None
        node = self.node(row)
        self.fill(
            node,
            row,
            [L.Col(h, k, "id" if k == "key" else "text") for h, k in L.TABLE_ROW_KEYS.items()],
        )
        self.require(row, node, "key", "行")
        if "rows" not in block:
            self.put(block, "rows", self.located_list(row), row, L.KIND_COL.header)
        self.append(block["rows"], node, row)
        return node

    # ---- 指标 --------------------------------------------------------------------------------

    def indicators(self, rows: list[Row], headers: list[str]) -> None:
        presets = {h: m.group(2) for h in headers if (m := _PRESET_HEADER.match(h))}
        group_headers = {
            L.INDICATOR_BLOCK_COL.header,
            L.LEVEL_COL.header,
            *(c.header for c in L.GROUP_COLUMNS),
        }
        block_id, stack = "", list[Any]()
        for row in rows:
            named = str(row.cells.get(L.INDICATOR_BLOCK_COL.header, "")).strip()
            if named and named != block_id:
                block_id, stack = named, []
            block = self.blocks.get(block_id)
            if block is None or block.get("kind") != "indicators":
                self.problem(
                    "spec-import-unknown-block",
                    f"字段表中没有编号为“{block_id}”的指标表区块",
                    row,
                    L.INDICATOR_BLOCK_COL.header,
                )
                continue
            level = str(row.cells.get(L.LEVEL_COL.header, "")).strip().removesuffix(".0")
            if level == L.GROUP_ROW:
                self.only(
                    row, {L.INDICATOR_BLOCK_COL.header, L.LEVEL_COL.header, *presets}, "预设指标"
                )
                self.preset(row, stack, presets)
                continue
            if not level.isdigit():
                self.problem(
                    "spec-import-bad-cell",
                    f"层级应为 1–{L.MAX_LEVELS} 的数字（分组）或“{L.GROUP_ROW}”（预设行）",
                    row,
                    L.LEVEL_COL.header,
                )
                continue
            self.only(row, group_headers, "指标分组")
            stack = self.group(row, int(level), block, stack)

    def group(self, row: Row, depth: int, block: LocatedDict, stack: list[Any]) -> list[Any]:
        if not 1 <= depth <= len(stack) + 1:
            above = f"上面最近的分组是第 {len(stack)} 级" if stack else "这个指标表还没有分组"
            self.problem(
                "spec-import-level-skipped",
                f"第 {depth} 级分组不能跳级：{above}，请先写第 {len(stack) + 1} 级分组",
                row,
                L.LEVEL_COL.header,
            )
            return stack
        group = self.node(row)
        self.fill(group, row, L.GROUP_COLUMNS)
        self.require(row, group, "key", "指标分组")
        stack = stack[: depth - 1]
        if not stack:
            self.append(block["groups"], group, row)
        else:
            parent = stack[-1]
            if "rows" in parent:
                self.problem(
                    "spec-import-misplaced-row",
                    "上级分组已有行数或预设行，不能再有子分组",
                    row,
                    L.LEVEL_COL.header,
                )
                return stack
            if "groups" not in parent:
                self.put(parent, "groups", self.located_list(row), row, L.LEVEL_COL.header)
            self.append(parent["groups"], group, row)
        return [*stack, group]

    def preset(self, row: Row, stack: list[Any], presets: dict[str, str]) -> None:
        parent = stack[-1] if stack else None
        if parent is None or "groups" in parent or isinstance(parent.get("rows"), int):
            why = (
                "前面没有分组"
                if parent is None
                else "上面的分组已有子分组"
                if "groups" in parent
                else "上面的分组已写行数"
            )
            self.problem(
                "spec-import-misplaced-row",
                f"预设行应紧跟在最末一级分组下面（{why}）",
                row,
                L.LEVEL_COL.header,
            )
            return
        node = self.node(row)
        for header, key in presets.items():
            self.fill(node, row, [L.Col(header, key, "value")])
        if "rows" not in parent:
            self.put(parent, "rows", self.located_list(row), row, L.LEVEL_COL.header)
        self.append(parent["rows"], node, row)

    # ---- 规则, 校验, 选项, 等次 ---------------------------------------------------------------

    def rules(self, rows: list[Row], data: LocatedDict) -> None:
        name_col, *settings = L.RULE_COLUMNS
        for row in rows:
            name = self.value(row, name_col)
            if name is None:
                self.problem("spec-import-missing-id", "自定义规则需要规则名", row, name_col.header)
                continue
            if "rules" not in data:
                self.put(data, "rules", self.node(row), row, name_col.header)
            if name in data["rules"]:
                self.problem(
                    "spec-import-duplicate-id", f"规则名 {name} 重复", row, name_col.header
                )
            rule = self.node(row)
            self.fill(rule, row, settings)
            self.put(data["rules"], name, rule, row, name_col.header)

    def checks(self, rows: list[Row], data: LocatedDict) -> None:
        block_col, *settings = L.CHECK_COLUMNS
        for row in rows:
            check = self.node(row)
            self.fill(check, row, settings)
            block_id = self.value(row, block_col)
            owner, key = data, "checks"
            if block_id is not None:
                block, key = self.blocks.get(block_id), "row_checks"
                if block is None or block.get("kind") not in ("list", "indicators"):
                    self.problem(
                        "spec-import-unknown-block",
                        f"字段表中没有编号为“{block_id}”的列表或指标表区块",
                        row,
                        block_col.header,
                    )
                    continue
                owner = block
            if key not in owner:
                self.put(owner, key, self.located_list(row), row, block_col.header)
            self.append(owner[key], check, row)

    def choices(self, rows: list[Row], data: LocatedDict) -> None:
        name_col, item_col = L.CHOICE_COLUMNS
        name = None
        for row in rows:
            name = self.value(row, name_col) or name
            if name is None:
                self.problem("spec-import-missing-id", "选项需要选项表名", row, name_col.header)
                continue
            item = self.value(row, item_col)
            if item is None:
                continue
            if "choices" not in data:
                self.put(data, "choices", self.node(row), row, name_col.header)
            if name not in data["choices"]:
                self.put(data["choices"], name, self.located_list(row), row, name_col.header)
            self.append(data["choices"][name], item, row)

    def grades(self, rows: list[Row], data: LocatedDict) -> None:
        for row in rows:
            band = self.node(row)
            self.fill(band, row, L.GRADE_COLUMNS)
            if "grades" not in data:
                self.put(data, "grades", self.node(row), row, L.GRADE_COLUMNS[0].header)
                self.put(
                    data["grades"], "bands", self.located_list(row), row, L.GRADE_COLUMNS[0].header
                )
            self.append(data["grades"]["bands"], band, row)


# ---- reading the workbook ---------------------------------------------------------------------


class NotAWorkbook(Exception):
    """The file is not an .xlsx workbook openpyxl can read (the message says so in Chinese)."""


def _cell(value: Any) -> Cell:
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        return value
    if isinstance(value, bool | int | float):
        return value
    return str(value)  # a date typed into a text column, say


def read_rows(path: Path) -> dict[str, tuple[list[str], list[Row]]]:
    """Each sheet's headers and non-empty rows (openpyxl, values as typed; formulas as text)."""
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except OSError as error:
        raise NotAWorkbook(f"无法读取文件：{error.strerror or error}") from None
    except (zipfile.BadZipFile, InvalidFileException) as error:
        raise NotAWorkbook(
            f"无法作为 Excel 工作簿（.xlsx）打开（{type(error).__name__}）："
            "请用 xltools spec export 生成的规范工作簿，或在 Excel 中另存为 .xlsx"
        ) from None
    except Exception as error:  # a damaged package: openpyxl raises many kinds
        raise NotAWorkbook(
            f"工作簿已损坏，无法读取（{type(error).__name__}: {error}）；请在 Excel 中打开后另存为 .xlsx"
        ) from None
    try:
        sheets: dict[str, tuple[list[str], list[Row]]] = {}
        for worksheet in workbook.worksheets:
            if worksheet.title not in L.SHEETS or worksheet.title == L.GUIDE:
                continue
            rows_iter: Iterator[Any] = worksheet.iter_rows(values_only=True)
            header_row = next(rows_iter, ())
            headers = [str(h).strip() if h is not None else "" for h in header_row]
            rows = []
            for number, values in enumerate(rows_iter, start=2):
                cells: dict[str, Cell] = {}
                for header, value in zip(headers, values, strict=False):
                    cell = _cell(value)
                    if cell is not None:
                        cells[header] = cell
                rows.append(Row(worksheet.title, number, cells))
            sheets[worksheet.title] = (headers, [r for r in rows if r])
        return sheets
    except Exception as error:  # a sheet openpyxl cannot parse
        raise NotAWorkbook(
            f"工作簿已损坏，无法读取（{type(error).__name__}: {error}）；请在 Excel 中打开后另存为 .xlsx"
        ) from None
    finally:
        workbook.close()


@dataclass
class Imported:
    data: LocatedDict | None
    problems: list[Problem]
    places: Places


_TOP_ORDER = (
    "template",
    "version",
    "title",
    "year",
    "description",
    "accepts",
    "previous",
    "old_versions",
    "obtain",
    "grades",
    "choices",
    "rules",
    "sheets",
    "checks",
)


def import_workbook(path: Path) -> Imported:
    """The spec data an authoring workbook holds, and every problem found reading it."""
    importer = _Importer(path)
    try:
        sheets = read_rows(path)
    except NotAWorkbook as error:
        importer.problems.append(Problem("spec-import-not-xlsx", str(error), path))
        return Imported(None, importer.problems, importer.places)
    missing = [name for name in (L.INFO, L.FIELDS) if name not in sheets]
    if missing:
        importer.problems.append(
            Problem(
                "spec-import-missing-sheet",
                f"不是规范工作簿：缺少 {'、'.join(missing)} 工作表（用 xltools spec export 生成一个样例看看）",
                path,
            )
        )
        return Imported(None, importer.problems, importer.places)
    known = {
        L.INFO: set(L.INFO_HEADERS),
        L.FIELDS: {c.header for c in L.FIELD_SHEET_COLUMNS},
        L.INDICATORS: {
            L.INDICATOR_BLOCK_COL.header,
            L.LEVEL_COL.header,
            *(c.header for c in L.GROUP_COLUMNS),
        },
        L.RULES: {c.header for c in L.RULE_COLUMNS},
        L.CHECKS: {c.header for c in L.CHECK_COLUMNS},
        L.CHOICES: {c.header for c in L.CHOICE_COLUMNS},
        L.GRADES: {c.header for c in L.GRADE_COLUMNS},
    }
    for name, (headers, _) in sheets.items():
        for column, header in enumerate(headers, start=1):
            if not header or header in known[name]:
                continue
            if name == L.INDICATORS and _PRESET_HEADER.match(header):
                continue
            importer.problem(
                "spec-import-unknown-column",
                f"未知的列“{header}”（第 {column} 列）；可用：{'、'.join(sorted(known[name]))}"
                + ("，以及“标签（列key）”形式的预设值列" if name == L.INDICATORS else ""),
                Row(name, 1, {}),
            )
    data = LocatedDict()
    data.line, data.key_lines = importer.places.add(L.INFO, 1), {}
    importer.info(sheets[L.INFO][1], data)
    importer.layout(sheets[L.FIELDS][1], data)
    if L.INDICATORS in sheets:
        importer.indicators(sheets[L.INDICATORS][1], sheets[L.INDICATORS][0])
    for name, reader in (
        (L.RULES, importer.rules),
        (L.CHECKS, importer.checks),
        (L.CHOICES, importer.choices),
        (L.GRADES, importer.grades),
    ):
        if name in sheets:
            reader(sheets[name][1], data)
    ordered = LocatedDict({k: data[k] for k in _TOP_ORDER if k in data})
    ordered.line, ordered.key_lines = data.line, data.key_lines
    return Imported(ordered, importer.problems, importer.places)
