"""Read what a workbook holds for xltools: its metadata, defined names and cell values.

This reader uses openpyxl and serves describe, fill and the first version of check; it trusts
nothing it reads (values are evidence, the spec is the truth).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .generate.metadata import FORMAT_MARKER, META_SHEET


class NotATemplate(ValueError):
    """The workbook carries no xltools metadata."""


@dataclass
class CellRef:
    sheet: str
    coordinate: str  # top-left cell, e.g. "C5", or a range "B10:B17"

    @property
    def is_range(self) -> bool:
        return ":" in self.coordinate


@dataclass
class WorkbookInfo:
    meta: dict[str, str]
    names: dict[str, CellRef]
    sheet_names: list[str]
    sheet_states: dict[str, str] = field(default_factory=dict)

    @property
    def template(self) -> str:
        return self.meta.get("template", "")

    @property
    def version(self) -> int:
        try:
            return int(float(self.meta.get("version", "0")))
        except ValueError:
            return 0


def read_meta(workbook: Any) -> dict[str, str]:
    if META_SHEET not in workbook.sheetnames:
        raise NotATemplate("no metadata sheet")
    sheet = workbook[META_SHEET]
    meta: dict[str, str] = {}
    for row in sheet.iter_rows(min_row=1, max_col=2, values_only=True):
        if row and row[0] is not None:
            value = row[1]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            meta[str(row[0])] = "" if value is None else str(value)
    if meta.get("format") != FORMAT_MARKER:
        raise NotATemplate("metadata sheet without the xltools marker")
    return meta


def read_names(workbook: Any) -> dict[str, CellRef]:
    names: dict[str, CellRef] = {}
    for name, definition in workbook.defined_names.items():
        destinations = list(definition.destinations)
        if len(destinations) != 1:
            continue
        sheet, coordinate = destinations[0]
        names[name.lower()] = CellRef(sheet, coordinate.replace("$", ""))
    return names


def describe_workbook(workbook: Any) -> WorkbookInfo:
    return WorkbookInfo(
        meta=read_meta(workbook),
        names=read_names(workbook),
        sheet_names=list(workbook.sheetnames),
        sheet_states={ws.title: ws.sheet_state for ws in workbook.worksheets},
    )


def open_workbook(path: Path, *, data_only: bool = False) -> Any:
    import openpyxl

    return openpyxl.load_workbook(path, data_only=data_only, keep_links=False)


def cell_python_value(value: Any) -> Any:
    """openpyxl's value as xltools sees it: datetimes at midnight become dates."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value
