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


@dataclass(frozen=True)
class _SpecPlan:
    """What a check needs of a spec before it looks at the workbook."""

    layout: Layout
    expected: dict[str, tuple[str, Cell]]
    row_of: dict[str, tuple[str, ...]]
    where: dict[str, tuple[str, str]]  # field id -> (sheet, "C5") where the layout puts it
    #: sheet name -> 1-based (last row, last column) of the form's area
    extents: dict[str, tuple[int, int]]


_PLANS: dict[tuple[str, int, str], _SpecPlan] = {}


def _plan(spec: Spec) -> _SpecPlan:
    """Computed once per spec and process (merge checks thousands of files); never mutated."""
    key = (spec.template, spec.version, spec.sha256)
    plan = _PLANS.get(key)
    if plan is None:
        layout = layout_spec(spec)
        expected = layout.field_positions()
        where = {fid: (sheet, a1(cell.row, cell.col)) for fid, (sheet, cell) in expected.items()}
        extents = {
            sheet.name: (
                max(max(c.row, c.last_row) for c in sheet.cells) + 1,
                max(max(c.col, c.last_col) for c in sheet.cells) + 1,
            )
            for sheet in layout.sheets
            if sheet.cells
        }
        plan = _PLANS[key] = _SpecPlan(layout, expected, _rows_of(spec), where, extents)
    return plan


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
    extents: dict[str, tuple[int, int]] = field(init=False)
    # Field id -> (sheet, "C5") where the workbook holds it: its defined name when that still
    # resolves, else where the layout put it.
    where: dict[str, tuple[str, str]] = field(default_factory=dict)
    expected: dict[str, tuple[str, Cell]] = field(init=False)
    row_of: dict[str, tuple[str, ...]] = field(init=False)
    moved_sheets: set[str] = field(default_factory=set)
    #: Spec sheet name -> the name it was renamed to in the workbook (one sheet renamed).
    renamed: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # parsed inputs, then recomputed values
    #: field id -> value pre-filled at distribution (structure.prefill_values; None: not yet read)
    prefill: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        plan = _plan(self.spec)
        self.layout = plan.layout
        self.extents = plan.extents
        self.expected = plan.expected
        self.row_of = plan.row_of
        self.where.update(plan.where)

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
        kind = ""
        if field_id:
            spec_field = self.spec.fields.get(field_id)
            label = "/".join(spec_field.path) if spec_field else ""
            kind = spec_field.type if spec_field else ""
            if field_id in self.where and not cell:
                sheet, cell = self.where[field_id]
        self.report.add(
            Finding(
                severity,
                code,
                message,
                sheet,
                cell,
                field_id,
                label,
                show(expected, kind),
                show(found, kind),
            )
        )


def show(value: Any, kind: str = "") -> str:
    """A value as the report shows it; a percent field's number as the form shows it (95%,
    not the 0.95 the rules compute with)."""
    if value is None or value == "":
        return ""
    if kind == "percent" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value * 100:.10g}%"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)
