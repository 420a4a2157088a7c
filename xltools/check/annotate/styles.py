"""The styles the checked copy adds to ``xl/styles.xml``: fonts, fills, borders and cellXfs
APPENDED (counts updated), none changed."""

from __future__ import annotations

import re

from .package import _Package
from .text import _attr
from .xmlsplice import _Editor, _Node, _parse, _set_attrs

LINK_COLOR = "FF0563C1"


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
