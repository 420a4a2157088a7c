"""Write the checked copy of a returned workbook: the original, untouched, plus what was found.

``write_checked_copy(source, target, report)`` writes ``target`` as a copy of the xlsx ``source``
that keeps every value, formula, cached formula result, style, validation, protection, defined
name, hidden state, comment and extension of the original, and adds:

* a worksheet ``校验结果`` — first in sheet order and the active tab — with a summary of the
  report and one row per finding (severity colours, frozen header row, autofilter, and a
  hyperlink from each finding to the offending cell);
* a red (error) or yellow (warning) fill on each offending cell, and a note (comment) on it with
  the findings' messages.

Why the ZIP is edited directly
------------------------------
Loading and saving with openpyxl would empty every cached formula result and drop the x14
extensions (and much else). So the package is copied part by part, byte for byte, and only the
parts that must change are edited — by *splicing* the original bytes: every part is parsed (with
defusedxml as a gate, then expat for byte offsets of the elements), and only the few attributes
and elements that need to change are rewritten, so prefixes, namespace declarations,
``mc:Ignorable`` content and everything else we do not understand stay exactly as they were.

Parts changed
-------------
* ``[Content_Types].xml``: overrides for the new parts (and a ``vml`` default when needed);
* the workbook part (``xl/workbook.xml``): the new ``<sheet>`` first in ``<sheets>``,
  ``activeTab="0"`` (and ``firstSheet="0"``) on every ``<workbookView>``, and every
  ``localSheetId`` shifted by one, since sheet-local names index the sheet order;
* the workbook's rels: a relationship to the new sheet;
* ``xl/styles.xml``: fonts, fills, borders and cellXfs APPENDED (counts updated), none changed;
* each sheet holding a highlighted cell: the ``s=`` attribute of those cells (cells and rows are
  inserted, in order, when absent; ``<dimension>`` and row ``spans`` widened if needed) and a
  ``<legacyDrawing>`` element for the notes; its rels part (created or extended);
* any sheet whose view was ``tabSelected``: that attribute is removed — otherwise Excel would open
  the workbook with two sheets *grouped*, and an edit would go to both.

Parts added: the report sheet, and per annotated sheet a comments part and its VML drawing.

Limitations
-----------
* A sheet that already has comments or a legacy VML drawing (a ``<legacyDrawing>`` element or a
  comments relationship) is highlighted but gets no notes from us: merging our notes into the
  existing comments/VML parts risks breaking them. The findings are all on ``校验结果`` anyway.
* Findings on a sheet that is not a worksheet of the workbook, or whose cell is not a single A1
  reference, are listed but neither highlighted nor linked; links to hidden sheets are omitted.
* ``docProps/app.xml`` (the cached list of sheet titles) is not updated; Excel and LibreOffice
  rebuild it on save and do not rely on it.
* Only UTF-8 transitional OOXML parts are supported (what Excel, WPS, LibreOffice and the Python
  writers produce); anything else raises :class:`ValueError`, as does a package without
  ``xl/styles.xml``.
"""

from __future__ import annotations

import math
import os
import posixpath
import re
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote
from xml.parsers import expat

import defusedxml.ElementTree as DefusedET

from ..atomic import atomic_path
from ..cellref import column_letter, column_number
from .report import SEVERITY_LABEL, Finding, Report

__all__ = [
    "CHECK_SHEET",
    "HIGHLIGHT_FILL",
    "ROW_FILL",
    "StrictPackage",
    "write_checked_copy",
]

#: Name of the validation sheet (made unique when the workbook already has one).
CHECK_SHEET = "校验结果"
#: Solid fills (ARGB) of offending cells in their own sheets. The templates' input cells are
#: light yellow (FFF2CC), so a warning is a full yellow.
HIGHLIGHT_FILL = {"error": "FFFF7C80", "warning": "FFFFFF00"}
#: Fills of the finding rows on the validation sheet.
ROW_FILL = {"error": "FFFFC7CE", "warning": "FFFFEB9C", "info": "FFEDEDED"}
PASS_FILL = "FFC6EFCE"
HEADER_FILL = "FFD9E1F2"
LINK_COLOR = "FF0563C1"

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_TYPE = REL_NS  # relationship types are REL_NS + "/worksheet", …

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"

# CT_Worksheet children up to and including <drawing>: <legacyDrawing> goes right after the last
# of these that is present (and so before legacyDrawingHF, drawingHF, picture, oleObjects,
# controls — often wrapped in mc:AlternateContent —, webPublishItems, tableParts, extLst).
_BEFORE_LEGACY_DRAWING_NAMES = """
sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection
protectedRanges scenarios autoFilter sortState dataConsolidate customSheetViews mergeCells phoneticPr
conditionalFormatting dataValidations hyperlinks printOptions pageMargins pageSetup headerFooter rowBreaks
colBreaks customProperties cellWatches ignoredErrors smartTags drawing
"""
_BEFORE_LEGACY_DRAWING = frozenset(_BEFORE_LEGACY_DRAWING_NAMES.split())
_CELL_RE = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_RANGE_RE = re.compile(r"^\$?[A-Za-z]{1,3}\$?[0-9]{1,7}(:\$?[A-Za-z]{1,3}\$?[0-9]{1,7})?$")
_ILLEGAL_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EXCEL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_MAX_CELL_TEXT = 32767
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


# ---------------------------------------------------------------------------------------------
# Text


def _clean(text: object) -> str:
    """Report text as cell text: illegal XML 1.0 characters stripped, Excel's ``_xHHHH_`` escape
    neutralised (so ``_x0041_`` stays literal), cut to what a cell can hold."""
    value = _ILLEGAL_XML.sub("", str(text))
    if len(value) > _MAX_CELL_TEXT:
        value = value[: _MAX_CELL_TEXT - 1] + "…"
    return _EXCEL_ESCAPE.sub(r"_x005F_\1", value)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: object) -> str:
    value = _ILLEGAL_XML.sub("", str(text))
    return (
        _esc(value)
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _lines(text: str, width: float) -> int:
    per_line = max(1, int(width) - 1)
    return sum(max(1, math.ceil(_width(part) / per_line)) for part in text.split("\n"))


# ---------------------------------------------------------------------------------------------
# Cell references


def _parse_cell(ref: str) -> tuple[int, int] | None:
    """``"C5"`` → ``(5, 3)`` (row, column), or ``None`` when not a single valid cell."""
    match = _CELL_RE.match(ref.strip())
    if not match:
        return None
    row, col = int(match.group(2)), column_number(match.group(1))
    if not (1 <= row <= 1_048_576 and 1 <= col <= 16_384):
        return None
    return row, col


def _ref(row: int, col: int) -> str:
    return f"{column_letter(col - 1)}{row}"


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------------
# XML with byte offsets


@dataclass
class _Node:
    ns: str
    name: str
    prefix: str
    attrs: dict[str, str]  # "local" or "{uri}local"
    start: int  # offset of "<"
    head_end: int  # offset just after the start tag's ">"
    close_start: int = 0  # offset of "</", or head_end for an empty element
    end: int = 0  # offset just after the element
    children: list[_Node] = field(default_factory=list)

    def kids(self, name: str, ns: str = MAIN_NS) -> Iterator[_Node]:
        return (c for c in self.children if c.name == name and c.ns == ns)

    def kid(self, name: str, ns: str = MAIN_NS) -> _Node | None:
        return next(self.kids(name, ns), None)

    def qname(self, local: str) -> str:
        return f"{self.prefix}:{local}" if self.prefix else local


@dataclass
class _Doc:
    data: bytes
    root: _Node
    ns_decls: dict[str, str]  # prefix ("" = default) → namespace uri, declared on the root

    def head(self, node: _Node) -> str:
        return self.data[node.start : node.head_end].decode("utf-8")

    def raw(self, node: _Node) -> str:
        return self.data[node.start : node.end].decode("utf-8")

    def rel_attr(self, local: str = "id") -> str:
        """The ``r:id`` attribute usable on a new element, with a declaration if needed
        (openpyxl, for one, writes worksheets without ``xmlns:r``)."""
        prefix = next((p for p, uri in self.ns_decls.items() if p and uri == REL_NS), "")
        if prefix:
            return f"{prefix}:{local}"
        prefix = "r" if "r" not in self.ns_decls else "xltools_r"
        return f'xmlns:{prefix}="{REL_NS}" {prefix}:{local}'


def _require_utf8(data: bytes, part: str) -> None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:4] in (b"\x00<\x00?", b"<\x00?\x00"):
        raise ValueError(f"{part}: only UTF-8 XML parts are supported")
    match = re.match(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*encoding=[\"']([^\"']+)[\"']", data)
    if match and match.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise ValueError(f"{part}: only UTF-8 XML parts are supported")


_TAG_RE = re.compile(rb"""<(?:[^"'>]|"[^"]*"|'[^']*')*>""")


def _tag_end(data: bytes, start: int) -> int:
    """Offset just after the ``>`` closing the tag that starts at ``start`` (quotes honoured)."""
    match = _TAG_RE.match(data, start)
    if match is None:
        raise ValueError("unterminated tag")
    return match.end()


def _forbidden(*_: object) -> None:
    raise ValueError("DTDs and entity declarations are not allowed in xlsx parts")


def _parse(data: bytes, part: str) -> _Doc:
    """Parse an XML part into a tree of element offsets.

    defusedxml parses it first, as a gate (no DTD, no entities, no external references);
    expat, with the same prohibitions, then reports where each element lies in the bytes.
    """
    _require_utf8(data, part)
    try:
        DefusedET.fromstring(data, forbid_dtd=True)
    except Exception as error:  # ParseError, DTDForbidden, EntitiesForbidden …
        raise ValueError(f"{part}: not well-formed or unsafe XML: {error}") from error
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.namespace_prefixes = True
    parser.StartDoctypeDeclHandler = _forbidden
    parser.EntityDeclHandler = _forbidden
    parser.ExternalEntityRefHandler = _forbidden  # type: ignore[assignment]
    stack: list[_Node] = []
    top: list[_Node] = []
    decls: dict[str, str] = {}

    def split(name: str) -> tuple[str, str, str]:
        bits = name.split(" ")
        if len(bits) == 3:
            return bits[0], bits[1], bits[2]
        if len(bits) == 2:
            return bits[0], bits[1], ""
        return "", bits[0], ""

    def on_ns(prefix: str | None, uri: str) -> None:
        if not stack:
            decls[prefix or ""] = uri

    def on_start(name: str, attributes: dict[str, str]) -> None:
        start = parser.CurrentByteIndex
        ns, local, prefix = split(name)
        attrs = {}
        for key, value in attributes.items():
            a_ns, a_local, _ = split(key)
            attrs[f"{{{a_ns}}}{a_local}" if a_ns else a_local] = value
        node = _Node(ns, local, prefix, attrs, start, _tag_end(data, start))
        (stack[-1].children if stack else top).append(node)
        stack.append(node)

    def on_end(_: str) -> None:
        node = stack.pop()
        if data[node.head_end - 2 : node.head_end] == b"/>":
            node.close_start = node.end = node.head_end
        else:
            node.close_start = parser.CurrentByteIndex
            node.end = _tag_end(data, node.close_start)

    parser.StartNamespaceDeclHandler = on_ns
    parser.StartElementHandler = on_start
    parser.EndElementHandler = on_end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise ValueError(f"{part}: not well-formed XML: {error}") from error
    return _Doc(data, top[0], decls)


_ATTR_RE = re.compile(r"""\s+([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')""")


def _set_attrs(head: str, changes: dict[str, str | None]) -> str:
    """Set (or, with ``None``, remove) attributes in a start tag, leaving the rest as it was."""
    name = re.match(r"<[^\s/>]+", head)
    assert name is not None
    pos, out, done = name.end(), [head[: name.end()]], set()
    for match in _ATTR_RE.finditer(head, pos):
        if match.start() != pos:
            break
        key = match.group(1)
        if key in changes:
            done.add(key)
            value = changes[key]
            if value is not None:
                out.append(f'{head[match.start() : match.start(2)]}"{_attr(value)}"')
        else:
            out.append(match.group(0))
        pos = match.end()
    tail = head[pos:]
    for key, value in changes.items():
        if key not in done and value is not None:
            out.append(f' {key}="{_attr(value)}"')
    out.append(tail)
    return "".join(out)


class _Editor:
    """Non-overlapping replacements of byte ranges, applied in one pass."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.edits: list[tuple[int, int, int, bytes]] = []

    def replace(self, start: int, end: int, text: str) -> None:
        self.edits.append((start, end, len(self.edits), text.encode("utf-8")))

    def insert(self, pos: int, text: str) -> None:
        self.replace(pos, pos, text)

    def set_attrs(self, doc: _Doc, node: _Node, changes: dict[str, str | None]) -> None:
        head = doc.head(node)
        new = _set_attrs(head, changes)
        if new != head:
            self.replace(node.start, node.head_end, new)

    def append_children(self, doc: _Doc, node: _Node, payload: str, **attrs: str) -> None:
        """Add ``payload`` as the last children of ``node`` (and set attributes on it)."""
        head = _set_attrs(doc.head(node), dict(attrs)) if attrs else doc.head(node)
        if node.close_start == node.head_end and head.endswith("/>"):  # <x …/>
            closing = doc.head(node)[1:].split(None, 1)[0].rstrip("/>")
            self.replace(node.start, node.end, f"{head[:-2].rstrip()}>{payload}</{closing}>")
            return
        if attrs:
            self.replace(node.start, node.head_end, head)
        self.insert(node.close_start, payload)

    def result(self) -> bytes:
        if not self.edits:
            return self.data
        out, pos = [], 0
        for start, end, _, text in sorted(self.edits, key=lambda e: (e[0], e[2])):
            if start < pos:
                raise AssertionError("overlapping edits")
            out.append(self.data[pos:start])
            out.append(text)
            pos = end
        out.append(self.data[pos:])
        return b"".join(out)


# ---------------------------------------------------------------------------------------------
# Package


@dataclass(frozen=True)
class _Rel:
    id: str
    type: str
    target: str  # resolved part name, or the raw target for external ones
    external: bool


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source_part: str, target: str) -> str:
    target = unquote(target)
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def _relative(source_part: str, target_part: str) -> str:
    return posixpath.relpath(target_part, posixpath.dirname(source_part) or ".")


class _Package:
    def __init__(self, parts: dict[str, bytes]) -> None:
        self.parts = parts
        self.lower = {name.lower() for name in parts}
        self.changed: dict[str, bytes] = {}
        self.added: dict[str, bytes] = {}

    def get(self, name: str) -> bytes:
        for source in (self.changed, self.added, self.parts):
            if name in source:
                return source[name]
        raise KeyError(name)

    def exists(self, name: str) -> bool:
        return name in self.parts or name in self.added

    def has(self, name: str) -> bool:
        """Whether the name is taken (part names are case-insensitive in OPC)."""
        return name.lower() in self.lower

    def put(self, name: str, data: bytes) -> None:
        if name in self.parts:
            if data != self.parts[name]:
                self.changed[name] = data
        else:
            self.added[name] = data
            self.lower.add(name.lower())

    def unique(self, pattern: str, first: str = "1") -> str:
        """The first free part name ``pattern.format(n)`` for n = ``first``, 2, 3 …"""
        for n in [first, *map(str, range(2, 100_000))]:
            name = pattern.format(n)
            if not self.has(name):
                return name
        raise ValueError("no free part name")  # pragma: no cover

    def rels(self, part: str) -> list[_Rel]:
        path = _rels_path(part)
        if not self.exists(path):
            return []
        doc = _parse(self.get(path), path)
        found = []
        for node in doc.root.kids("Relationship", PKG_REL_NS):
            external = node.attrs.get("TargetMode", "") == "External"
            target = node.attrs.get("Target", "")
            found.append(
                _Rel(
                    node.attrs.get("Id", ""),
                    node.attrs.get("Type", ""),
                    target if external else _resolve(part, target),
                    external,
                )
            )
        return found

    def add_rels(self, part: str, new: list[tuple[str, str]]) -> list[str]:
        """Add relationships (type, target part) from ``part``; returns their new ids."""
        path = _rels_path(part)
        taken = {rel.id for rel in self.rels(part)}
        ids, xml = [], []
        number = 1
        for rel_type, target in new:
            while f"rId{number}" in taken:
                number += 1
            rid = f"rId{number}"
            taken.add(rid)
            ids.append(rid)
            xml.append(
                f'<Relationship Id="{rid}" Type="{_attr(rel_type)}" '
                f'Target="{_attr(_relative(part, target))}"/>'
            )
        if self.exists(path):
            doc = _parse(self.get(path), path)
            editor = _Editor(doc.data)
            payload = "".join(
                x.replace("<Relationship ", f"<{doc.root.qname('Relationship')} ") for x in xml
            )
            editor.append_children(doc, doc.root, payload)
            self.put(path, editor.result())
        else:
            body = f'{_XML_DECL}<Relationships xmlns="{PKG_REL_NS}">{"".join(xml)}</Relationships>'
            self.put(path, body.encode("utf-8"))
        return ids


class _ContentTypes:
    PART = "[Content_Types].xml"

    def __init__(self, package: _Package) -> None:
        if self.PART not in package.parts:
            raise ValueError("not an xlsx package: no [Content_Types].xml")
        self.package = package
        self.doc = _parse(package.parts[self.PART], self.PART)
        self.defaults = {
            n.attrs.get("Extension", "").lower(): n.attrs.get("ContentType", "")
            for n in self.doc.root.kids("Default", CT_NS)
        }
        self.overrides = {
            n.attrs.get("PartName", "").lower(): n.attrs.get("ContentType", "")
            for n in self.doc.root.kids("Override", CT_NS)
        }
        self.new: list[str] = []

    def ensure(self, part: str, content_type: str) -> None:
        key = "/" + part.lower()
        if key in self.overrides:
            return
        extension = posixpath.splitext(part)[1].lstrip(".").lower()
        if self.defaults.get(extension) == content_type:
            return
        if extension == "vml" and extension not in self.defaults:
            self.defaults[extension] = content_type
            tag = self.doc.root.qname("Default")
            self.new.append(f'<{tag} Extension="vml" ContentType="{content_type}"/>')
            return
        self.overrides[key] = content_type
        tag = self.doc.root.qname("Override")
        self.new.append(f'<{tag} PartName="/{_attr(part)}" ContentType="{content_type}"/>')

    def save(self) -> None:
        if not self.new:
            return
        editor = _Editor(self.doc.data)
        # Defaults first, as writers put them (the schema allows any order).
        payload = "".join(sorted(self.new, key=lambda x: "Override" in x))
        editor.append_children(self.doc, self.doc.root, payload)
        self.package.put(self.PART, editor.result())


# ---------------------------------------------------------------------------------------------
# Styles


class _Styles:
    CONTAINERS = {"fonts": "font", "fills": "fill", "borders": "border", "cellXfs": "xf"}

    def __init__(self, part: str, data: bytes) -> None:
        self.part = part
        self.doc = _parse(data, part)
        root = self.doc.root
        self.nodes: dict[str, _Node] = {}
        self.existing: dict[str, list[_Node]] = {}
        for container, item in self.CONTAINERS.items():
            node = root.kid(container)
            if node is None:
                raise ValueError(f"{part}: no <{container}>")
            self.nodes[container] = node
            self.existing[container] = list(node.kids(item))
        self.added: dict[str, list[str]] = {name: [] for name in self.CONTAINERS}
        self.cache: dict[tuple[str, str], int] = {}
        style_xfs = root.kid("cellStyleXfs")
        self.xf_id = ' xfId="0"' if style_xfs is not None and any(style_xfs.kids("xf")) else ""
        self.base_font = self._base_font()

    def _base_font(self) -> str:
        fonts = self.existing["fonts"]
        values: dict[str, str] = {}
        if fonts:
            for child in fonts[0].children:
                if child.name in ("sz", "name", "family", "charset", "scheme"):
                    values[child.name] = child.attrs.get("val", "")
        values.setdefault("sz", "11")
        values.setdefault("name", "Calibri")
        q = self.doc.root.qname
        return "".join(
            f'<{q(key)} val="{_attr(values[key])}"/>'
            for key in ("sz", "name", "family", "charset", "scheme")
            if key in values
        )

    def _add(self, container: str, xml: str) -> int:
        key = (container, xml)
        if key not in self.cache:
            self.cache[key] = len(self.existing[container]) + len(self.added[container])
            self.added[container].append(xml)
        return self.cache[key]

    def font(self, *, bold: bool = False, size: str = "", link: bool = False) -> int:
        q = self.doc.root.qname
        base = self.base_font
        if size:
            base = re.sub(r'(<(?:\w+:)?sz val=")[^"]*"', lambda m: f'{m.group(1)}{size}"', base)
        parts = [f"<{q('b')}/>" if bold else "", f"<{q('u')}/>" if link else ""]
        if link:
            # Colour goes after <sz> (the order Excel writes; CT_Font allows any order).
            base = re.sub(r"(<(?:\w+:)?sz [^>]*/>)", rf'\1<{q("color")} rgb="{LINK_COLOR}"/>', base)
        return self._add("fonts", f"<{q('font')}>{''.join(parts)}{base}</{q('font')}>")

    def fill(self, rgb: str) -> int:
        q = self.doc.root.qname
        return self._add(
            "fills",
            f'<{q("fill")}><{q("patternFill")} patternType="solid"><{q("fgColor")} rgb="{rgb}"/>'
            f'<{q("bgColor")} indexed="64"/></{q("patternFill")}></{q("fill")}>',
        )

    def border(self) -> int:
        q = self.doc.root.qname
        sides = "".join(
            f'<{q(side)} style="thin"><{q("color")} rgb="FFBFBFBF"/></{q(side)}>'
            for side in ("left", "right", "top", "bottom")
        )
        return self._add("borders", f"<{q('border')}>{sides}<{q('diagonal')}/></{q('border')}>")

    def xf(
        self,
        *,
        font: int,
        fill: int = 0,
        border: int = 0,
        horizontal: str = "",
        wrap: bool = False,
    ) -> int:
        q = self.doc.root.qname
        alignment = ' vertical="top"' + (f' horizontal="{horizontal}"' if horizontal else "")
        alignment += ' wrapText="1"' if wrap else ""
        return self._add(
            "cellXfs",
            f'<{q("xf")} numFmtId="0" fontId="{font}" fillId="{fill}" borderId="{border}"'
            f'{self.xf_id} applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1">'
            f"<{q('alignment')}{alignment}/></{q('xf')}>",
        )

    def highlight(self, index: int, rgb: str) -> int:
        """A new cellXfs entry: xf ``index`` as it is (number format, font, border, alignment,
        protection …) but with a solid ``rgb`` fill."""
        existing = self.existing["cellXfs"]
        if not 0 <= index < len(existing):
            index = 0
        fill = self.fill(rgb)
        if not existing:
            return self.xf(font=0, fill=fill)
        node = existing[index]
        raw = self.doc.raw(node)
        head = self.doc.head(node)
        new_head = _set_attrs(head, {"fillId": str(fill), "applyFill": "1"})
        return self._add("cellXfs", new_head + raw[len(head) :])

    def save(self, package: _Package) -> None:
        editor = _Editor(self.doc.data)
        for container, items in self.added.items():
            if items:
                node = self.nodes[container]
                total = len(self.existing[container]) + len(items)
                editor.append_children(self.doc, node, "".join(items), count=str(total))
        package.put(self.part, editor.result())


# ---------------------------------------------------------------------------------------------
# Report sheet


@dataclass
class _SheetInfo:
    name: str
    part: str  # resolved part name ("" when the relationship is missing)
    state: str
    worksheet: bool


@dataclass
class _Link:
    ref: str
    location: str
    display: str


class _ReportSheet:
    COLUMNS = (
        ("级别", 10),
        ("代码", 24),
        ("工作表", 20),
        ("单元格", 10),
        ("字段", 28),
        ("说明", 60),
        ("应为", 18),
        ("实为", 18),
    )

    def __init__(self, styles: _Styles, report: Report, sheets: dict[str, _SheetInfo]) -> None:
        self.report = report
        self.sheets = sheets
        regular = styles.font()
        bold = styles.font(bold=True)
        border = styles.border()
        self.s_title = styles.xf(font=styles.font(bold=True, size="14"))
        self.s_label = styles.xf(font=bold)
        self.s_value = styles.xf(font=regular)
        self.s_pass = styles.xf(font=bold, fill=styles.fill(PASS_FILL))
        self.s_fail = styles.xf(font=bold, fill=styles.fill(ROW_FILL["error"]))
        self.s_header = styles.xf(
            font=bold, fill=styles.fill(HEADER_FILL), border=border, horizontal="center", wrap=True
        )
        link = styles.font(link=True)
        self.s_row: dict[str, int] = {}
        self.s_link: dict[str, int] = {}
        for severity, rgb in ROW_FILL.items():
            fill = styles.fill(rgb)
            self.s_row[severity] = styles.xf(font=regular, fill=fill, border=border, wrap=True)
            self.s_link[severity] = styles.xf(font=link, fill=fill, border=border)

    @staticmethod
    def _cell(ref: str, value: object, style: int) -> str:
        if value is None or value == "":
            return f'<c r="{ref}" s="{style}"/>'
        if isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value):
                return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'
            value = str(value)
        # Report text is data: an inline string is never a formula, so a message starting with
        # "=", "+", "-" or "@" stays the text it is (no t="str"/<f>, no sharedStrings change).
        return (
            f'<c r="{ref}" s="{style}" t="inlineStr">'
            f'<is><t xml:space="preserve">{_esc(_clean(value))}</t></is></c>'
        )

    def xml(self) -> str:
        report = self.report
        template = ""
        if report.template:
            template = f"{report.template} 第 {report.version} 版"
            if report.title:
                template += f"（{report.title}）"
        verdict = "通过" if report.valid else "不通过：请修改后重新提交"
        summary: list[tuple[str, object, int]] = [
            ("文件", report.file, self.s_value),
            ("模板", template or "未识别", self.s_value),
            ("单位", report.bureau_name or report.unit, self.s_value),
            ("重算总分", report.total if report.total is not None else "", self.s_value),
            ("评价等次", report.grade, self.s_value),
            ("错误", report.count("error"), self.s_value),
            ("警告", report.count("warning"), self.s_value),
            ("提示", report.count("info"), self.s_value),
            ("结论", verdict, self.s_pass if report.valid else self.s_fail),
        ]
        title = self._cell("A1", CHECK_SHEET, self.s_title)
        rows = [f'<row r="1" ht="21" customHeight="1">{title}</row>']
        for number, (label, value, style) in enumerate(summary, start=2):
            rows.append(
                f'<row r="{number}">{self._cell(f"A{number}", label, self.s_label)}'
                f"{self._cell(f'B{number}', value, style)}</row>"
            )
        header = len(summary) + 3  # a blank row between the summary and the table
        rows.append(
            f'<row r="{header}">'
            + "".join(
                self._cell(_ref(header, col), heading, self.s_header)
                for col, (heading, _) in enumerate(self.COLUMNS, start=1)
            )
            + "</row>"
        )
        links: list[_Link] = []
        number = header
        for finding in report.sorted_findings():
            number += 1
            rows.append(self._finding_row(number, finding, links))
        last_col = column_letter(len(self.COLUMNS) - 1)
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
            for i, (_, w) in enumerate(self.COLUMNS, start=1)
        )
        hyperlinks = ""
        if links:
            hyperlinks = (
                "<hyperlinks>"
                + "".join(
                    f'<hyperlink ref="{link.ref}" location="{_attr(link.location)}" '
                    f'display="{_attr(link.display)}"/>'
                    for link in links
                )
                + "</hyperlinks>"
            )
        tab = "FF00B050" if report.valid else "FFC00000"
        return (
            f'{_XML_DECL}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            f'<sheetPr><tabColor rgb="{tab}"/><pageSetUpPr fitToPage="1"/></sheetPr>'
            f'<dimension ref="A1:{last_col}{number}"/>'
            f'<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
            f'<pane ySplit="{header}" topLeftCell="A{header + 1}" activePane="bottomLeft" '
            f'state="frozen"/><selection pane="bottomLeft" activeCell="A{header + 1}" '
            f'sqref="A{header + 1}"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
            f"<sheetData>{''.join(rows)}</sheetData>"
            f'<autoFilter ref="A{header}:{last_col}{number}"/>'
            f"{hyperlinks}"
            '<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.6" header="0.3" '
            'footer="0.3"/>'
            # A4 landscape, one page wide: the table is wide and is printed to be worked through.
            '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
            "</worksheet>"
        )

    def _finding_row(self, number: int, finding: Finding, links: list[_Link]) -> str:
        severity = finding.severity if finding.severity in ROW_FILL else "info"
        field_text = finding.label or finding.field
        if finding.label and finding.field:
            field_text = f"{finding.label}（{finding.field}）"
        values = (
            SEVERITY_LABEL.get(severity, severity),
            finding.code,
            finding.sheet,
            finding.cell,
            field_text,
            finding.message,
            finding.expected,
            finding.found,
        )
        style = self.s_row[severity]
        cells = []
        for col, value in enumerate(values, start=1):
            ref = _ref(number, col)
            if col == 4 and self._linkable(finding):
                links.append(
                    _Link(
                        ref, f"{_quote_sheet(finding.sheet)}!{finding.cell.strip()}", finding.cell
                    )
                )
                cells.append(self._cell(ref, value, self.s_link[severity]))
            else:
                cells.append(self._cell(ref, value, style))
        lines = max(
            _lines(_clean(value), width)
            for value, (_, width) in zip(values, self.COLUMNS, strict=True)
        )
        height = f' ht="{15 * lines}" customHeight="1"' if lines > 1 else ""
        return f'<row r="{number}"{height}>{"".join(cells)}</row>'

    def _linkable(self, finding: Finding) -> bool:
        info = self.sheets.get(finding.sheet)
        return (
            info is not None
            and info.worksheet
            and info.state in ("", "visible")
            and bool(_RANGE_RE.match(finding.cell.strip()))
        )


# ---------------------------------------------------------------------------------------------
# Highlights and notes


@dataclass
class _Target:
    row: int
    col: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def severity(self) -> str:
        return "error" if any(f.severity == "error" for f in self.findings) else "warning"


def _targets(report: Report, sheets: dict[str, _SheetInfo]) -> dict[str, dict[str, _Target]]:
    """Per sheet, the cells to highlight (error/warning findings), each with all its findings."""
    found: dict[str, dict[str, _Target]] = {}
    for finding in report.sorted_findings():
        if finding.severity not in ("error", "warning") or not finding.sheet:
            continue
        info = sheets.get(finding.sheet)
        where = _parse_cell(finding.cell)
        if info is None or not info.worksheet or where is None:
            continue
        found.setdefault(finding.sheet, {}).setdefault(_ref(*where), _Target(*where))
    for finding in report.sorted_findings():  # notes list every finding on the cell
        where = _parse_cell(finding.cell)
        if where is not None and _ref(*where) in found.get(finding.sheet, {}):
            found[finding.sheet][_ref(*where)].findings.append(finding)
    return found


def _note_text(target: _Target) -> str:
    lines = []
    for finding in target.findings:
        line = f"【{SEVERITY_LABEL.get(finding.severity, finding.severity)}】{finding.message}"
        details = [f"应为：{finding.expected}" if finding.expected else ""]
        details.append(f"实为：{finding.found}" if finding.found else "")
        if any(details):
            line += "（" + "；".join(d for d in details if d) + "）"
        lines.append(line)
    return "\n".join(lines)


def _comments_xml(targets: list[_Target]) -> str:
    items = []
    for target in targets:
        text = _esc(_clean(_note_text(target)))
        items.append(
            f'<comment ref="{_ref(target.row, target.col)}" authorId="0"><text>'
            '<r><rPr><b/><sz val="9"/></rPr><t xml:space="preserve">xltools 校验：\n</t></r>'
            f'<r><rPr><sz val="9"/></rPr><t xml:space="preserve">{text}</t></r></text></comment>'
        )
    return (
        f'{_XML_DECL}<comments xmlns="{MAIN_NS}"><authors><author>xltools</author></authors>'
        f"<commentList>{''.join(items)}</commentList></comments>"
    )


def _vml_xml(targets: list[_Target], first_block: int) -> str:
    blocks = ",".join(str(first_block + n) for n in range(len(targets) // 1024 + 1))
    shapes = []
    for n, target in enumerate(targets):
        row, col = target.row - 1, target.col - 1
        lines = _lines(_note_text(target), 36) + 1
        top = max(row - 1, 0)
        anchor = f"{col + 1}, 15, {top}, 10, {col + 5}, 15, {top + max(lines, 4)}, 4"
        shapes.append(
            f'<v:shape id="_x0000_s{first_block * 1024 + n + 1}" type="#_x0000_t202" '
            'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:240pt;'
            f'height:{12 * max(lines, 4)}pt;z-index:{n + 1};visibility:hidden" '
            'fillcolor="#ffffe1" o:insetmode="auto">'
            '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
            '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
            '<div style="text-align:left"></div></v:textbox>'
            '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{anchor}</x:Anchor><x:AutoFill>False</x:AutoFill>"
            f"<x:Row>{row}</x:Row><x:Column>{col}</x:Column></x:ClientData></v:shape>"
        )
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{blocks}"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
        'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
        '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
        f"{''.join(shapes)}</xml>"
    )


def _used_vml_blocks(package: _Package) -> int:
    """The highest VML shape-id block (``o:idmap data``) the package already uses."""
    highest = 0
    for name, data in package.parts.items():
        if name.lower().endswith(".vml"):
            for match in re.finditer(rb"idmap[^>]*?data=[\"']([0-9, ]+)[\"']", data):
                numbers = [int(n) for n in match.group(1).split(b",") if n.strip()]
                highest = max([highest, *numbers])
    return highest


def _implied(
    nodes: Iterable[_Node], parse: Callable[[str], int | None]
) -> Iterator[tuple[int, _Node]]:
    """Nodes with their index (row number / column) from ``r=``, or implied: previous + 1."""
    previous = 0
    for node in nodes:
        value = parse(node.attrs.get("r", ""))
        previous = value if value is not None else previous + 1
        yield previous, node


def _row_number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _cell_col(text: str) -> int | None:
    where = _parse_cell(text)
    return where[1] if where else None


def _widen_span(spans: str, first: int, last: int) -> str | None:
    match = re.fullmatch(r"(\d+):(\d+)", spans.strip())
    if not match:
        return None
    low, high = int(match.group(1)), int(match.group(2))
    if low <= first and last <= high:
        return None
    return f"{min(low, first)}:{max(high, last)}"


def _widen_dimension(ref: str, cells: Iterable[tuple[int, int]]) -> str | None:
    bits = ref.split(":")
    corners = [_parse_cell(b) for b in bits]
    if not 1 <= len(bits) <= 2 or any(c is None for c in corners):
        return None
    rows = [c[0] for c in corners if c] + [r for r, _ in cells]
    cols = [c[1] for c in corners if c] + [c for _, c in cells]
    first, last = _ref(min(rows), min(cols)), _ref(max(rows), max(cols))
    new = first if first == last else f"{first}:{last}"
    return None if new == ref.replace("$", "") else new


def _edit_sheet(
    part: str,
    data: bytes,
    styles: _Styles | None,
    targets: dict[str, _Target],
    legacy_rid: str | None,
) -> bytes:
    """Clear ``tabSelected``; give the target cells highlighted styles (inserting missing cells
    and rows); add ``<legacyDrawing>``. Values, formulas and cached results are not touched."""
    doc = _parse(data, part)
    editor = _Editor(data)
    root = doc.root
    views = root.kid("sheetViews")
    for view in views.kids("sheetView") if views is not None else ():
        if view.attrs.get("tabSelected", "0").strip().lower() in ("1", "true"):
            editor.set_attrs(doc, view, {"tabSelected": None})
    if targets and styles is not None:
        _highlight(doc, editor, styles, targets)
    if legacy_rid is not None:
        before = [c for c in root.children if c.ns == MAIN_NS and c.name in _BEFORE_LEGACY_DRAWING]
        if not before:
            raise ValueError(f"{part}: worksheet without <sheetData>")
        editor.insert(
            before[-1].end, f'<{root.qname("legacyDrawing")} {doc.rel_attr()}="{legacy_rid}"/>'
        )
    return editor.result()


def _highlight(doc: _Doc, editor: _Editor, styles: _Styles, targets: dict[str, _Target]) -> None:
    root = doc.root
    sheet_data = root.kid("sheetData")
    if sheet_data is None:
        raise ValueError("worksheet without <sheetData>")
    q = root.qname
    col_styles: list[tuple[int, int, int]] = []
    cols = root.kid("cols")
    for col in cols.kids("col") if cols is not None else ():
        try:
            col_styles.append(
                (int(col.attrs["min"]), int(col.attrs["max"]), int(col.attrs.get("style", "0")))
            )
        except (KeyError, ValueError):
            continue

    def column_style(column: int) -> int:
        return next((s for low, high, s in col_styles if low <= column <= high), 0)

    def style_of(text: str) -> int:
        return int(text) if text.strip().isdigit() else 0

    wanted: dict[int, list[_Target]] = {}
    for target in targets.values():
        wanted.setdefault(target.row, []).append(target)
    rows = list(_implied(sheet_data.kids("row"), _row_number))
    present = {number: node for number, node in rows}
    new_rows: dict[int, list[str]] = {}
    for row_number, row_targets in sorted(wanted.items()):
        row_targets.sort(key=lambda t: t.col)
        row = present.get(row_number)
        row_style = None
        if row is not None and row.attrs.get("customFormat", "0") in ("1", "true"):
            row_style = style_of(row.attrs.get("s", "0"))
        cells = dict(_implied(row.kids("c") if row is not None else (), _cell_col))
        inserted: list[tuple[int, str]] = []
        for target in row_targets:
            rgb = HIGHLIGHT_FILL[target.severity]
            cell = cells.get(target.col)
            if cell is not None:
                new_style = styles.highlight(style_of(cell.attrs.get("s", "0")), rgb)
                editor.set_attrs(doc, cell, {"s": str(new_style)})
                continue
            base = row_style if row_style is not None else column_style(target.col)
            new_style = styles.highlight(base, rgb)
            ref = _ref(row_number, target.col)
            inserted.append((target.col, f'<{q("c")} r="{ref}" s="{new_style}"/>'))
        if row is None:
            new_rows[row_number] = [xml for _, xml in inserted]
            continue
        if not inserted:
            continue
        spans = _widen_span(row.attrs.get("spans", ""), inserted[0][0], inserted[-1][0])
        if spans:
            editor.set_attrs(doc, row, {"spans": spans})
        ordered = sorted(cells.items())
        for column, xml in inserted:
            after = next((node for c, node in ordered if c > column), None)
            if after is not None:
                editor.insert(after.start, xml)
            else:
                editor.append_children(doc, row, xml)
    for row_number, cells_xml in sorted(new_rows.items()):
        after = next((node for number, node in rows if number > row_number), None)
        xml = f'<{q("row")} r="{row_number}">{"".join(cells_xml)}</{q("row")}>'
        if after is not None:
            editor.insert(after.start, xml)
        else:
            editor.append_children(doc, sheet_data, xml)
    dimension = root.kid("dimension")
    if dimension is not None:
        wider = _widen_dimension(
            dimension.attrs.get("ref", ""), [(t.row, t.col) for t in targets.values()]
        )
        if wider:
            editor.set_attrs(doc, dimension, {"ref": wider})


# ---------------------------------------------------------------------------------------------
# Workbook


class StrictPackage(ValueError):
    """A Strict Open XML package: the reader reads it, but the copy's parts are written in
    the transitional namespaces, and one package must not mix the two."""

    def __init__(self) -> None:
        super().__init__(
            "此文件是 “Strict Open XML 电子表格” 格式，本工具不能在这种格式上写出检查后的副本"
            "（检查结果不受影响）。如需副本：在 Excel 中打开此文件，点 文件 → 另存为，保存类型选 "
            "“Excel 工作簿(*.xlsx)”（不要选 “Strict Open XML 电子表格”），保存后再检查。"
        )


def _workbook_part(package: _Package) -> str:
    for rel in package.rels(""):
        if rel.type.endswith("/officeDocument") and not rel.external:
            if rel.type != REL_TYPE + "/officeDocument":
                raise StrictPackage()
            return rel.target
    raise ValueError("not an xlsx package: no officeDocument relationship")


def _unique_sheet_name(existing: Iterable[str]) -> str:
    taken = {name.casefold() for name in existing}
    if CHECK_SHEET.casefold() not in taken:
        return CHECK_SHEET
    n = 2
    while f"{CHECK_SHEET}({n})".casefold() in taken:
        n += 1
    return f"{CHECK_SHEET}({n})"


def _annotate(parts: dict[str, bytes], report: Report) -> _Package:
    package = _Package(parts)
    types = _ContentTypes(package)
    workbook = _workbook_part(package)
    if workbook not in parts:
        raise ValueError(f"not an xlsx package: {workbook} is missing")
    wb = _parse(parts[workbook], workbook)
    if wb.root.ns != MAIN_NS:
        raise StrictPackage()
    rels = {rel.id: rel for rel in package.rels(workbook)}
    sheets_node = wb.root.kid("sheets")
    if sheets_node is None:
        raise ValueError(f"{workbook}: no <sheets>")
    sheet_nodes = list(sheets_node.kids("sheet"))
    sheets: dict[str, _SheetInfo] = {}
    for node in sheet_nodes:
        rel = rels.get(node.attrs.get(f"{{{REL_NS}}}id", ""))
        part = rel.target if rel is not None and not rel.external else ""
        sheets[node.attrs.get("name", "")] = _SheetInfo(
            node.attrs.get("name", ""),
            part if part in parts else "",
            node.attrs.get("state", "visible"),
            rel is not None and rel.type == REL_TYPE + "/worksheet" and part in parts,
        )
    style_part = next((r.target for r in rels.values() if r.type == REL_TYPE + "/styles"), "")
    if not style_part or style_part not in parts:
        raise ValueError("the workbook has no styles part (xl/styles.xml)")
    styles = _Styles(style_part, parts[style_part])

    # 1. The report sheet.
    report_part = package.unique(
        posixpath.join(posixpath.dirname(workbook), "worksheets/sheet_xltools_check{}.xml"), ""
    )
    report_name = _unique_sheet_name(sheets)
    report_xml = _ReportSheet(styles, report, sheets).xml()
    package.put(report_part, report_xml.encode("utf-8"))
    types.ensure(report_part, CT_WORKSHEET)
    (report_rid,) = package.add_rels(workbook, [(REL_TYPE + "/worksheet", report_part)])

    editor = _Editor(wb.data)
    ids = [int(n.attrs["sheetId"]) for n in sheet_nodes if n.attrs.get("sheetId", "").isdigit()]
    sheet_xml = (
        f'<{sheets_node.qname("sheet")} name="{_attr(report_name)}" '
        f'sheetId="{max(ids, default=0) + 1}" {wb.rel_attr()}="{report_rid}"/>'
    )
    if sheet_nodes:
        editor.insert(sheet_nodes[0].start, sheet_xml)
    else:
        editor.append_children(wb, sheets_node, sheet_xml)
    book_views = wb.root.kid("bookViews")
    views = list(book_views.kids("workbookView")) if book_views is not None else []
    for view in views:
        changes: dict[str, str | None] = {"activeTab": "0"}
        if "firstSheet" in view.attrs:
            changes["firstSheet"] = "0"  # so the active (first) tab is in view
        editor.set_attrs(wb, view, changes)
    if not views:
        q = wb.root.qname
        if book_views is None:
            editor.insert(
                sheets_node.start,
                f'<{q("bookViews")}><{q("workbookView")} activeTab="0"/></{q("bookViews")}>',
            )
        else:
            editor.append_children(wb, book_views, f'<{q("workbookView")} activeTab="0"/>')
    names = wb.root.kid("definedNames")
    for name in names.kids("definedName") if names is not None else ():
        local = name.attrs.get("localSheetId", "")
        if local.strip().isdigit():
            editor.set_attrs(wb, name, {"localSheetId": str(int(local) + 1)})
    package.put(workbook, editor.result())

    # 2./3. Highlights and notes; every other sheet loses tabSelected.
    targets = _targets(report, sheets)
    next_block = _used_vml_blocks(package) + 1
    for info in sheets.values():
        if not info.part:
            continue
        sheet_targets = targets.get(info.name, {}) if info.worksheet else {}
        data = parts[info.part]
        if not sheet_targets and b"tabSelected" not in data:
            continue
        legacy_rid = None
        if sheet_targets and _may_add_notes(package, info.part, data):
            ordered = sorted(sheet_targets.values(), key=lambda t: (t.row, t.col))
            comments = package.unique("xl/comments_xltools_{}.xml")
            package.put(comments, _comments_xml(ordered).encode("utf-8"))
            vml = package.unique("xl/drawings/vmlDrawing_xltools_{}.vml")
            package.put(vml, _vml_xml(ordered, next_block).encode("utf-8"))
            next_block += len(ordered) // 1024 + 1
            types.ensure(comments, CT_COMMENTS)
            types.ensure(vml, CT_VML)
            _, legacy_rid = package.add_rels(
                info.part,
                [(REL_TYPE + "/comments", comments), (REL_TYPE + "/vmlDrawing", vml)],
            )
            rels_part = _rels_path(info.part)
            if rels_part in package.added:
                types.ensure(rels_part, CT_RELS)
        package.put(info.part, _edit_sheet(info.part, data, styles, sheet_targets, legacy_rid))

    styles.save(package)
    types.save()
    return package


def _may_add_notes(package: _Package, part: str, data: bytes) -> bool:
    """False when the sheet already has comments or a legacy drawing: we leave those alone."""
    if any(
        rel.type in (REL_TYPE + "/comments", REL_TYPE + "/vmlDrawing") for rel in package.rels(part)
    ):
        return False
    return b"legacyDrawing" not in data or _parse(data, part).root.kid("legacyDrawing") is None


# ---------------------------------------------------------------------------------------------
# Public API


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def write_checked_copy(source: Path, target: Path, report: Report) -> None:
    """Write ``target``: ``source`` unchanged plus the sheet ``校验结果`` (first and active),
    highlighted offending cells and notes on them. ``source`` is only read; ``target`` is
    written atomically (temporary file beside it, then :func:`os.replace`).

    Raises :class:`ValueError` when ``target`` is ``source``, or when ``source`` is not an
    xlsx package this function can edit.
    """
    source, target = Path(source), Path(target)
    if _same_file(source, target):
        raise ValueError(f"refusing to overwrite the checked file itself: {source}")
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if len(set(names)) != len(names):
                raise ValueError(f"{source}: the ZIP holds duplicate part names")
            parts = {info.filename: archive.read(info) for info in infos}
            comment = archive.comment
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        # A part the checker never reads may be damaged (bad CRC, broken deflate stream) or
        # encrypted: that ended in an internal error (zlib.error) instead of "no copy".
        raise ValueError(f"{source}: not an xlsx (ZIP) file: {error}") from error
    package = _annotate(parts, report)

    # atomic_path gives the copy a normal file's mode (0666 less the umask, 0644 usually):
    # mkstemp's 0600 left a copy the colleague it is for could not open.
    with atomic_path(target) as temporary:
        now = time.localtime()[:6]
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as out:
            for info in infos:
                copy = zipfile.ZipInfo(info.filename, info.date_time)
                copy.compress_type = zipfile.ZIP_DEFLATED
                copy.external_attr = info.external_attr
                out.writestr(copy, package.changed.get(info.filename, parts[info.filename]))
            for name, data in package.added.items():
                added = zipfile.ZipInfo(name, now)
                added.compress_type = zipfile.ZIP_DEFLATED
                added.external_attr = 0o644 << 16
                out.writestr(added, data)
            out.comment = comment
