"""One spec value in one cell of the authoring workbook, both ways, by the column's kind
(:data:`xltools.spec.workbook.layout.KINDS`). ``to_cell`` raises :class:`Unsupported` for a
value the column cannot hold exactly; ``from_cell`` raises :class:`BadCell` with a Chinese
message for a cell that does not hold what its column needs."""

from __future__ import annotations

import re
from typing import Any

import yaml

from .layout import NO, YES, Col

EMPTY_TEXT = '""'  # how a cell says "the empty text" (an empty cell says "not set")
NULL_TEXT = "~"  # how a value cell says null (YAML's ~: "this cell does not apply")


class _Null:
    """What ``from_cell`` gives for ``~``: a null the spec sets, not an empty cell."""

    def __repr__(self) -> str:
        return "NULL"


NULL: Any = _Null()
ID = re.compile(r"^[a-z][a-z0-9_]*$")
_SEPARATORS = re.compile(r"[,，、;；]")
_TRUE = {YES, "TRUE", "true", "True", "对"}
_FALSE = {NO, "FALSE", "false", "False", "错"}

Cell = str | int | float | bool | None


class Unsupported(ValueError):
    """A value a column cannot hold (say why, in Chinese)."""


class BadCell(ValueError):
    """A cell that does not hold what its column needs (say what, in Chinese)."""


def plain(value: Any) -> Any:
    """Located mappings and lists as plain ones (for YAML and comparisons)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def inline_yaml(value: Any) -> str:
    text = yaml.safe_dump(
        plain(value), default_flow_style=True, allow_unicode=True, sort_keys=False, width=1 << 30
    )
    return text.strip().removesuffix("...").strip()


def _looks_like_yaml(text: str) -> bool:
    return text.startswith(("{", "["))


def _scalar(value: Any) -> Cell:
    """A value as typed into a cell: text, number, 是/否 as a boolean cell, inline YAML."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if value == "":
            return EMPTY_TEXT
        if _looks_like_yaml(value) or value in (EMPTY_TEXT, NULL_TEXT):
            raise Unsupported(f"文字 “{value[:20]}” 以 {{ 或 [ 开头，写进单元格会被当成 YAML")
        return value
    if isinstance(value, dict | list):
        return inline_yaml(value)
    raise Unsupported(f"值 {value!r} 无法写进单元格")


def to_cell(col: Col, value: Any) -> Cell:
    """The cell for ``value`` in column ``col``."""
    kind = col.kind
    if value is None and kind == "value":
        return NULL_TEXT
    if value is None:
        raise Unsupported("空值（null）无法写进单元格；请删去这一项或写明它的值")
    if kind == "value":
        return _scalar(value)
    if kind in ("text", "id"):
        if not isinstance(value, str):
            raise Unsupported(f"“{col.header}” 应为文字，规范中是 {value!r}")
        return value
    if kind in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Unsupported(f"“{col.header}” 应为数值，规范中是 {value!r}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise Unsupported(f"“{col.header}” 应为 是/否，规范中是 {value!r}")
        return YES if value else NO
    if kind in ("list", "ints"):
        if not isinstance(value, list) or not value:
            raise Unsupported(f"“{col.header}” 应为非空的列表，规范中是 {value!r}")
        items = [str(v) for v in value]
        if any(_SEPARATORS.search(i) or not i.strip() or i != i.strip() for i in items) or (
            kind == "list" and not all(isinstance(v, str) for v in value)
        ):
            raise Unsupported(f"“{col.header}” 的列表 {value!r} 无法用逗号分隔写进单元格")
        return ", ".join(items)
    if kind == "yaml":
        if isinstance(value, str) and not _looks_like_yaml(value) and value:
            return value
        return inline_yaml(value)
    if kind == "choice":
        shown = {spec: label for label, spec in col.options}
        return shown.get(str(value), str(value))
    raise AssertionError(kind)


def _text(raw: Cell) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _number(raw: Cell, col: Col) -> int | float:
    if isinstance(raw, bool):
        raise BadCell(f"应为数值，不是 {_text(raw)}")
    if isinstance(raw, int | float):
        return raw
    text = str(raw).strip().replace("，", "").replace(",", "")
    try:
        number = float(text)
    except ValueError:
        raise BadCell(f"“{raw}” 不是数值，请填数字（如 30）") from None
    return int(number) if number.is_integer() and "." not in text else number


def _yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"第 {mark.column + 1} 个字符处" if mark is not None else ""
        problem = getattr(error, "problem", "") or "格式不对"
        raise BadCell(
            f"“{text[:40]}” 不是正确的 YAML 写法（{where}{problem}）；"
            "写法如 {type: percent, min: 0} 或 [甲, 乙]，全角的 ：，｛｝ 要改成半角"
        ) from None


_SHAPES: dict[tuple[type, ...], str] = {
    (dict,): "{键: 值, …}",
    (str, list): "名称或 [甲, 乙, …]",
    (str, dict): "名称或 {kind: …, 参数: …}",
    (dict, list): "{参数名: 默认值, …}",
}


def from_cell(col: Col, raw: Cell) -> Any:
    """The spec value a (non-empty) cell holds."""
    kind = col.kind
    if kind == "value":
        if isinstance(raw, str):
            if raw == EMPTY_TEXT:
                return ""
            if raw.strip() == NULL_TEXT:
                return NULL
            if _looks_like_yaml(raw.strip()):
                return _yaml(raw.strip())
        return raw
    if kind == "text":
        return _text(raw)
    if kind == "id":
        text = _text(raw).strip()
        if not ID.match(text):
            raise BadCell(f"“{text}” 不能作编号：只能用小写字母、数字和下划线，并以字母开头")
        return text
    if kind == "int":
        number = _number(raw, col)
        if not float(number).is_integer():
            raise BadCell(f"“{_text(raw)}” 不是整数")
        return int(number)
    if kind == "number":
        return _number(raw, col)
    if kind == "bool":
        text = _text(raw).strip()
        if isinstance(raw, bool):
            return raw
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise BadCell(f"“{text}” 应为 是 或 否")
    if kind in ("list", "ints"):
        items = [i.strip() for i in _SEPARATORS.split(_text(raw)) if i.strip()]
        if kind == "ints":
            try:
                return [int(i) for i in items]
            except ValueError:
                raise BadCell(f"“{_text(raw)}” 应为用逗号分隔的整数，如 1, 2") from None
        return items
    if kind == "yaml":
        value = raw if not isinstance(raw, float) or not raw.is_integer() else int(raw)
        if isinstance(raw, str) and _looks_like_yaml(raw.strip()):
            value = _yaml(raw.strip())
        if col.shapes and not isinstance(value, col.shapes):
            raise BadCell(f"“{_text(raw)[:40]}” 应写成 {_SHAPES[col.shapes]}")
        return value
    if kind == "choice":
        text = _text(raw).strip()
        values = {label: spec for label, spec in col.options}
        if text in values:
            return values[text]
        if text in values.values():
            return text
        raise BadCell(f"“{text}” 不是可选的值；可选：{'、'.join(values)}")
    raise AssertionError(kind)
