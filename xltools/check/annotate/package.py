"""The package: its parts (original, changed, added), relationships and content types."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import unquote

from .text import _attr
from .xmlsplice import _XML_DECL, CT_NS, PKG_REL_NS, _Editor, _parse

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"


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
