"""A ``fields`` block: labelled single fields, a few to a line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Block, FieldsBlock
from .base import BlockBuilder, _opt_str


class FieldsBlocks(BlockBuilder):
    """``kind: fields``."""

    def fields_block(self, raw: Mapping[str, Any]) -> Block:
        ids: list[str] = []
        for item in raw.get("fields") or []:
            if not isinstance(item, dict) or "id" not in item:
                self.problem("spec-schema", "fields 中的每一项都需要 id", item if item else raw)
                continue
            field_id = str(item["id"])
            label = str(item.get("label", field_id))
            field = self.make_field(item, field_id, (label,), {}, item)
            self.add_field(field, item)
            ids.append(field_id)
        return FieldsBlock(
            fields=ids, columns=int(raw.get("columns", 2)), title=_opt_str(raw.get("title"))
        )
