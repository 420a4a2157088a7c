"""Read every input cell and parse it as a careful reviewer would (see parse.py)."""

from __future__ import annotations

import re
from typing import Any, Final

from ..engine import as_cell_value, from_serial
from ..expr import BLANK
from ..spec.constraints import violation
from .context import CheckContext, show
from .parse import parse_value
from .structure import prefill_values

ERROR_STATUSES = ("ambiguous", "invalid")
NUMERIC_TYPES: Final = frozenset({"integer", "number", "money", "percent"})
TEXT_IN_NUMBER: Final = "value-text-in-number-cell"


def _row_unit(ctx: CheckContext, field_id: str) -> str | None:
    """The 单位 typed in the same row, for reading an 'any' value such as 63万."""
    for member in ctx.row_of.get(field_id, ()):
        if member.endswith("_unit"):
            raw = ctx.cell(member)
            if raw is not None and isinstance(raw.value, str) and raw.value.strip():
                return raw.value.strip()
    return None


def read_inputs(ctx: CheckContext) -> None:
    """Parsed input values into ``ctx.values``; a finding for each conversion or refusal.

    The values are what the workbook's own formulas see: a number typed as text stays text
    (Excel, WPS and LibreOffice skip it in sums and scores), with an error at the cell that
    says what to type instead; the checker's verdict then agrees with the 自检 panel and the
    figures the clerk saw. A value pre-filled at distribution is taken from the distribution
    record, never from the cell (a changed one is reported by check_structure)."""
    prefill = prefill_values(ctx)
    for field in ctx.spec.inputs():
        if field.id not in ctx.where:
            continue
        if field.id in prefill:
            ctx.values[field.id] = as_cell_value(prefill[field.id])
            continue
        raw = ctx.cell(field.id)
        if raw is None or ctx.workbook.sheet(ctx.where[field.id][0]) is None:
            ctx.values[field.id] = BLANK
            continue
        if raw.formula and reaches_outside(raw.formula):
            # The value would come from another file or program (a DDE formula can start one
            # when the file is opened): the bureau cannot see it, and the checked copy keeps
            # the formula, so say so instead of silently taking the cached value.
            ctx.finding(
                "error",
                "value-external-reference",
                "输入单元格中是引用其他文件或程序的公式："
                "这个值检查人看不到来源，打开文件时还可能被改写或启动其他程序。"
                "请删除公式，直接输入数值或文字。",
                field_id=field.id,
                found="=" + raw.formula[:200],
            )
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
        if field.type in NUMERIC_TYPES and isinstance(raw.value, str):
            problem = violation(field, value)
            if problem:  # the graver news: even typed as a number it would not do
                note = "此格还是文本，表内公式不把它当作数字"
                ctx.finding("error", problem[0], f"{problem[1]}（{note}）", field_id=field.id,
                            found=raw.value)  # fmt: skip
            else:
                _text_in_number_cell(ctx, field.id, raw.value, value, parsed.message)
            ctx.values[field.id] = raw.value
            continue
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


def _text_in_number_cell(
    ctx: CheckContext, field_id: str, typed: str, reading: Any, note: str | None
) -> None:
    field = ctx.spec.fields[field_id]
    label = field.label
    shown = f"{reading * 100:.10g}%" if field.type == "percent" else show(reading)
    ctx.finding(
        "error",
        TEXT_IN_NUMBER,
        f"“{label}” 中是文本 “{typed[:40]}”，不是数字：表内的合计、执行率和得分公式不把文本当作数字"
        f"（通常是从其他文件粘贴来的）。请删除后直接输入数字 {shown}"
        + (f"（{note}）" if note else "")
        + "。",
        field_id=field_id,
        expected=reading,
        found=typed,
    )


def _as_cell(value: Any) -> Any:
    if value is None:
        return BLANK
    return value


# Formula parts: string literals, quoted sheet or book names, brackets, pipes, the rest.
_FORMULA_PARTS: Final = re.compile(r""""(?:[^"]|"")*"|'(?:[^']|'')*'|\[|\||[^"'\[|]+""")
_OUTSIDE_FUNCTIONS: Final = re.compile(
    r"(?<![\w.])(?:_xlfn\.)?(?:WEBSERVICE|RTD|CALL|REGISTER(?:\.ID)?|EXEC|FILTERXML)\s*\(",
    re.IGNORECASE,
)


def reaches_outside(formula: str) -> bool:
    """Whether a formula reads another workbook (``'[other.xlsx]Sheet1'!A1``, ``[1]Sheet1!A1``
    as Excel stores it, ``'C:\\d\\[b.xlsx]S'!A1``), another program (DDE: ``cmd|' /C x'!A0``)
    or the network (``WEBSERVICE``, ``RTD`` …). String literals do not count; a structured
    reference (``Table1[Amount]``) is not external."""
    previous = ""
    for match in _FORMULA_PARTS.finditer(formula):
        part = match.group()
        if part.startswith('"'):
            previous = part
            continue
        if part.startswith("'"):
            if "[" in part:
                return True
        elif part == "[":
            if not previous or not (previous[-1].isalnum() or previous[-1] in "_.]"):
                return True
        elif part == "|" or _OUTSIDE_FUNCTIONS.search(part):
            return True
        previous = part
    return False
