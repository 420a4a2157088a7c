"""An xlsx package as ElementTree parts, written back with the namespace prefixes Excel uses."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
XR = "http://schemas.microsoft.com/office/spreadsheetml/2014/revision"
X15AC = "http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"
# what the prefixes of mc:Ignorable stand for in Excel's files (each must be declared)
IGNORABLE = {
    "x14ac": X14AC,
    "xr": XR,
    "xr2": "http://schemas.microsoft.com/office/spreadsheetml/2015/revision2",
    "xr3": "http://schemas.microsoft.com/office/spreadsheetml/2016/revision3",
    "xr6": "http://schemas.microsoft.com/office/spreadsheetml/2016/revision6",
    "xr10": "http://schemas.microsoft.com/office/spreadsheetml/2016/revision10",
    "x15": "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main",
}
XML_NS = "http://www.w3.org/XML/1998/namespace"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
X14_DV_URI = "{CCE6A557-97BC-4b89-ADB6-D3C6CA3A1D95}"

# prefixes Excel uses; the main namespace is the default one unless a variant says otherwise
PREFIXES = {
    PKG_REL: "",
    CT: "",
    MAIN: "",
    STRICT_MAIN: "",
    REL: "r",
    STRICT_REL: "r",
    MC: "mc",
    X14AC: "x14ac",
    X14: "x14",
    XM: "xm",
    XR: "xr",
    X15AC: "x15ac",
    XML_NS: "xml",
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties": "",
    "http://schemas.openxmlformats.org/package/2006/metadata/core-properties": "cp",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
    **{ns: p for p, ns in IGNORABLE.items()},
}


# --------------------------------------------------------------------------------------------


def q(local: str, ns: str = MAIN) -> str:
    """ElementTree's name of ``local`` in ``ns``."""
    return f"{{{ns}}}{local}"


def ns_of(element: ElementTree.Element) -> str:
    return element.tag[1:].split("}")[0] if element.tag.startswith("{") else ""


def children(element: ElementTree.Element, local: str) -> list[ElementTree.Element]:
    return [k for k in element if k.tag.rpartition("}")[2] == local]


def first_child(element: ElementTree.Element, local: str) -> ElementTree.Element | None:
    found = children(element, local)
    return found[0] if found else None


def workbook_names(workbook: ElementTree.Element) -> dict[str, str]:
    return {
        d.get("name", ""): d.text or ""
        for d in workbook.iter()
        if d.tag.rpartition("}")[2] == "definedName"
    }


class Package:
    def __init__(self, parts: dict[str, bytes]) -> None:
        self.parts = parts
        self.trees: dict[str, ElementTree.Element] = {}

    def xml(self, part: str) -> ElementTree.Element:
        if part not in self.trees:
            self.trees[part] = ElementTree.fromstring(self.parts[part])
        return self.trees[part]

    def put(self, part: str, root: ElementTree.Element) -> None:
        self.trees[part] = root

    def rels(self, part: str) -> tuple[str, ElementTree.Element]:
        folder, base = part.rsplit("/", 1) if "/" in part else ("", part)
        name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
        if name not in self.parts:
            self.parts[name] = f'<Relationships xmlns="{PKG_REL}"/>'.encode()
        return name, self.xml(name)

    def workbook(self) -> str:
        _, root = self.rels("")
        rel = next(r for r in root if r.get("Type", "").endswith("/officeDocument"))
        return rel.get("Target", "").lstrip("/")

    def sheets(self) -> list[tuple[str, str]]:
        """(sheet name, part) in workbook order."""
        workbook = self.workbook()
        _, rels = self.rels(workbook)
        targets = {r.get("Id"): r.get("Target", "") for r in rels}
        folder = workbook.rsplit("/", 1)[0]
        found = []
        for sheet in self.xml(workbook).iter():
            if sheet.tag.rpartition("}")[2] != "sheet":
                continue
            rid = next(v for k, v in sheet.attrib.items() if k.endswith("}id"))
            target = targets[rid]
            part = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}"
            found.append((sheet.get("name", ""), part))
        return found

    def names(self, workbook: str) -> dict[str, str]:
        return workbook_names(self.xml(workbook))

    def _add_part(
        self, part: str, content_type: str, rel_type: str, root: ElementTree.Element
    ) -> None:
        self.put(part, root)
        types = self.xml("[Content_Types].xml")
        for old in [o for o in types if o.get("PartName") == "/" + part]:
            types.remove(old)
        ElementTree.SubElement(
            types, q("Override", CT), {"PartName": "/" + part, "ContentType": content_type}
        )
        workbook = self.workbook()
        rels_name, rels = self.rels(workbook)
        for old in [r for r in rels if r.get("Type") == rel_type]:
            rels.remove(old)
        taken = {r.get("Id") for r in rels}
        rid = next(f"rId{n}" for n in range(100, 1000) if f"rId{n}" not in taken)
        folder = workbook.rsplit("/", 1)[0]
        target = part.removeprefix(folder + "/")
        ElementTree.SubElement(
            rels, q("Relationship", PKG_REL), {"Id": rid, "Type": rel_type, "Target": target}
        )

    def shared_strings(self) -> list[str]:
        """The texts of the package's shared string table, in order (none when it has none):
        a filled return keeps the template's table, and its cells point into it."""
        if "xl/sharedStrings.xml" not in self.parts:
            return []
        texts = []
        for si in self.xml("xl/sharedStrings.xml"):
            pieces = []
            for child in si.iter():
                name = child.tag.rpartition("}")[2]
                if name == "rPh":
                    break  # a reading is never part of the text (and comes after it)
                if name == "t":
                    pieces.append(child.text or "")
            texts.append("".join(pieces))
        return texts

    def add_shared_strings(self, strings: list[str]) -> None:
        """Excel's shape: plain ``<si><t>``, every CJK string with its phonetic properties,
        and (as a clerk's bold word makes) some strings in rich runs."""
        root = ElementTree.Element(
            q("sst"), {"count": str(len(strings)), "uniqueCount": str(len(strings))}
        )
        for n, text in enumerate(strings):
            si = ElementTree.SubElement(root, q("si"))
            if n % 5 == 3 and len(text) > 1:
                for piece, bold in ((text[:1], True), (text[1:], False)):
                    run = ElementTree.SubElement(si, q("r"))
                    props = ElementTree.SubElement(run, q("rPr"))
                    if bold:
                        ElementTree.SubElement(props, q("b"))
                    ElementTree.SubElement(props, q("sz"), {"val": "11"})
                    ElementTree.SubElement(props, q("rFont"), {"val": "宋体"})
                    _text(ElementTree.SubElement(run, q("t")), piece)
            else:
                _text(ElementTree.SubElement(si, q("t")), text)
            if n % 7 == 5 and text:  # a reading (furigana) kept with the text, never shown
                ruby = ElementTree.SubElement(si, q("rPh"), {"sb": "0", "eb": "1"})
                ElementTree.SubElement(ruby, q("t")).text = "ピン"
            if re.search(r"[\u4e00-\u9fff]", text):
                ElementTree.SubElement(si, q("phoneticPr"), {"fontId": "1", "type": "noConversion"})
        self._add_part(
            "xl/sharedStrings.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
            REL + "/sharedStrings",
            root,
        )

    def add_calc_chain(self, sheets: list[tuple[str, str]]) -> None:
        root = ElementTree.Element(q("calcChain"))
        for order, (_, part) in enumerate(sheets, start=1):
            first = True
            for c in self.xml(part).iter():
                if (
                    c.tag.rpartition("}")[2] == "c"
                    and first_child(c, "f") is not None
                    and c.get("r")
                ):
                    attrs = {"r": c.get("r", "")}
                    if first:
                        attrs["i"] = str(order)
                        first = False
                    ElementTree.SubElement(root, q("c"), attrs)
        self._add_part(
            "xl/calcChain.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml",
            REL + "/calcChain",
            root,
        )

    def set_application(self, name: str, *, wps: bool) -> None:
        ep = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
        part = "docProps/app.xml"
        root = ElementTree.Element(q("Properties", ep))
        ElementTree.SubElement(root, q("Application", ep)).text = name
        ElementTree.SubElement(root, q("DocSecurity", ep)).text = "0"
        ElementTree.SubElement(root, q("AppVersion", ep)).text = "16.0300" if not wps else "12.0000"
        self.put(part, root)
        if not wps:
            return
        cp = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
        vt = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
        PREFIXES.setdefault(vt, "vt")
        custom = ElementTree.Element(q("Properties", cp))
        for pid, (key, value) in enumerate(
            (
                ("ICV", "0A1B2C3D4E5F60718293A4B5C6D7E8F9"),
                ("KSOProductBuildVer", "2052-11.1.0.11744"),
            ),
            start=2,
        ):
            prop = ElementTree.SubElement(
                custom,
                q("property", cp),
                {"fmtid": "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}", "pid": str(pid), "name": key},
            )
            ElementTree.SubElement(prop, q("lpwstr", vt)).text = value
        self.put("docProps/custom.xml", custom)
        types = self.xml("[Content_Types].xml")
        ElementTree.SubElement(
            types,
            q("Override", CT),
            {
                "PartName": "/docProps/custom.xml",
                "ContentType": "application/vnd.openxmlformats-officedocument.custom-properties+xml",
            },
        )
        _, rels = self.rels("")
        ElementTree.SubElement(
            rels,
            q("Relationship", PKG_REL),
            {
                "Id": "rId90",
                "Type": REL + "/custom-properties",
                "Target": "docProps/custom.xml",
            },
        )

    def to_strict(self) -> None:
        """Excel's "Strict Open XML 电子表格": the purl.oclc.org namespaces for SpreadsheetML and
        relationships (and the relationship types), conformance="strict" on the workbook."""
        for name in {*self.parts, *self.trees}:
            if not name.endswith((".xml", ".rels")):
                continue
            root = self.xml(name)
            for element in root.iter():
                element.tag = element.tag.replace(MAIN, STRICT_MAIN).replace(REL, STRICT_REL)
                for key in list(element.attrib):
                    new = key.replace(REL, STRICT_REL)
                    value = element.attrib.pop(key)
                    if key == "Type" and value.startswith(REL + "/"):
                        value = STRICT_REL + value[len(REL) :]
                        value = value.replace("/extended-properties", "/extendedProperties")
                        value = value.replace("/custom-properties", "/customProperties")
                    element.set(new, value)
        self.xml(self.workbook()).set("conformance", "strict")

    def write(self, target: Path, main_prefix: str = "") -> None:
        prefixes = dict(PREFIXES)
        prefixes[MAIN] = prefixes[STRICT_MAIN] = main_prefix
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            names = list(self.parts) + [n for n in self.trees if n not in self.parts]
            for name in names:
                data = (
                    serialize(self.trees[name], prefixes)
                    if name in self.trees
                    else self.parts[name]
                )
                archive.writestr(name, data)
        target.write_bytes(buffer.getvalue())


def _text(element: ElementTree.Element, text: str) -> None:
    element.text = text
    if text != text.strip() or "\n" in text:
        element.set(q("space", XML_NS), "preserve")


# str.translate escapes in C (saxutils' escape and quoteattr are Python loops)
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)


def serialize(root: ElementTree.Element, prefixes: dict[str, str]) -> bytes:
    """XML with Excel's declarations: every namespace declared once, on the root element,
    under the prefix ``prefixes`` gives it (ElementTree would invent ns0, ns1 …)."""
    used: dict[str, str] = {}
    extra = 0

    def prefix(ns: str) -> str:
        nonlocal extra
        if ns not in used:
            if ns in prefixes:
                used[ns] = prefixes[ns]
            else:
                extra += 1
                used[ns] = f"ns{extra}"
        return used[ns]

    names: dict[str, str] = {}

    def name(tag: str) -> str:
        found = names.get(tag)
        if found is None:
            if tag.startswith("{"):
                ns, local = tag[1:].split("}")
                p = prefix(ns)
                found = f"{p}:{local}" if p else local
            else:
                found = tag
            names[tag] = found
        return found

    out: list[str] = []
    add = out.append

    def write(element: ElementTree.Element) -> None:
        tag = name(element.tag)
        if element.attrib:
            add(f"<{tag}")
            for k, v in element.attrib.items():
                add(f' {name(k)}="{v.translate(_ATTR)}"')
        else:
            add(f"<{tag}")
        if element.text is None and not len(element):
            add("/>")
            return
        add(">")
        if element.text:
            add(element.text.translate(_TEXT))
        for kid in element:
            write(kid)
            if kid.tail:
                add(kid.tail.translate(_TEXT))
        add(f"</{tag}>")

    write(root)
    # the prefixes mc:Ignorable names must be declared even when nothing else uses them
    for p in root.get(q("Ignorable", MC), "").split():
        prefix(IGNORABLE[p])
    declarations = "".join(
        f' xmlns{":" + p if p else ""}="{ns}"' for ns, p in used.items() if ns != XML_NS
    )
    first = out[0]
    out[0] = first + declarations
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' + "".join(out)).encode()
