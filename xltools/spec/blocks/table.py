"""A ``table`` block: a fixed grid of rows × columns, one field per cell."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Block, Column, TableBlock
from .base import BlockBuilder, _opt_str


class TableBlocks(BlockBuilder):
    """``kind: table``."""

    def table_block(self, raw: Mapping[str, Any]) -> Block:
        table_id = self.block_id(raw, "表格")
        title = _opt_str(raw.get("title"))
        columns = self._columns(raw.get("columns"), raw)
        rows = [r for r in raw.get("rows") or [] if isinstance(r, dict) and "key" in r]
        col_keys = [str(c["key"]) for c in columns]
        row_keys = [str(r["key"]) for r in rows]
        for clash in sorted(set(col_keys) & set(row_keys)):
            self.problem("spec-duplicate-id", f"表 {table_id} 的行与列都用了 key “{clash}”", raw)
        cells: dict[tuple[str, str], str] = {}
        for row in rows:
            overrides = row.get("cells") or {}
            for column in columns:
                ckey = str(column["key"])
                only = column.get("only")
                override = overrides.get(ckey, {})
                if override is None or (
                    only is not None and str(row["key"]) not in only and not override
                ):
                    continue
                definition = {k: v for k, v in column.items() if k not in ("key", "only")}
                definition.pop("label", None)
                if isinstance(override, dict):
                    definition.update(override)
                else:
                    definition["value"] = override
                field_id = str(definition.pop("id", f"{table_id}_{row['key']}_{ckey}"))
                local_names = {k: f"{table_id}_{row['key']}_{k}" for k in col_keys}
                local_names.update({k: f"{table_id}_{k}_{ckey}" for k in row_keys})
                path = tuple(
                    p
                    for p in (
                        title,
                        str(row.get("label", row["key"])),
                        str(column.get("label", ckey)),
                    )
                    if p
                )
                field = self.make_field(definition, field_id, path, local_names, override or row)
                field.label = f"{row.get('label', row['key'])}·{column.get('label', ckey)}"
                self.add_field(field, override or row)
                cells[(str(row["key"]), ckey)] = field_id
        return TableBlock(
            id=table_id,
            columns=[Column(str(c["key"]), str(c.get("label", c["key"]))) for c in columns],
            rows=[Column(str(r["key"]), str(r.get("label", r["key"]))) for r in rows],
            cells=cells,
            title=title,
            corner=_opt_str(raw.get("corner")),
        )
