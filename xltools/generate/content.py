"""What a workbook says, independent of how the bytes were zipped: for comparing templates.

Two generations of the same spec differ in their zip timestamps, random protection password
and issue time; they must not differ in anything a person or the checker can see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

VOLATILE_META = frozenset({"issued_at", "generator"})


def workbook_content(path: Path) -> dict[str, Any]:
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    content: dict[str, Any] = {"names": {}, "sheets": {}}
    for name, definition in workbook.defined_names.items():
        content["names"][name] = definition.attr_text
    for sheet in workbook.worksheets:
        cells = {}
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None or not cell.protection.locked:
                    value = cell.value
                    if sheet.title == "_xltools" and cell.column == 2:
                        key = sheet.cell(row=cell.row or 1, column=1).value
                        value = "<volatile>" if key in VOLATILE_META else value
                    cells[cell.coordinate] = (value, cell.protection.locked, cell.number_format)
        content["sheets"][sheet.title] = {
            "state": sheet.sheet_state,
            "protected": bool(sheet.protection.sheet),
            "merged": sorted(str(r) for r in sheet.merged_cells.ranges),
            "validations": sorted(
                (str(v.sqref), v.type or "", v.formula1 or "", v.formula2 or "", v.operator or "")
                for v in sheet.data_validations.dataValidation
            ),
            "cells": cells,
        }
    return content


def differences(expected: dict[str, Any], found: dict[str, Any], limit: int = 20) -> list[str]:
    """Human-readable differences, at most ``limit`` of them."""
    out: list[str] = []
    if expected["names"] != found["names"]:
        missing = sorted(set(expected["names"]) - set(found["names"]))
        extra = sorted(set(found["names"]) - set(expected["names"]))
        changed = sorted(
            n
            for n in set(expected["names"]) & set(found["names"])
            if expected["names"][n] != found["names"][n]
        )
        out.append(
            f"defined names: missing {missing[:5]}, extra {extra[:5]}, changed {changed[:5]}"
        )
    for title in sorted(set(expected["sheets"]) | set(found["sheets"])):
        a, b = expected["sheets"].get(title), found["sheets"].get(title)
        if a is None or b is None:
            out.append(f"sheet {title}: {'missing' if b is None else 'unexpected'}")
            continue
        for key in ("state", "protected", "merged", "validations"):
            if a[key] != b[key]:
                out.append(f"sheet {title}: {key} differs")
        for coordinate in sorted(set(a["cells"]) | set(b["cells"])):
            if a["cells"].get(coordinate) != b["cells"].get(coordinate):
                out.append(
                    f"{title}!{coordinate}: {a['cells'].get(coordinate)!r} != {b['cells'].get(coordinate)!r}"
                )
            if len(out) >= limit:
                return out
    return out
