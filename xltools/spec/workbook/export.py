"""A spec's YAML (as :func:`xltools.spec.source.load_yaml` reads it) → the rows of the
authoring workbook's sheets. Every key is placed by the tables of ``layout.py``; a key they do
not know is a ``spec-export-unsupported`` problem at its line, never dropped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..problems import Problem
from ..source import line_of
from . import layout as L
from .cells import Cell, Unsupported, to_cell

UNSUPPORTED = "spec-export-unsupported"
_BY_HEADER = {c.header: c for c in L.FIELD_SHEET_COLUMNS}
_FIELD_KEYS = {c.key: c for c in L.FIELD_COLUMNS}
_BLOCK_CHILDREN = {  # keys of a block that are rows elsewhere, not settings of its 区块 row
    "fields": {"fields"},
    "table": {"columns", "rows"},
    "list": {"columns", "row_checks"},
    "indicators": {"columns", "groups", "row_checks"},
    "note": set(),
}


@dataclass
class Table:
    """One sheet of the authoring workbook: its columns and rows (header → cell)."""

    name: str
    columns: list[L.Col]
    rows: list[dict[str, Cell]] = field(default_factory=list)
    row_cols: dict[int, L.Col] = field(default_factory=dict)  # 基本信息: the 值 cell's column


def preset_header(label: str, key: str) -> str:
    return f"{label}（{key}）"


class _Exporter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.fields = Table(L.FIELDS, list(L.FIELD_SHEET_COLUMNS))
        self.indicators = Table(
            L.INDICATORS, [L.INDICATOR_BLOCK_COL, L.LEVEL_COL, *L.GROUP_COLUMNS]
        )
        self.rules = Table(L.RULES, list(L.RULE_COLUMNS))
        self.checks = Table(L.CHECKS, list(L.CHECK_COLUMNS))
        self.choices = Table(L.CHOICES, list(L.CHOICE_COLUMNS))
        self.grades = Table(L.GRADES, list(L.GRADE_COLUMNS))
        self.info = Table(L.INFO, [L.Col(h, "", "text") for h in L.INFO_HEADERS])
        self.preset_columns: dict[str, str] = {}  # indicator column key -> its preset header

    # ---- problems and cells ----------------------------------------------------------------

    def unsupported(self, message: str, where: Any, key: Any = None) -> None:
        line = line_of(where, key)
        self.problems.append(Problem(UNSUPPORTED, message, self.path, line))

    def cell(self, col: L.Col, value: Any, where: Any, key: str) -> Cell:
        try:
            return to_cell(col, value)
        except Unsupported as error:
            self.unsupported(f"“{key}” 无法写进“{col.header}”列：{error}", where, key)
            return None

    def mapping(self, value: Any, where: Any, key: Any, what: str) -> bool:
        """Whether ``value`` is a mapping (an empty one too); if not, say so."""
        if isinstance(value, Mapping):
            return True
        self.unsupported(
            f"{what} 应是一个映射（键: 值），这里是 {type(value).__name__}", where, key
        )
        return False

    def sequence(self, value: Any, where: Any, key: Any, what: str) -> list[Any]:
        if isinstance(value, list):
            return value
        self.unsupported(f"{what} 应是一个列表，这里是 {type(value).__name__}", where, key)
        return []

    def unknown(self, raw: Mapping[str, Any], known: set[str], what: str) -> None:
        for key in raw:
            if key not in known:
                self.unsupported(
                    f"{what} 的设置 “{key}” 在规范工作簿中没有对应的列，无法导出"
                    "（若是新的规范设置，请在 xltools/spec/workbook/layout.py 中为它加一列）",
                    raw,
                    key,
                )

    # ---- top level -------------------------------------------------------------------------

    def spec(self, raw: Mapping[str, Any]) -> None:
        top = {c.key.split(".")[0] for c in L.TOP_KEYS}
        self.unknown(raw, top | {"sheets", "grades", "choices", "rules", "checks"}, "规范")
        previous = raw.get("previous")
        if previous is not None and self.mapping(previous, raw, "previous", "previous"):
            self.unknown(
                previous, {c.key.split(".")[1] for c in L.TOP_KEYS if "." in c.key}, "previous"
            )
        for col in L.TOP_KEYS:
            owner: Any = raw
            parts = col.key.split(".")
            for part in parts[:-1]:
                owner = owner.get(part) if isinstance(owner, Mapping) else None
            value = owner.get(parts[-1]) if isinstance(owner, Mapping) else None
            cell = None if value is None else self.cell(col, value, owner, parts[-1])
            self.info.row_cols[len(self.info.rows)] = col
            self.info.rows.append({"项目": col.header, "值": cell, "说明": col.prompt})
        for index, sheet in enumerate(self.sequence(raw.get("sheets"), raw, "sheets", "sheets")):
            if self.mapping(sheet, raw["sheets"], index, "表页"):
                self.sheet(sheet)
        self.grade_bands(raw)
        self.choice_lists(raw)
        self.rule_kinds(raw)
        self.check_rows(raw.get("checks"), raw, "checks", "")

    def grade_bands(self, raw: Mapping[str, Any]) -> None:
        grades = raw.get("grades")
        if grades is None or not self.mapping(grades, raw, "grades", "grades"):
            return
        self.unknown(grades, {"bands"}, "grades")
        bands = self.sequence(grades.get("bands"), grades, "bands", "grades.bands")
        for index, band in enumerate(bands):
            if self.mapping(band, bands, index, "等次"):
                self.unknown(band, {c.key for c in L.GRADE_COLUMNS}, "等次")
                self.grades.rows.append(self.cells(L.GRADE_COLUMNS, band))

    def choice_lists(self, raw: Mapping[str, Any]) -> None:
        choices = raw.get("choices")
        if choices is None or not self.mapping(choices, raw, "choices", "choices"):
            return
        name_col, item_col = L.CHOICE_COLUMNS
        for name, items in choices.items():
            items = self.sequence(items, choices, name, f"选项表 {name}")
            if not items:
                self.unsupported(f"选项表 {name} 没有选项，无法导出", choices, name)
            for item in items:
                self.choices.rows.append(
                    {
                        name_col.header: str(name),
                        item_col.header: self.cell(item_col, item, choices, str(name)),
                    }
                )

    def rule_kinds(self, raw: Mapping[str, Any]) -> None:
        rules = raw.get("rules")
        if rules is None or not self.mapping(rules, raw, "rules", "rules"):
            return
        name_col, *settings = L.RULE_COLUMNS
        for name, definition in rules.items():
            if not self.mapping(definition, rules, name, f"规则 {name}"):
                continue
            self.unknown(definition, {c.key for c in settings}, f"规则 {name}")
            self.rules.rows.append({name_col.header: str(name), **self.cells(settings, definition)})

    def check_rows(self, raw: Any, where: Any, key: str, block_id: str) -> None:
        if raw is None:
            return
        block_col, *settings = L.CHECK_COLUMNS
        for index, check in enumerate(self.sequence(raw, where, key, key)):
            if self.mapping(check, raw, index, "校验"):
                self.unknown(check, {c.key for c in settings}, "校验")
                self.checks.rows.append(
                    {block_col.header: block_id or None, **self.cells(settings, check)}
                )

    def cells(self, columns: Any, raw: Mapping[str, Any]) -> dict[str, Cell]:
        return {c.header: self.cell(c, raw[c.key], raw, c.key) for c in columns if c.key in raw}

    # ---- sheets and blocks -----------------------------------------------------------------

    def sheet(self, raw: Mapping[str, Any]) -> None:
        self.unknown(raw, {*L.SHEET_KEYS.values(), "blocks"}, f"表页 {raw.get('name', '')}")
        row: dict[str, Cell] = {L.KIND_COL.header: L.SHEET_ROW}
        for header, key in L.SHEET_KEYS.items():
            if key in raw:
                row[header] = self.cell(_BY_HEADER[header], raw[key], raw, key)
        self.fields.rows.append(row)
        blocks = self.sequence(raw.get("blocks"), raw, "blocks", "blocks")
        for index, block in enumerate(blocks):
            if self.mapping(block, blocks, index, "区块"):
                self.block(block)

    def block(self, raw: Mapping[str, Any]) -> None:
        kind = str(raw.get("kind"))
        if kind not in L.BLOCK_KEYS:
            self.unsupported(f"区块种类 “{kind}” 未知，无法导出", raw, "kind")
            return
        row: dict[str, Cell] = {
            L.KIND_COL.header: L.BLOCK_ROW,
            L.BLOCK_KIND_COL.header: to_cell(L.BLOCK_KIND_COL, kind),
        }
        settings = {_BY_HEADER[h].key: _BY_HEADER[h] for h in L.BLOCK_KEYS[kind]}
        if kind == "indicators" and isinstance(raw.get("columns"), list):
            settings.pop("columns")
        self.unknown(raw, {"kind", *settings, *_BLOCK_CHILDREN[kind]}, f"{kind} 区块")
        for key, col in settings.items():
            if key in raw and not (key == "rows" and isinstance(raw[key], list)):
                row[col.header] = self.cell(col, raw[key], raw, key)
        self.fields.rows.append(row)
        if kind == "fields":
            items = self.sequence(raw.get("fields"), raw, "fields", "fields")
            for index, item in enumerate(items):
                if self.mapping(item, items, index, "字段"):
                    self.field_row(L.FIELD_ROW, item, "id")
        if kind in ("table", "list") or isinstance(raw.get("columns"), list):
            items = self.sequence(raw.get("columns"), raw, "columns", "columns")
            for index, item in enumerate(items):
                if self.mapping(item, items, index, "列"):
                    self.field_row(L.COLUMN_ROW, item, "key")
        if kind == "list" and isinstance(raw.get("rows"), list):
            self.list_presets(raw)
        if kind == "table":
            self.table_rows(raw)
        if kind == "indicators":
            self.groups(raw)
        self.check_rows(raw.get("row_checks"), raw, "row_checks", str(raw.get("id", "")))

    def field_row(self, row_kind: str, raw: Mapping[str, Any], id_key: str) -> None:
        self.unknown(raw, {id_key, "label", *_FIELD_KEYS}, f"{row_kind} {raw.get(id_key, '')}")
        row: dict[str, Cell] = {L.KIND_COL.header: row_kind}
        if id_key in raw:
            row[L.ID_COL.header] = self.cell(L.ID_COL, raw[id_key], raw, id_key)
        if "label" in raw:
            row[L.LABEL_COL.header] = self.cell(L.LABEL_COL, raw["label"], raw, "label")
        row.update(self.cells(L.FIELD_COLUMNS, raw))
        self.fields.rows.append(row)

    def list_presets(self, raw: Mapping[str, Any]) -> None:
        """A list's preset rows, each a 预设行 whose 固定值 holds {列key: 值, …}."""
        rows = raw["rows"]
        if not rows:
            self.unsupported("列表的 rows 为空列表，无法导出（写行数）", raw, "rows")
        col = _BY_HEADER[L.PRESET_COL_HEADER]
        for index, preset in enumerate(rows):
            if self.mapping(preset, rows, index, "列表的预设行"):
                cell = self.cell(L.Col(col.header, "", "yaml"), dict(preset), rows, str(index))
                self.fields.rows.append({L.KIND_COL.header: L.PRESET_ROW, col.header: cell})

    def table_rows(self, raw: Mapping[str, Any]) -> None:
        rows = self.sequence(raw.get("rows"), raw, "rows", "表格的 rows")
        for index, item in enumerate(rows):
            if not self.mapping(item, rows, index, "表格的行"):
                continue
            self.unknown(item, {*L.TABLE_ROW_KEYS.values(), "cells"}, f"行 {item.get('key', '')}")
            row: dict[str, Cell] = {L.KIND_COL.header: L.TABLE_ROW}
            for header, key in L.TABLE_ROW_KEYS.items():
                if key in item:
                    row[header] = self.cell(_BY_HEADER[header], item[key], item, key)
            self.fields.rows.append(row)
            cells = item.get("cells")
            if cells is None:
                continue
            if not self.mapping(cells, item, "cells", "cells"):
                continue
            for column, override in cells.items():
                if not isinstance(override, Mapping):
                    self.unsupported(
                        f"单元格 {column} 的设置写成了 {override!r}；规范工作簿只接受映射，"
                        f"请写成 {{value: {override!r}}}（或删去这一格）",
                        cells,
                        column,
                    )
                    continue
                self.field_row(L.CELL_ROW, {"key": column, **override}, "key")

    # ---- the 指标 sheet --------------------------------------------------------------------

    def groups(self, raw: Mapping[str, Any]) -> None:
        from ..blocks.indicators import STANDARD_INDICATOR_COLUMNS

        columns = raw.get("columns", "standard")
        defined = STANDARD_INDICATOR_COLUMNS if not isinstance(columns, list) else columns
        for column in defined:
            if isinstance(column, Mapping) and "key" in column:
                key = str(column["key"])
                label = str(column.get("label", key))
                self.preset_columns.setdefault(key, preset_header(label, key))
        block_id = str(raw.get("id", ""))
        groups = self.sequence(raw.get("groups"), raw, "groups", "groups")
        for index, group in enumerate(groups):
            if self.mapping(group, groups, index, "指标分组"):
                self.group(group, block_id, 1)

    def group(self, raw: Mapping[str, Any], block_id: str, depth: int) -> None:
        keys = {c.key for c in L.GROUP_COLUMNS}
        self.unknown(raw, keys | {"groups"}, f"指标分组 {raw.get('key', '')}")
        row: dict[str, Cell] = {L.INDICATOR_BLOCK_COL.header: block_id, L.LEVEL_COL.header: depth}
        rows = raw.get("rows")
        row.update(
            self.cells(
                [c for c in L.GROUP_COLUMNS if c.key != "rows" or isinstance(rows, int)], raw
            )
        )
        self.indicators.rows.append(row)
        if "groups" in raw and "rows" in raw:
            self.unsupported("指标分组不能同时有 groups 和 rows", raw, "rows")
        children = raw.get("groups")
        if children is not None:
            children = self.sequence(children, raw, "groups", "groups")
            if not children:
                self.unsupported("指标分组的 groups 为空，无法导出", raw, "groups")
            for index, child in enumerate(children):
                if self.mapping(child, children, index, "指标分组"):
                    self.group(child, block_id, depth + 1)
        if isinstance(rows, list):
            if not rows:
                self.unsupported("指标分组的 rows 为空列表，无法导出（写 rows: 0）", raw, "rows")
            for index, preset in enumerate(rows):
                if self.mapping(preset, rows, index, "预设指标行"):
                    self.preset(preset, block_id)
        elif rows is not None and not isinstance(rows, int):
            self.unsupported(f"指标分组的 rows 应为行数或预设行的列表：{rows!r}", raw, "rows")

    def preset(self, raw: Mapping[str, Any], block_id: str) -> None:
        row: dict[str, Cell] = {
            L.INDICATOR_BLOCK_COL.header: block_id,
            L.LEVEL_COL.header: L.GROUP_ROW,
        }
        for key, value in raw.items():
            header = self.preset_columns.setdefault(key, preset_header(key, key))
            row[header] = self.cell(_preset_col(header), value, raw, key)
        self.indicators.rows.append(row)

    def finish(self) -> list[Table]:
        self.indicators.columns += [_preset_col(h) for h in self.preset_columns.values()]
        return [
            self.info,
            self.fields,
            self.indicators,
            self.rules,
            self.checks,
            self.choices,
            self.grades,
        ]


def _preset_col(header: str) -> L.Col:
    return L.Col(header, "", "value", L.PRESET_PROMPT, 14)


def export_tables(raw: Mapping[str, Any], path: Path) -> tuple[list[Table], list[Problem]]:
    """The authoring workbook's sheets for the spec ``raw`` read from ``path``, and every
    key that could not be placed (``spec-export-unsupported``, at its line)."""
    exporter = _Exporter(path)
    exporter.spec(raw)
    return exporter.finish(), exporter.problems
