"""Limits that bound what reading one returned workbook may cost.

A returned workbook is untrusted input: it may be damaged, re-saved by an unknown program, or
built to exhaust the checker (a "zip bomb" whose few kilobytes inflate to gigabytes, a sheet
with millions of cells). :func:`xltools.xlsx.reader.read_workbook` checks every limit below
*before* it inflates a part (against the sizes the zip's central directory declares) and again
*while* it inflates (against the bytes actually produced, because declared sizes can lie), and
stops with a :class:`~xltools.xlsx.reader.WorkbookReadError` as soon as one is passed.

The defaults are generous for the forms xltools issues (a one-page form is ~30 KB on disk and
inflates to ~150 KB) and still keep the worst case of one file to a few hundred megabytes and a
few seconds. Adjust them per call — ``Limits(max_file_bytes=200 * MB)`` — or, later, from the
command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["DEFAULT_LIMITS", "KB", "MB", "Limits"]

KB: Final = 1024
MB: Final = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Upper bounds for reading one workbook. All sizes are in bytes.

    Exceeding ``max_file_bytes``, ``max_parts`` or ``max_cells_per_sheet`` is reported as
    ``read-too-large``; exceeding an inflated-size or ratio limit as ``read-zip-bomb``.
    """

    #: Size of the .xlsx file itself (50 MB). Excel's own forms are far smaller.
    max_file_bytes: int = 50 * MB
    #: Number of entries in the zip's central directory (2,000). Counted from the
    #: end-of-central-directory record before the directory itself is parsed.
    max_parts: int = 2_000
    #: Inflated size of any one part that is read (100 MB), declared or actual.
    max_part_inflated_bytes: int = 100 * MB
    #: Inflated size of all parts read for one workbook together (300 MB), declared or actual.
    max_total_inflated_bytes: int = 300 * MB
    #: Inflated : compressed ratio of one part (200 : 1) ...
    max_ratio: float = 200.0
    #: ... applied only to parts that inflate to more than this (1 MB): small XML parts
    #: (long runs of identical empty cells) legitimately compress better than 200 : 1.
    ratio_min_bytes: int = 1 * MB
    #: Cells (``<c>`` elements) in one sheet (1,000,000). A one-page form has a few hundred.
    max_cells_per_sheet: int = 1_000_000
    #: Sheets listed in the workbook (1,000).
    max_sheets: int = 1_000

    def __post_init__(self) -> None:
        for name in (
            "max_file_bytes",
            "max_parts",
            "max_part_inflated_bytes",
            "max_total_inflated_bytes",
            "ratio_min_bytes",
            "max_cells_per_sheet",
            "max_sheets",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Limits.{name} must be a non-negative integer, not {value!r}")
        if not self.max_ratio > 0:
            raise ValueError(f"Limits.max_ratio must be positive, not {self.max_ratio!r}")


#: The limits :func:`~xltools.xlsx.reader.read_workbook` uses unless told otherwise.
DEFAULT_LIMITS: Final = Limits()
