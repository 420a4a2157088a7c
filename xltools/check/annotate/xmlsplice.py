"""XML parts as byte offsets, and edits spliced into the original bytes.

Every part the checked copy changes is parsed here (defusedxml as a gate, then expat for the byte
offsets of the elements); :class:`_Editor` then replaces only the byte ranges that must change, so
prefixes, namespace declarations, ``mc:Ignorable`` content and everything else we do not
understand stay exactly as they were.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

import defusedxml.ElementTree as DefusedET

from .text import _attr

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_TYPE = REL_NS  # relationship types are REL_NS + "/worksheet", …

_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


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
