"""The worksheet ``校验结果``: a summary of the report and one row per finding (severity colours,
frozen header row, autofilter, and a hyperlink from each finding to the offending cell)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...cellref import column_letter
from ..report import SEVERITY_LABEL, Finding, Report
from .styles import _Styles
from .text import _RANGE_RE, _attr, _clean, _esc, _lines, _quote_sheet, _ref
from .xmlsplice import _XML_DECL, MAIN_NS, REL_NS

#: Name of the validation sheet (made unique when the workbook already has one).
CHECK_SHEET = "校验结果"
#: Fills of the finding rows on the validation sheet.
ROW_FILL = {"error": "FFFFC7CE", "warning": "FFFFEB9C", "info": "FFEDEDED"}
PASS_FILL = "FFC6EFCE"
HEADER_FILL = "FFD9E1F2"


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
