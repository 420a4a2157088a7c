"""The remembered parts. The relationships, workbook part and styles of every return of a
template are byte-identical, and so is the tail of each worksheet (what follows its cells):
they are parsed once and remembered under the BLAKE2 digest of their bytes
(:data:`_REMEMBERED`); :class:`_Tail` finds and confirms a worksheet's tail and
:class:`_TailEffect` is what parsing it did to the sheet."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import blake2b
from typing import Final, Protocol, TypeVar

from .limits import Limits
from .sheet import _SheetPart

_PROTECTION_TAG: Final = re.compile(
    rb"<sheetProtection(?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*\s*/>"
)


@dataclass(frozen=True)
class _Tail:
    """Where a worksheet part's tail begins: after ``</sheetData>`` and the empty
    ``<sheetProtection …/>`` that follows it (its password hash differs in every copy).

    Found by searching the bytes, then *confirmed by the parser*: the one ``sheetData`` start
    tag expat reported is at ``data_start``, its end tag at ``data_end``, and the protection
    tag, if any, right after it. The parser's state at ``split`` is then the state it had at
    ``data_start`` — a function of the bytes before it — and the handler has no element open.
    So the tail's effect (merged ranges, validations, protection, each a function of those
    bytes and the tail's bytes) can be remembered under the digest of both.
    """

    data_start: int
    data_end: int
    protection: int  # offset of <sheetProtection, or -1
    split: int
    prefix: bytes
    rest: bytes

    @staticmethod
    def find(content: bytes) -> _Tail | None:
        data_start = content.find(b"<sheetData")
        data_end = content.find(b"</sheetData>", data_start)
        if data_start < 0 or data_end < 0:
            return None
        split = data_end + len(b"</sheetData>")
        protection = -1
        tag = _PROTECTION_TAG.match(content, split)
        if tag is not None:
            protection, split = split, tag.end()
        prefix = content[:data_start]
        return _Tail(data_start, data_end, protection, split, prefix, content[split:])

    def confirmed_by(self, handler: _SheetPart) -> bool:
        return (
            handler.data_starts == 1
            and handler.data_start_at == self.data_start
            and handler.data_end_at == self.data_end
            and handler.protection_at == self.protection
            and handler.protections == int(self.protection >= 0)
            and handler.clean()
        )

    def digest(self) -> bytes:
        hashed = blake2b(digest_size=20)
        hashed.update(len(self.prefix).to_bytes(8, "little"))
        hashed.update(self.prefix)
        hashed.update(self.rest)
        return hashed.digest()


@dataclass(frozen=True)
class _TailEffect:
    """What parsing a worksheet's tail did to the sheet."""

    merged: tuple[str, ...]
    validations: tuple[tuple[str, str, str], ...]
    ranges: int
    protected: bool | None  # the last protection tag's setting, None when it has none

    @staticmethod
    def record(handler: _SheetPart, parse_tail: Callable[[], None]) -> _TailEffect | None:
        """Parse the tail with ``handler`` and say what it did; None when the tail also
        touched cells (a file no application writes): then it is not remembered."""
        sheet = handler.sheet
        before = handler.tail_state()
        merged, validations = len(sheet.merged), len(sheet.validations)
        ranges, protections = handler.ranges, handler.protections
        parse_tail()
        if handler.tail_state() != before:
            return None
        return _TailEffect(
            tuple(sheet.merged[merged:]),
            tuple(sheet.validations[validations:]),
            handler.ranges - ranges,
            sheet.protected if handler.protections > protections else None,
        )

    def apply(self, handler: _SheetPart) -> None:
        handler._count_ranges(self.ranges)
        handler.sheet.merged.extend(self.merged)
        handler.sheet.validations.extend(self.validations)
        if self.protected is not None:
            handler.sheet.protected = self.protected


class _PartHandler(Protocol):
    def start(self, name: str, attrs: dict[str, str]) -> None: ...
    def end(self, name: str) -> None: ...

    @property
    def data(self) -> Callable[[str], None] | None: ...


_Handler = TypeVar("_Handler", bound=_PartHandler)

#: (read through xltools.xlsx.reader's binding, by ``_Reader._small``)
_REMEMBER_MAX_BYTES: Final = 1 << 20  # parts up to this size are read whole and remembered
_REMEMBER_PARTS: Final = 256  # a few parts per template: forgotten all at once past this
_REMEMBERED: dict[tuple[str, Limits, bytes], object] = {}


def _remember(key: tuple[str, Limits, bytes], value: object) -> None:
    if len(_REMEMBERED) >= _REMEMBER_PARTS:
        _REMEMBERED.clear()
    _REMEMBERED[key] = value
