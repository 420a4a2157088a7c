"""The field map of a template or filled workbook: for integrators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .registry import Registry
from .workbook import cell_python_value, describe_workbook, open_workbook


def describe(path: Path, registry: Registry, *, with_values: bool = False) -> dict[str, Any]:
    workbook = open_workbook(path)
    info = describe_workbook(workbook)
    spec = registry.accepted(info.template, info.version)
    result: dict[str, Any] = {
        "file": str(path),
        "template": info.template,
        "version": info.version,
        "title": info.meta.get("title", ""),
        "bureau_id": info.meta.get("bureau_id", ""),
        "known_spec": spec is not None,
        "fields": [],
    }
    if spec is None:
        return result
    # A formula's last result is kept only in the cached values, which a second read gives.
    cached = open_workbook(path, data_only=True) if with_values else None
    for field in spec.fields.values():
        ref = info.names.get(field.id)
        entry: dict[str, Any] = {
            "id": field.id,
            "name": field.id,
            "sheet": ref.sheet if ref else None,
            "cell": ref.coordinate if ref else None,
            "path": "/".join(field.path),
            "label": field.label,
            "type": field.type,
            "unit": field.unit,
            "choices": list(field.choices) if field.choices else None,
            "role": "range"
            if field.is_range
            else ("computed" if field.computed else ("input" if field.input else "fixed")),
            "required": field.required,
        }
        if ref and not ref.is_range:
            cell = workbook[ref.sheet][ref.coordinate]
            entry["locked"] = bool(cell.protection.locked)
            if with_values:
                value = cell_python_value(cell.value)
                entry["value"] = _plain(value)
                if cached is not None and str(cell.value).startswith("="):
                    entry["cached_value"] = _plain(
                        cell_python_value(cached[ref.sheet][ref.coordinate].value)
                    )
        result["fields"].append(entry)
    return result


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# The words of the field map as a person reads them; ``--json`` keeps the stable English ones.
ROLE_LABEL = {"input": "填报", "computed": "计算", "fixed": "固定", "range": "区域"}
TYPE_LABEL = {
    "text": "文本",
    "integer": "整数",
    "number": "数值",
    "money": "金额",
    "percent": "百分比",
    "date": "日期",
    "choice": "选项",
    "bool": "是/否",
    "any": "任意",
}


def describe_lines(result: dict[str, Any], *, with_values: bool = False) -> list[str]:
    """The text output of ``xltools describe``: a title line, a header row, one row a field."""
    lines = [f"{result['title']}  模板 {result['template']} 第 {result['version']} 版"]
    if not result["known_spec"]:
        return [*lines, "（规范文件夹中没有这个模板的规范，无法列出字段）"]
    header = ["字段", "位置", "角色", "类型", "锁定", "标签路径"]
    lines.append("\t".join(header + (["当前值"] if with_values else [])))
    for entry in result["fields"]:
        where = f"{entry['sheet']}!{entry['cell']}" if entry["sheet"] else "-"
        kind = TYPE_LABEL.get(entry["type"], entry["type"])
        if entry["unit"]:
            kind += f"（{entry['unit']}）"
        # no "locked": a range, or a field the workbook lacks
        locked = {None: "-", True: "锁定", False: "可填"}[entry.get("locked")]
        role = ROLE_LABEL.get(entry["role"], entry["role"])
        row = [entry["name"], where, role, kind, locked, entry["path"]]
        if with_values:
            row.append(_value_text(entry, entry["type"]) if "value" in entry else "-")
        lines.append("\t".join(row))
    return lines


def _value_text(entry: dict[str, Any], field_type: str) -> str:
    value = entry.get("value")
    if "cached_value" in entry:  # a formula: its result as last calculated, if ever
        value = entry["cached_value"]
        if value is None:
            return "（公式，尚未计算：在 Excel/WPS 中打开并保存后可见）"
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if field_type == "percent" and isinstance(value, (int, float)):
        return f"{value * 100:.10g}%"  # the cell holds 0.95 and shows 95%
    return str(value)
