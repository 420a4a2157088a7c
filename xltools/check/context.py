"""What every stage of a check shares: the spec, its layout, where each field stands, and
the workbook as read. Built once per file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..cellref import a1
from ..generate.layout import Cell, Layout, layout_spec
from ..spec.model import IndicatorBlock, ListBlock, Spec
from .report import Finding, Report, Severity

if TYPE_CHECKING:
    from ..xlsx.reader import RawCell, RawWorkbook


_LAYOUTS: dict[tuple[str, int, str], Layout] = {}


def _layout(spec: Spec) -> Layout:
    """The layout of a spec, computed once per process (merge checks thousands of files)."""
    key = (spec.template, spec.version, spec.sha256)
    if key not in _LAYOUTS:
        _LAYOUTS[key] = layout_spec(spec)
    return _LAYOUTS[key]


def _rows_of(spec: Spec) -> dict[str, tuple[str, ...]]:
    """Field id -> every field of its repeating row (lists and indicator rows)."""
    rows: dict[str, tuple[str, ...]] = {}
    for sheet in spec.sheets:
        for block in sheet.blocks:
            members: list[dict[str, str]] = []
            if isinstance(block, ListBlock):
                members = block.rows
            elif isinstance(block, IndicatorBlock):
                for group in block.groups:
                    members.extend(group.leaf_rows())
            for row in members:
                ids = tuple(row.values())
                for field_id in ids:
                    rows[field_id] = ids
    return rows


@dataclass
class CheckContext:
    spec: Spec
    workbook: RawWorkbook
    report: Report
    meta: dict[str, str]
    layout: Layout = field(init=False)
    # Field id -> (sheet, "C5") where the workbook holds it: its defined name when that still
    # resolves, else where the layout put it.
    where: dict[str, tuple[str, str]] = field(default_factory=dict)
    expected: dict[str, tuple[str, Cell]] = field(init=False)
    row_of: dict[str, tuple[str, ...]] = field(init=False)
    moved_sheets: set[str] = field(default_factory=set)
    #: Spec sheet name -> the name it was renamed to in the workbook (one sheet renamed).
    renamed: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # parsed inputs, then recomputed values

    def __post_init__(self) -> None:
        self.layout = _layout(self.spec)
        self.expected = self.layout.field_positions()
        self.row_of = _rows_of(self.spec)
        for field_id, (sheet, cell) in self.expected.items():
            self.where[field_id] = (sheet, a1(cell.row, cell.col))

    def cell(self, field_id: str) -> RawCell | None:
        sheet, ref = self.where[field_id]
        return self.workbook.cell(sheet, ref)

    def finding(
        self,
        severity: Severity,
        code: str,
        message: str,
        *,
        field_id: str = "",
        sheet: str = "",
        cell: str = "",
        expected: Any = "",
        found: Any = "",
    ) -> None:
        label = ""
        if field_id:
            spec_field = self.spec.fields.get(field_id)
            label = "/".join(spec_field.path) if spec_field else ""
            if field_id in self.where and not cell:
                sheet, cell = self.where[field_id]
        self.report.add(
            Finding(
                severity, code, message, sheet, cell, field_id, label, show(expected), show(found)
            )
        )


def show(value: Any) -> str:
    """A value as the report shows it."""
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)
