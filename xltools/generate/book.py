"""The XlsxWriter classes templates are written with: a workbook that protects its structure,
and worksheets that prepare each formula text once per process instead of once per cell."""

from __future__ import annotations

from typing import Any, Final

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

# XlsxWriter rewrites every formula it is given (cell formulas and, at close, every
# conditional-format formula) with some 120 regular-expression substitutions that add the
# `_xlfn.` prefixes of newer functions. The result depends only on the text and the options,
# and a roster writes the same few hundred formulas into thousands of workbooks.
_PREPARED: dict[tuple[Any, ...], str] = {}
_PREPARED_LIMIT: Final = 50_000


class CachingWorksheet(Worksheet):
    """A Worksheet whose formula preparation is remembered (byte-identical output)."""

    def _prepare_formula(self, formula: str, *args: Any, **kwargs: Any) -> str:
        key = (formula, self.use_future_functions, args, tuple(sorted(kwargs.items())))
        prepared = _PREPARED.get(key)
        if prepared is None:
            if len(_PREPARED) >= _PREPARED_LIMIT:
                _PREPARED.clear()
            prepared = _PREPARED[key] = super()._prepare_formula(formula, *args, **kwargs)
        return prepared


class ProtectedWorkbook(Workbook):
    """XlsxWriter has no API for workbook structure protection: write the element ourselves,
    where the schema puts it (right before bookViews)."""

    worksheet_class = CachingWorksheet

    def _write_book_views(self) -> None:
        self._xml_empty_tag("workbookProtection", [("lockStructure", "1")])
        super()._write_book_views()
