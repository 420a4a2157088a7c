"""A ``list`` block: repeating rows (preset or free), a range field per column, totals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...expr import parse
from ..model import Block, Column, Field, ListBlock
from ..source import line_of
from .base import BlockBuilder, _opt_str


class ListBlocks(BlockBuilder):
    """``kind: list``."""

    def list_block(self, raw: Mapping[str, Any]) -> Block:
        list_id = self.block_id(raw, "列表")
        title = _opt_str(raw.get("title"))
        columns = self._columns(raw.get("columns"), raw)
        presets = raw.get("rows", 5)
        if isinstance(presets, int):
            presets = [{}] * presets
        rows: list[dict[str, str]] = []
        for n, preset in enumerate(presets, start=1):
            path = tuple(p for p in (title, str(n)) if p)
            row = self._row_fields(f"{list_id}_{n}", columns, preset or {}, path, preset or raw)
            self.row_checks(raw.get("row_checks"), row, f"{list_id}_{n}")
            rows.append(row)
        # One range field per column, so a rule can say SUM(detail_amount).
        for column in columns:
            key = str(column["key"])
            members = tuple(r[key] for r in rows)
            self.add_field(
                Field(id=f"{list_id}_{key}", label=str(column.get("label", key)),
                      path=tuple(p for p in (title, str(column.get("label", key))) if p),
                      type=str(column.get("type", "text")), unit=_opt_str(column.get("unit")),
                      input=False, members=members, sheet=self.sheet, line=line_of(column)),
                column,
            )  # fmt: skip
        totals: dict[str, str] = {}
        total_label = str(raw.get("total_label", "合计"))
        for key in raw.get("totals") or []:
            matching = [c for c in columns if str(c["key"]) == str(key)]
            if not matching:
                self.problem(
                    "spec-unknown-reference",
                    f"列表 {list_id} 的 totals 中没有列 “{key}”",
                    raw,
                    "totals",
                )
                continue
            column = matching[0]
            total = Field(
                id=f"{list_id}_total_{key}",
                label=f"{total_label}·{column.get('label', key)}",
                path=tuple(p for p in (title, total_label, str(column.get("label", key))) if p),
                type=str(column.get("type", "number")),
                unit=_opt_str(column.get("unit")),
                formula=parse(f"SUM({list_id}_{key})"),
                formula_source=f"SUM({list_id}_{key})",
                input=False,
                sheet=self.sheet,
                line=line_of(raw, "totals"),
            )
            self.add_field(total, raw)
            totals[str(key)] = total.id
        return ListBlock(
            id=list_id,
            columns=[Column(str(c["key"]), str(c.get("label", c["key"]))) for c in columns],
            rows=rows,
            totals=totals,
            total_label=total_label,
            title=title,
        )
