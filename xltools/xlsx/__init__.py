"""Fast, hardened reading of .xlsx workbooks for the checker (stdlib + defusedxml only).

:func:`read_workbook` reads, in one pass over the few zip parts it needs, the values, formulas,
locked flags, sheet states, defined names, protection, data validations and merged ranges of a
returned workbook, refusing damaged and hostile files with a :class:`WorkbookReadError`.
"""

from __future__ import annotations

from .limits import DEFAULT_LIMITS, Limits
from .reader import (
    RawCell,
    RawSheet,
    RawWorkbook,
    WorkbookReadError,
    read_workbook,
    split_reference,
    translate_formula,
)

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "RawCell",
    "RawSheet",
    "RawWorkbook",
    "WorkbookReadError",
    "read_workbook",
    "split_reference",
    "translate_formula",
]
