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
                entry["value"] = value.isoformat() if hasattr(value, "isoformat") else value
        result["fields"].append(entry)
    return result
