"""A ``note`` block: a line of text on the sheet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Block, NoteBlock
from .base import BlockBuilder


class NoteBlocks(BlockBuilder):
    """``kind: note``."""

    def note_block(self, raw: Mapping[str, Any]) -> Block:
        return NoteBlock(text=str(raw.get("text", "")))
