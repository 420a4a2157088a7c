"""Read, in one pass, everything the checker compares in a returned .xlsx workbook.

The checker receives workbooks that bureaus return — re-saved by Excel, WPS or LibreOffice,
possibly damaged, possibly tampered with or built to hurt. For each it needs cell values *and*
formulas, the locked flag of every cell, sheet states, defined names, protection flags, data
validations and merged ranges. openpyxl reads all that but needs two full loads (formulas,
then values) — 15 to 25 times slower (``bench/bench_reader.py``); python-calamine is fast but
reads values only. This module reads exactly the zip parts it needs — ``_rels/.rels``, the workbook, its rels, the shared strings, the styles and the
sheets — with the standard library's zipfile and one streaming expat pass per part, keeping
nothing but the results.

This module is the entry point (:func:`read_workbook`, :func:`read_part`) and the
orchestration (:class:`_Reader`); the work is done by

* :mod:`~xltools.xlsx.package` — the zip: opening it, part lookup, size, ratio and bomb
  limits, chunked inflating, naming errors (the safety rules are in its docstring);
* :mod:`~xltools.xlsx.expat` — the guarded expat parser and shared XML helpers;
* :mod:`~xltools.xlsx.parts` — the small parts: rels, workbook, app/core properties, styles,
  shared strings;
* :mod:`~xltools.xlsx.sheet` — the streaming sheet handler;
* :mod:`~xltools.xlsx.formula` — shared-formula translation, reference splitting;
* :mod:`~xltools.xlsx.memory` — parts remembered across returns of one template;
* :mod:`~xltools.xlsx.model` — the results, :class:`WorkbookReadError` and its messages
  (how values are typed, what "locked" means).

What writers do differently (seen in the tests)
-----------------------------------------------
* XlsxWriter (templates): shared strings; an empty-string constant is a shared string ``""``;
  a formula's cached result is written, ``""`` as an untyped empty ``<v></v>`` (read: blank).
* Excel "Strict Open XML": the purl.oclc.org namespaces, and every date as ISO 8601 text
  (``<c t="d"><v>2024-10-17T00:00:00</v>``), read as its serial number;
* Gnumeric 1.12: no workbook structure protection at all, every sheet visible (hidden and very
  hidden states dropped); sheet protection and locked styles kept;
* openpyxl (a script's load and save; ``xltools fill`` edits the package instead and keeps
  the template's shared strings and cached results): inline strings (``t="inlineStr"``); formulas keep **no** cached
  result (``<v/>``: blank) until a spreadsheet program recalculates; merged-away cells dropped.
* LibreOffice 7.4: ``veryHidden`` sheets come back ``hidden``; **workbook structure protection
  is dropped** (``<workbookProtection/>`` without ``lockStructure``) while sheet protection and
  locked styles survive; empty-string constant cells lose their value (blank, or gone when
  unstyled) while a formula's ``""`` result becomes ``t="str"`` with an empty ``<v>`` (read:
  ``""``); defined names lose the quotes around sheet names (``项目支出绩效自评表!$C$5``);
  numeric validation bounds are rewritten (``0.0`` → ``0``); attributes say ``true``/``false``;
  every formula is written in full (no shared formulas); ``cellXfs`` is renumbered, each entry
  with an explicit ``<protection locked="true|false">``; a boolean constant becomes the formula
  ``TRUE()``; numbers keep 15 significant digits.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable, Collection
from hashlib import blake2b
from pathlib import Path
from typing import cast

from .expat import (
    _expat,
    _unescape,  # noqa: F401  (re-exported: tests/test_corpus.py imports it here)
)
from .formula import split_reference, translate_formula
from .limits import DEFAULT_LIMITS, Limits
from .memory import (
    _REMEMBER_MAX_BYTES,
    _REMEMBERED,
    _Handler,
    _remember,
    _Tail,
    _TailEffect,
)
from .model import RawCell, RawSheet, RawWorkbook, WorkbookReadError, _error, _size
from .package import _OTHER_MAIN_PARTS, _load, _open_zip, _other_format, _Package
from .parts import (
    _SHEET_KINDS,
    _SHEET_STATES,
    _AppProperties,
    _CoreProperties,
    _Rels,
    _SharedStrings,
    _simple_strings,
    _Styles,
    _WorkbookPart,
)
from .plain_strings import plain_strings
from .sheet import _CELLS, _CELLS_LIMIT, _Budget, _SheetPart

__all__ = [
    "RawCell",
    "RawSheet",
    "RawWorkbook",
    "WorkbookReadError",
    "read_workbook",
    "split_reference",
    "translate_formula",
]

# --------------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------------


def read_part(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The inflated bytes of one part of the package ``data``, under the same limits as
    :func:`read_workbook` (a part larger than the remembered-part size is refused: this is for
    the small parts a check looks at again, such as a skipped sheet)."""
    archive = _open_zip(data, limits)
    with archive:
        reader = _Reader(archive, limits)
        info = reader.require(name)
        content = reader._small(info)
        if content is None:
            raise _error("read-too-large", f"部件解压后 {_size(info.file_size)}", part=name)
        return content


def read_workbook(
    source: Path | bytes, limits: Limits = DEFAULT_LIMITS, *, skip_sheets: Collection[str] = ()
) -> RawWorkbook:
    """Read what the checker compares in the .xlsx ``source`` (a path or the file's bytes).

    Sheets named in ``skip_sheets`` are listed but not read (``parsed`` False): the checker
    has no use for the 自检 panel, which is as large as the form itself. Their parts still
    pass the package's size and ratio limits.

    Raises :class:`WorkbookReadError` — and nothing else — when the file cannot or must not be
    read: see :mod:`xltools.xlsx.package` and :class:`~xltools.xlsx.limits.Limits`.
    """
    data = _load(source, limits)
    archive = _open_zip(data, limits)
    with archive:
        return _Reader(archive, limits).read(frozenset(skip_sheets))


class _Reader(_Package):
    """Reads the workbook of an open package: plans the parts, parses each (remembering the
    small ones, see :mod:`~xltools.xlsx.memory`) and assembles the :class:`RawWorkbook`."""

    def parse_remembered(
        self, info: zipfile.ZipInfo, kind: str, make: Callable[[], _Handler]
    ) -> _Handler:
        """Parse a small part with a fresh handler from ``make`` — or hand back the handler of
        an earlier parse of the very same bytes under the same limits. The relationships,
        workbook part and styles of every return of a template are byte-identical, and a
        parse is a function of the bytes alone: only the bytes' BLAKE2 digest is computed
        again. The handlers handed back are shared: they are only read after parsing."""
        content = self._small(info)
        if content is None:
            handler = make()
            self.parse(info, handler.start, handler.end, handler.data)
            return handler
        key = (kind, self.limits, blake2b(content, digest_size=20).digest())
        found = _REMEMBERED.get(key)
        if found is not None:
            return cast(_Handler, found)
        handler = make()
        parser = _expat(handler.start, handler.end, handler.data)
        with self._errors_named(info.filename):
            parser.Parse(content, True)
        _remember(key, handler)
        return handler

    def parse_sheet(self, info: zipfile.ZipInfo, handler: _SheetPart) -> None:
        """Parse a worksheet part. What follows its cells — merged ranges, conditional
        formats, data validations: half of a form's bytes, the same in every return of a
        template — is parsed once and remembered; see :class:`_Tail`."""
        content = self._small(info)
        if content is None:
            self.parse(info, handler.start, handler.end, handler.data, handler)
            return
        parser = _expat(handler.start, handler.end, handler.data)
        handler.parser = parser
        with self._errors_named(info.filename):
            tail = _Tail.find(content)
            if tail is None:
                parser.Parse(content, True)
                return
            parser.Parse(content[: tail.split], False)
            if not tail.confirmed_by(handler):
                parser.Parse(content[tail.split :], True)
                return
            key = ("sheet-tail", self.limits, tail.digest())
            effect = _REMEMBERED.get(key)
            if isinstance(effect, _TailEffect):
                effect.apply(handler)
                return
            effect = _TailEffect.record(handler, lambda: parser.Parse(content[tail.split :], True))
            if effect is not None:
                _remember(key, effect)

    def parse_strings(self, info: zipfile.ZipInfo, strings: _SharedStrings) -> None:
        """The shared strings: a small table of plain and rich strings is built by the C
        ElementTree parser (twice as fast as Python callbacks for every ``<si>`` and ``<t>``);
        anything else, or anything it cannot take, goes the streaming way."""
        content = self._small(info)
        if content is None:
            self.parse(info, strings.start, strings.end, strings.data)
            return
        with self._errors_named(info.filename):
            found = plain_strings(content)
            if found is None:
                found = _simple_strings(content)
            if found is None:
                _expat(strings.start, strings.end, strings.data).Parse(content, True)
                return
        if len(found) > strings.max_strings:
            raise _error("read-too-large", f"共享字符串超过 {strings.max_strings:,} 个")
        strings.strings = found

    def _small(self, info: zipfile.ZipInfo) -> bytes | None:
        """The whole inflated content of a part small enough to be read at once (and then
        remembered or parsed in pieces), checked like a stream; None for a larger part, which
        is streamed."""
        # this module's own binding of the limit, read at call time: tests rebind
        # ``reader._REMEMBER_MAX_BYTES`` to switch every fast path off
        if info.file_size > _REMEMBER_MAX_BYTES:
            return None
        self.check_declared([info])
        with self._errors_named(info.filename):
            return b"".join(self._chunks(info))

    def rels(self, part: str, required: bool) -> _Rels:
        folder, base = posixpath.split(part)
        path = posixpath.join(folder, "_rels", f"{base}.rels")
        info = self.info(path) if not required else self.require(path)
        return _Rels() if info is None else self.parse_remembered(info, "rels", _Rels)

    # -- the workbook ----------------------------------------------------------------------

    def read(self, skip_sheets: frozenset[str] = frozenset()) -> RawWorkbook:
        limits = self.limits
        self.check_package()
        names = [info.filename for info in self.zip.infolist()]
        lowered = [name.lower() for name in names]

        # the workbook part: from the package relationships, else where Excel puts it
        workbook_name = "xl/workbook.xml"
        package = self.rels("", required=False) if self.info("_rels/.rels") else _Rels()
        documents = package.of_type("/officeDocument")
        if documents:
            workbook_name = self.target("", documents[0][1])
        if self.info(workbook_name) is None or workbook_name.lower() in _OTHER_MAIN_PARTS:
            # Another format in a zip is a wrong attachment, not a damaged workbook: say which
            # (a message about a "missing part" sent clerks looking for damage).
            other = _other_format(lowered)
            if other:
                raise _error("read-wrong-format", other)
            raise _error("read-missing-part", part=workbook_name)

        wb_rels = self.rels(workbook_name, required=True)
        book = self.parse_remembered(
            self.require(workbook_name), "workbook", lambda: _WorkbookPart(limits)
        )
        if len(book.sheets) > limits.max_sheets:
            raise _error(
                "read-too-large",
                f"工作簿有 {len(book.sheets):,} 个工作表（上限 {limits.max_sheets:,}）",
            )
        if not book.sheets:
            raise _error("read-xml-malformed", "工作簿没有任何工作表", part=workbook_name)

        # plan every part to read and check their declared sizes together, before inflating
        planned: list[tuple[RawSheet, zipfile.ZipInfo]] = []
        seen: set[str] = set()
        for sheet_name, state, rid in book.sheets:
            if not sheet_name or sheet_name.casefold() in seen:  # Excel requires unique names
                raise _error(
                    "read-xml-malformed",
                    f"工作表名称 “{sheet_name[:40]}” 为空或重复",
                    part=workbook_name,
                )
            seen.add(sheet_name.casefold())
            relation = wb_rels.by_id.get(rid)
            if relation is None or relation[2] == "External":
                raise _error(
                    "read-missing-part",
                    f"工作表 “{sheet_name}” 的关系 {rid or '（无）'} 不存在",
                    part=f"{workbook_name} → {rid}",
                )
            kind = next((k for s, k in _SHEET_KINDS.items() if relation[0].endswith(s)), "")
            part = self.target(workbook_name, relation[1])
            info = self.require(part, f"工作表 “{sheet_name}”")
            if state not in _SHEET_STATES:
                raise _error(
                    "read-xml-malformed",
                    f"工作表 “{sheet_name}” 的状态 “{state[:20]}” 无效",
                    part=workbook_name,
                )
            sheet = RawSheet(sheet_name, state, kind=kind or "worksheet", part=info.filename)
            sheet.parsed = sheet_name not in skip_sheets
            planned.append((sheet, info))
        shared = [self.target(workbook_name, t) for _, t in wb_rels.of_type("/sharedStrings")]
        styles = [self.target(workbook_name, t) for _, t in wb_rels.of_type("/styles")]
        sst_info = self.info(shared[0]) if shared else None
        styles_info = self.info(styles[0]) if styles else None
        self.check_declared(
            [i for i in (sst_info, styles_info) if i is not None]
            + [i for sheet, i in planned if sheet.parsed]
        )

        strings = _SharedStrings(limits.max_shared_strings)
        if sst_info is not None:
            self.parse_strings(sst_info, strings)
        style_part = _Styles()
        if styles_info is not None:
            style_part = self.parse_remembered(styles_info, "styles", _Styles)

        if len(_CELLS) > _CELLS_LIMIT:
            _CELLS.clear()
        sheets: list[RawSheet] = []
        budget = _Budget(limits)
        for sheet, info in planned:
            if not sheet.parsed:
                sheets.append(sheet)
                continue
            handler = _SheetPart(sheet, strings.strings, limits.max_cells_per_sheet, _CELLS, budget)
            self.parse_sheet(info, handler)
            handler.finish()
            sheets.append(sheet)

        defined, local = book.scoped_names()
        application = book.app_name
        # Strict Open XML names the relationship "extendedProperties"
        for _, target in package.of_type("/extended-properties") + package.of_type(
            "/extendedProperties"
        ):
            app_info = self.info(self.target("", target))
            if app_info is None:
                continue
            try:
                found = self.parse_remembered(app_info, "app", _AppProperties).application
            except WorkbookReadError as error:
                # a damaged app.xml is no reason to refuse the form (it only names the
                # application); a bomb there still is
                if error.code not in ("read-corrupt-zip", "read-xml-malformed"):
                    raise
                found = ""
            application = found or application
        saved = self.saved_time(package)

        macro_sheets = any(sheet.kind == "macrosheet" for sheet in sheets)
        return RawWorkbook(
            sheets=sheets,
            names=defined,
            structure_locked=book.structure_locked,
            locked_styles=style_part.locked,
            has_macros=macro_sheets
            or any(
                n.endswith("vbaproject.bin") or n.startswith("xl/macrosheets/") for n in lowered
            ),
            external_links=sorted(
                name
                for name, low in zip(names, lowered, strict=True)
                if low.startswith("xl/externallinks/")
                and "/_rels/" not in low
                and not low.endswith("/")
            ),
            local_names=local,
            parts=names,
            application=application,
            saved=saved,
            shared_strings=strings.strings,
        )

    def saved_time(self, package: _Rels) -> str:
        """docProps/core.xml's ``dcterms:modified``; "" when absent or damaged (it only
        dates the file; a bomb there is still refused). Parsed fresh: it differs per file."""
        for _, target in package.of_type("/core-properties"):
            info = self.info(self.target("", target))
            if info is None:
                continue
            handler = _CoreProperties()
            try:
                self.parse(info, handler.start, handler.end, handler.data)
            except WorkbookReadError as error:
                if error.code not in ("read-corrupt-zip", "read-xml-malformed"):
                    raise
                return ""
            return handler.modified
        return ""
