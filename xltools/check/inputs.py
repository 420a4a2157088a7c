"""Read every input cell and parse it as a careful reviewer would (see parse.py)."""

from __future__ import annotations

from typing import Any

from ..engine import from_serial
from ..expr import BLANK
from ..spec.constraints import violation
from .context import CheckContext
from .parse import parse_value

ERROR_STATUSES = ("ambiguous", "invalid")


def _row_unit(ctx: CheckContext, field_id: str) -> str | None:
    """The 单位 typed in the same row, for reading an 'any' value such as 63万."""
    for member in ctx.row_of.get(field_id, ()):
        if member.endswith("_unit"):
            raw = ctx.cell(member)
            if raw is not None and isinstance(raw.value, str) and raw.value.strip():
                return raw.value.strip()
    return None


def read_inputs(ctx: CheckContext) -> None:
    """Parsed input values into ``ctx.values``; a finding for each conversion or refusal."""
    for field in ctx.spec.inputs():
        if field.id not in ctx.where:
            continue
        raw = ctx.cell(field.id)
        if raw is None or ctx.workbook.sheet(ctx.where[field.id][0]) is None:
            ctx.values[field.id] = BLANK
            continue
        unit = _row_unit(ctx, field.id) if field.type == "any" else field.unit
        value: Any = raw.value
        if field.type == "date" and isinstance(value, float) and 0 < value < 2958466:
            value = from_serial(value)  # a date cell stores a serial number: that is normal
        parsed = parse_value(value, field.type, unit=unit, choices=field.choices)
        if parsed.status == "blank":  # required fields are the spec's checks (value-required)
            ctx.values[field.id] = BLANK
            continue
        if parsed.status in ERROR_STATUSES:
            # Keep what the cell holds, so the recomputation sees what the spreadsheet sees.
            ctx.values[field.id] = _as_cell(raw.value)
            ctx.finding(
                "error",
                parsed.code or "value-unreadable",
                parsed.message or "无法识别的值",
                field_id=field.id,
                found=raw.value,
            )
            continue
        value = parsed.value
        if parsed.status == "converted":
            ctx.finding(
                "info",
                parsed.code or "value-converted",
                parsed.message or "已按常规理解读取",
                field_id=field.id,
                expected=value,
                found=raw.value,
            )
        problem = violation(field, value)
        if problem:
            ctx.finding("error", problem[0], problem[1], field_id=field.id, found=value)
        ctx.values[field.id] = value


def _as_cell(value: Any) -> Any:
    if value is None:
        return BLANK
    return value
