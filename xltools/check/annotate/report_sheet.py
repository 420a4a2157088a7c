"""The worksheet ``校验结果``: a first screen (title, verdict with counts, next step, the facts of
the file; see ``first_screen``) and one row per finding (severity colours, frozen and printed
header row, autofilter, a hyperlink from each finding to the offending cell, rows as tall as
their text needs by :mod:`xltools.textfit`), set up to print on A4 with page numbers."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from ...cellref import column_letter
from ...textfit import DEFAULT_FONT_PT, row_height
from ..report import SEVERITY_LABEL, Finding, Report
from .first_screen import first_screen
from .styles import _Styles
from .text import _RANGE_RE, _attr, _clean, _esc, _quote_sheet, _ref
from .xmlsplice import _XML_DECL, MAIN_NS, REL_NS

#: Name of the validation sheet (made unique when the workbook already has one).
CHECK_SHEET = "校验结果"
#: Fills of the finding rows on the validation sheet.
ROW_FILL = {"error": "FFFFC7CE", "warning": "FFFFEB9C", "info": "FFEDEDED"}
PASS_FILL = "FFC6EFCE"
HEADER_FILL = "FFD9E1F2"
#: Fills of the verdict line of the first screen.
VERDICT_FILL = {"pass": PASS_FILL, "warn": ROW_FILL["warning"], "fail": ROW_FILL["error"]}
#: Printed at the foot of every page (Excel's codes: &F the file's name, &A the sheet's, &P page,
#: &N pages): a printed page says which sheet of which file it is.
PAGE_FOOTER = "&L&F　&A&C第 &P 页，共 &N 页"


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
    #: The table people read, then two hidden columns for whoever supports them: the stable
    #: finding code and the field id (the same as ``--json``), unhidden in Excel if asked for.
    COLUMNS = (
        ("级别", 10),  # also the labels of the first screen (重算总分, 检查时间)
        ("工作表", 16),
        ("单元格", 8),
        ("字段", 28),
        ("说明", 52),
        ("应为", 16),
        ("实为", 26),
        # hidden, and as wide as an id, so that an id never makes a row taller
        ("代码", 48),
        ("字段编号", 48),
    )
    VISIBLE = 7
    LINK_COLUMN = 3
    TITLE_PT = 16.0
    STATUS_PT = 14.0

    def __init__(
        self,
        styles: _Styles,
        report: Report,
        sheets: dict[str, _SheetInfo],
        now: dt.datetime | None = None,
    ) -> None:
        self.report = report
        self.sheets = sheets
        self.screen = first_screen(report, now)
        regular = styles.font()
        bold = styles.font(bold=True)
        border = styles.border()
        self.s_title = styles.xf(font=styles.font(bold=True, size=f"{self.TITLE_PT:g}"))
        status_font = styles.font(bold=True, size=f"{self.STATUS_PT:g}")
        self.s_status = {
            verdict: styles.xf(font=status_font, fill=styles.fill(rgb), wrap=True)
            for verdict, rgb in VERDICT_FILL.items()
        }
        self.s_step = styles.xf(font=bold, wrap=True)
        self.s_label = styles.xf(font=bold)
        self.s_value = styles.xf(font=regular, wrap=True, horizontal="left")
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

    def _width(self, first: int, last: int) -> float:
        return float(sum(w for _, w in self.COLUMNS[first - 1 : last]))

    def _banner(self, number: int, text: str, style: int, font_pt: float, merges: list[str]) -> str:
        """One text across the visible columns, its row as tall as the text needs."""
        last = column_letter(self.VISIBLE - 1)
        merges.append(f"A{number}:{last}{number}")
        height = row_height(_clean(text), self._width(1, self.VISIBLE), font_pt)
        return (
            f'<row r="{number}" ht="{height:g}" customHeight="1">'
            f"{self._cell(f'A{number}', text, style)}</row>"
        )

    def xml(self) -> str:
        report, screen = self.report, self.screen
        merges: list[str] = []
        rows = [
            self._banner(1, screen.title, self.s_title, self.TITLE_PT, merges),
            self._banner(2, screen.status, self.s_status[screen.verdict], self.STATUS_PT, merges),
            self._banner(3, screen.next_step, self.s_step, DEFAULT_FONT_PT, merges),
        ]
        last = column_letter(self.VISIBLE - 1)
        number = 4
        for number, (label, value) in enumerate(screen.details, start=5):
            merges.append(f"B{number}:{last}{number}")
            text = value if isinstance(value, str) else ""
            height = row_height(_clean(text), self._width(2, self.VISIBLE))
            rows.append(
                f'<row r="{number}" ht="{height:g}" customHeight="1">'
                f"{self._cell(f'A{number}', label, self.s_label)}"
                f"{self._cell(f'B{number}', value, self.s_value)}</row>"
            )
        header = number + 2  # a blank row between the summary and the table
        height = max(row_height(heading, width) for heading, width in self.COLUMNS[: self.VISIBLE])
        rows.append(
            f'<row r="{header}" ht="{height:g}" customHeight="1">'
            + "".join(
                self._cell(_ref(header, col), heading, self.s_header)
                for col, (heading, _) in enumerate(self.COLUMNS, start=1)
            )
            + "</row>"
        )
        self.header_row = header
        links: list[_Link] = []
        number = header
        for finding in report.sorted_findings():
            number += 1
            rows.append(self._finding_row(number, finding, links))
        last_col = column_letter(len(self.COLUMNS) - 1)
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{w}" customWidth="1"'
            + (' hidden="1"' if i > self.VISIBLE else "")
            + "/>"
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
        merge_xml = f'<mergeCells count="{len(merges)}">' + "".join(
            f'<mergeCell ref="{ref}"/>' for ref in merges
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
            f"{merge_xml}</mergeCells>"
            f"{hyperlinks}"
            '<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.7" header="0.3" '
            'footer="0.3"/>'
            # A4 landscape, one page wide: the table is wide and is printed to be worked through.
            # The header row repeats on every page (_xlnm.Print_Titles, set by the workbook).
            '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
            f"<headerFooter><oddFooter>{_attr(PAGE_FOOTER)}</oddFooter></headerFooter>"
            "</worksheet>"
        )

    def _finding_row(self, number: int, finding: Finding, links: list[_Link]) -> str:
        severity = finding.severity if finding.severity in ROW_FILL else "info"
        values = (
            SEVERITY_LABEL.get(severity, severity),
            finding.sheet,
            finding.cell,
            finding.label,  # the field's Chinese label path; its id is in the hidden column
            finding.message,
            finding.expected,
            finding.found,
            finding.code,
            finding.field,
        )
        style = self.s_row[severity]
        cells = []
        for col, value in enumerate(values, start=1):
            ref = _ref(number, col)
            if col == self.LINK_COLUMN and self._linkable(finding):
                links.append(
                    _Link(
                        ref, f"{_quote_sheet(finding.sheet)}!{finding.cell.strip()}", finding.cell
                    )
                )
                cells.append(self._cell(ref, value, self.s_link[severity]))
            else:
                cells.append(self._cell(ref, value, style))
        height = max(
            row_height(_clean(value), width)
            for value, (_, width) in zip(values, self.COLUMNS, strict=True)
        )
        return f'<row r="{number}" ht="{height:g}" customHeight="1">{"".join(cells)}</row>'

    def _linkable(self, finding: Finding) -> bool:
        info = self.sheets.get(finding.sheet)
        return (
            info is not None
            and info.worksheet
            and info.state in ("", "visible")
            and bool(_RANGE_RE.match(finding.cell.strip()))
        )
