"""The house style of a report a bureau files: A4, 宋体 body, 黑体 headings, bordered tables
with a shaded header row repeated on every page, marked placeholders for what a person must
still write.

Fonts: the East Asian font is named 宋体 (SimSun) for the body and 黑体 (SimHei) for headings,
as Word on a bureau's Windows machine has them; the Latin font beside it is Times New Roman.
Where those fonts are missing (LibreOffice on Linux) the application falls back, glyph by glyph,
to an installed CJK font (WenQuanYi Zen Hei from fonts-wqy-zenhei on our machines); the
document declares its language zh-CN so that the fallback picks a Chinese font."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor, Twips

BODY_FONT: Final = "宋体"
HEADING_FONT: Final = "黑体"
LATIN_FONT: Final = "Times New Roman"
PLACEHOLDER_FILL: Final = "FFF2CC"  # light amber: a paragraph a person must write
HEADER_FILL: Final = "D9D9D9"  # table header rows
NOTICE_FILL: Final = "FCE4E4"  # the first-page notice of a return with errors
TABLE_TEXT: Final = "TableText"  # the paragraph style of table cells (its id is its name)
TEXT_WIDTH: Final = 15.8  # cm: A4 less the margins
BLACK: Final = RGBColor(0, 0, 0)
RED: Final = RGBColor(0xC0, 0, 0)


def new_document(*, title: str) -> Any:
    """An empty A4 document with the house styles (GB/T 9704 margins)."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.0), Cm(2.8)
    section.left_margin, section.right_margin = Cm(2.6), Cm(2.6)
    document.core_properties.title = title
    document.core_properties.language = "zh-CN"
    _language(document)
    styles = document.styles
    set_font(styles["Normal"], BODY_FONT, size=12)
    normal = styles["Normal"].paragraph_format
    normal.space_after, normal.line_spacing = Pt(0), 1.5
    set_font(styles["Title"], BODY_FONT, size=22, bold=True)
    _no_border(styles["Title"])
    styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    styles["Title"].paragraph_format.space_after = Pt(12)
    for level, size in ((1, 16), (2, 14), (3, 12)):
        style = styles[f"Heading {level}"]
        set_font(style, HEADING_FONT, size=size, bold=level != 1)
        style.paragraph_format.space_before = Pt(12 if level == 1 else 6)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.keep_with_next = True
    table_text = styles.add_style(TABLE_TEXT, WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = styles["Normal"]
    table_text.paragraph_format.line_spacing = 1.15
    table_text.paragraph_format.space_before = Pt(1)
    table_text.paragraph_format.space_after = Pt(1)
    table_text.paragraph_format.first_line_indent = Pt(0)
    _footer_page_numbers(section)
    return document


def set_font(
    target: Any, east_asia: str, *, size: float | None = None, bold: bool | None = None
) -> None:
    """Fonts of a style or a run: the East Asian font, Times New Roman for Latin text, black;
    the theme fonts and colours of python-docx's template (blue Calibri headings) removed."""
    font = target.font
    font.name = LATIN_FONT
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    font.color.rgb = BLACK
    rpr = target.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for attribute, value in (
        ("w:ascii", LATIN_FONT),
        ("w:hAnsi", LATIN_FONT),
        ("w:eastAsia", east_asia),
        ("w:cs", LATIN_FONT),
    ):
        fonts.set(qn(attribute), value)
    color = rpr.find(qn("w:color"))
    if color is not None:
        for theme in ("w:themeColor", "w:themeShade", "w:themeTint"):
            color.attrib.pop(qn(theme), None)


def _language(document: Any) -> None:
    """zh-CN as the East Asian language of every run (the fallback font is a Chinese one)."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")
    lang.set(qn("w:bidi"), "ar-SA")


def _no_border(style: Any) -> None:
    ppr = style.element.get_or_add_pPr()
    border = ppr.find(qn("w:pBdr"))
    if border is not None:
        ppr.remove(border)


def _footer_page_numbers(section: Any) -> None:
    """— 1 — style page numbers, centred in the footer."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("— ")
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
    paragraph.add_run(" —")


def heading(document: Any, text: str, level: int) -> Any:
    paragraph = document.add_heading(text, level=level)
    for run in paragraph.runs:
        set_font(run, HEADING_FONT)
    return paragraph


def paragraph(
    document: Any, text: str, *, indent: bool = True, bold: bool = False, center: bool = False
) -> Any:
    """A body paragraph, first line indented by two characters."""
    result = document.add_paragraph()
    if indent and not center:
        result.paragraph_format.first_line_indent = Pt(24)
    if center:
        result.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = result.add_run(text)
    if bold:
        run.bold = True
    return result


def placeholder(document: Any, what: str) -> Any:
    """A shaded, marked paragraph a person must replace: 【待填写：what】."""
    result = document.add_paragraph()
    result.paragraph_format.first_line_indent = Pt(24)
    shade(result._p.get_or_add_pPr(), PLACEHOLDER_FILL)
    run = result.add_run(f"【待填写：{what}】")
    run.font.color.rgb = RED
    return result


def shade(parent: Any, fill: str) -> None:
    """A solid fill on a paragraph (pPr) or a table cell (tcPr)."""
    element = parent.find(qn("w:shd"))
    if element is None:
        element = OxmlElement("w:shd")
        parent.append(element)
    element.set(qn("w:val"), "clear")
    element.set(qn("w:color"), "auto")
    element.set(qn("w:fill"), fill)


def page_break(document: Any) -> None:
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def table(
    document: Any,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    widths: Sequence[float] | None = None,
    numeric: Sequence[int] = (),
    size: float = 10.5,
) -> Any:
    """A bordered table ('Table Grid'), the header row shaded, bold and repeated on every page;
    columns in ``numeric`` right-aligned. ``widths`` in centimetres, scaled to the text width:
    in the grid (LibreOffice reads it) and in every cell (Word reads that).

    The body rows are written as WordprocessingML text and parsed once per row (what
    python-docx's cell API would write, a tenth of its time: a 汇总报告 ranks every return)."""
    result = document.add_table(rows=1, cols=len(headers))
    result.style = document.styles["Table Grid"]
    result.alignment = WD_TABLE_ALIGNMENT.CENTER
    given = widths or [1.0] * len(headers)
    scale = TEXT_WIDTH / sum(given)
    twips = [round(w * scale / 2.54 * 1440) for w in given]
    result.autofit = False
    for col, width in enumerate(twips):
        result.columns[col].width = Twips(width)
    header_row = result.rows[0]
    _repeat_header(header_row)
    for col, text in enumerate(headers):
        cell = header_row.cells[col]
        cell.width = Twips(twips[col])
        shade(cell._tc.get_or_add_tcPr(), HEADER_FILL)
        _cell_text(cell, text, size=size, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    right = set(numeric)
    tbl = result._tbl
    for values in rows:
        tbl.append(parse_xml(_row_xml(values, twips, right, size)))
    spacer = document.add_paragraph()
    spacer.paragraph_format.line_spacing = 1.0
    spacer.paragraph_format.space_after = Pt(2)
    return result


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _run_xml(text: str, size: float) -> str:
    """One run: line breaks as <w:br/>, tabs as <w:tab/>, as python-docx's add_run writes them."""
    half_points = round(size * 2)
    parts = []
    for n, line in enumerate(_NOT_XML.sub("", text).replace("\r\n", "\n").split("\n")):
        if n:
            parts.append("<w:br/>")
        for m, piece in enumerate(line.split("\t")):
            if m:
                parts.append("<w:tab/>")
            if piece:
                parts.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
    return (
        f'<w:r><w:rPr><w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>'
        f"{''.join(parts)}</w:r>"
    )


def _row_xml(values: Sequence[str], twips: Sequence[int], right: set[int], size: float) -> str:
    cells = []
    for col, text in enumerate(values):
        align = '<w:jc w:val="right"/>' if col in right else ""
        run = _run_xml(text, size) if text else ""
        cells.append(
            f'<w:tc><w:tcPr><w:tcW w:w="{twips[col]}" w:type="dxa"/></w:tcPr>'
            f'<w:p><w:pPr><w:pStyle w:val="{TABLE_TEXT}"/>{align}</w:pPr>{run}</w:p></w:tc>'
        )
    return f"<w:tr {nsdecls('w')}>{''.join(cells)}</w:tr>"


def _repeat_header(row: Any) -> None:
    trpr = row._tr.get_or_add_trPr()
    element = OxmlElement("w:tblHeader")
    element.set(qn("w:val"), "true")
    trpr.append(element)


def _cell_text(cell: Any, text: str, *, size: float, bold: bool = False, align: Any) -> None:
    paragraph = cell.paragraphs[0]
    paragraph._p.get_or_add_pPr().get_or_add_pStyle().val = TABLE_TEXT  # by id: no style lookup
    if align != WD_ALIGN_PARAGRAPH.LEFT:
        paragraph.alignment = align
    if not text:
        return
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    if bold:
        run.bold = True


def shade_table(table_: Any, fill: str) -> None:
    for row in table_.rows:
        for cell in row.cells:
            shade(cell._tc.get_or_add_tcPr(), fill)
