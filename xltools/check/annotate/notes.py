"""Notes: the comments part and its VML drawing that carry the findings' messages on the
offending cells. A sheet that already has comments or a legacy drawing gets none."""

from __future__ import annotations

import re

from ..report import SEVERITY_LABEL
from .highlights import _Target
from .package import _Package
from .text import _clean, _esc, _lines, _ref
from .xmlsplice import _XML_DECL, MAIN_NS, REL_TYPE, _parse

# ---------------------------------------------------------------------------------------------
# Notes


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


def _may_add_notes(package: _Package, part: str, data: bytes) -> bool:
    """False when the sheet already has comments or a legacy drawing: we leave those alone."""
    if any(
        rel.type in (REL_TYPE + "/comments", REL_TYPE + "/vmlDrawing") for rel in package.rels(part)
    ):
        return False
    return b"legacyDrawing" not in data or _parse(data, part).root.kid("legacyDrawing") is None
