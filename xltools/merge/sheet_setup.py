"""What every sheet of the summary workbook shares: the print setup, and rows as tall as
their wrapped text needs (by :mod:`xltools.textfit`, the estimate the overflow check uses)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from ..textfit import DEFAULT_FONT_PT, height_for, lines_needed

DEFAULT_ROW_PT: Final = 15.0
#: Excel's codes: &L/&C/&R left, centre, right; &F the file's name, &A the sheet's; &P page;
#: &N pages. A printed page says which sheet of which file it is.
PAGE_FOOTER: Final = "&L&F　&A&C第 &P 页，共 &N 页"


def page_setup(worksheet: Any, *, header_rows: int = 1, landscape: bool = True) -> None:
    """A4, one page wide (columns are never split across pages), the header rows repeated
    on every page, page numbers at the foot."""
    worksheet.set_paper(9)
    if landscape:
        worksheet.set_landscape()
    else:
        worksheet.set_portrait()
    if header_rows:
        worksheet.repeat_rows(0, header_rows - 1)
    worksheet.fit_to_pages(1, 0)
    worksheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    worksheet.set_footer(PAGE_FOOTER)


class RowHeights:
    """The height a row of values needs: the tallest of its wrapped text cells."""

    def __init__(self, widths: Sequence[float], wrapped: Sequence[bool]) -> None:
        # Only the wrapped columns count; a text at most this long fits one line whatever
        # its characters (two units each at most), so most cells cost one len().
        self.columns = [
            (n, width, int((width - 0.8) // 2))
            for n, (width, wrap) in enumerate(zip(widths, wrapped, strict=True))
            if wrap
        ]

    def __call__(self, values: Sequence[Any], font_pt: float = DEFAULT_FONT_PT) -> float | None:
        """Points, or None when one line will do."""
        lines = 1
        for n, width, short in self.columns:
            value = values[n]
            if value.__class__ is not str or (len(value) <= short and "\n" not in value):
                continue
            lines = max(lines, lines_needed(value, width, font_pt))
        if lines == 1:
            return None
        return height_for(lines, font_pt)
