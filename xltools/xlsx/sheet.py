"""The streaming handler of one sheet part (:class:`_SheetPart`): cells and their values,
formulas (shared ones translated, see :mod:`xltools.xlsx.formula`), rows, sheet protection,
merged ranges and data validations; the per-workbook :class:`_Budget` of cells and formula
text; and the element-name dispatch table.

Typing of values: see :mod:`xltools.xlsx.model`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, Final

from ..cellref import column_letter, column_number
from .expat import _FALSE, _TRUE, _X14_NS, _XM_NS, _flag, _iso_serial, _Malformed, _names, _unescape
from .formula import _MAX_COL, _MAX_ROW, translate_formula
from .limits import DEFAULT_LIMITS, Limits
from .model import RawCell, RawSheet, _error

_CELL_REF: Final = re.compile(r"([A-Za-z]{1,3})([1-9][0-9]{0,6})")


_CELL_TYPES: Final = frozenset({"n", "s", "str", "inlineStr", "b", "e", "d"})
_REF_CACHE: Final[dict[str, tuple[str, int, int]]] = {}
_REF_CACHE_SIZE: Final = 1 << 16
_STYLE_NUMBERS: Final[dict[str, int]] = {}  # "12" -> 12
#: (value, kind, formula, style) -> the one RawCell of that content, shared by every workbook
#: this process reads: labels and formulas recur in every return, and a check can then tell
#: a cell it has seen before by identity
_CELLS: Final[dict[tuple[Any, ...], RawCell]] = {}
_CELLS_LIMIT: Final = 1 << 12  # a few hundred returns' values: ~1 MB, as fast as more


def _parse_ref(ref: str) -> tuple[str, int, int] | None:
    """ "c5" -> ("C5", 5, 3); None when ``ref`` is not a cell of a sheet. Cached: the same few
    hundred addresses recur in every form."""
    hit = _REF_CACHE.get(ref)
    if hit is not None:
        return hit
    match = _CELL_REF.fullmatch(ref)
    if match is None:
        return None
    letters, digits = match.groups()
    col = column_number(letters)
    row = int(digits)
    if col > _MAX_COL or row > _MAX_ROW:
        return None
    hit = (ref.upper(), row, col)
    if len(_REF_CACHE) < _REF_CACHE_SIZE:
        _REF_CACHE[ref] = hit
    return hit


class _SheetPart:
    """Streaming handler for one worksheet (or chart/dialog/macro sheet) part."""

    def __init__(
        self,
        sheet: RawSheet,
        strings: list[str],
        max_cells: int,
        cache: dict[tuple[Any, ...], RawCell],
        budget: _Budget | None = None,
    ) -> None:
        self.sheet = sheet
        self.cells = sheet.cells
        self.strings = strings
        self.max_cells = max_cells
        self.cache = cache
        self.budget = budget or _Budget(DEFAULT_LIMITS)
        # <c> elements this sheet may still hold: its own limit and what the workbook has
        # left, in one countdown (which of them ran out is told apart when one does)
        self.room = self.room_at_start = min(max_cells, self.budget.cells)
        self.ranges = 0  # validation areas and merged ranges read
        self.row = 0
        self.row_given = 0  # the r= of the <row> being read, 0 when it has none
        self.col = 0
        self.max_row = 0
        self.max_col = 0
        self.shared: dict[str, tuple[str, int, int]] = {}  # si -> (text, row, col)
        self.blanks: dict[int, RawCell] = {}  # style -> the empty cell of that style
        self.text: list[str] | None = None
        # the cell being read
        self.ref = ""
        self.type = "n"
        self.style = 0
        self.value: str | None = None
        self.formula: str | None = None
        self.f_attrs: dict[str, str] | None = None
        self.inline: list[str] | None = None
        self.phonetic = 0
        # the validation being read
        self.dv: list[str] | None = None
        self.in_x14_formula1 = False
        self.parser: Any = None  # set by the reader: conditional formats are skipped with it
        # where the sheetData and sheetProtection tags were met (byte offsets), for the tail
        self.data_starts = 0
        self.data_start_at = -1
        self.data_end_at = -1
        self.protection_at = -1
        self.protections = 0

    # -- expat callbacks -------------------------------------------------------------------

    def start(self, name: str, attrs: dict[str, str]) -> None:
        handler = _SHEET_STARTS.get(name)
        if handler is not None:
            handler(self, attrs)

    def end(self, name: str) -> None:
        handler = _SHEET_ENDS.get(name)
        if handler is not None:
            handler(self)

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    # -- elements --------------------------------------------------------------------------

    def _conditional_formatting(self, attrs: dict[str, str]) -> None:
        """Nothing inside a conditional format is compared (the 自检 highlights make up half
        of a form's XML): expat goes through it without calling Python for its elements'
        starts or text, until the format ends."""
        parser = self.parser
        if parser is None:
            return
        parser.StartElementHandler = None
        parser.CharacterDataHandler = None
        parser.EndElementHandler = self._skipped_end

    def _skipped_end(self, name: str) -> None:
        if name in _CONDITIONAL_FORMATTING:
            parser = self.parser
            parser.StartElementHandler = self.start
            parser.CharacterDataHandler = self.data
            parser.EndElementHandler = self.end

    def _row(self, attrs: dict[str, str]) -> None:
        r = attrs.get("r")
        if r is None:
            self.row += 1
            if self.row > _MAX_ROW:
                raise _Malformed(f"行数超过 {_MAX_ROW:,}")
            self.row_given = 0
        elif r.isdigit() and 1 <= int(r) <= _MAX_ROW:
            self.row = self.row_given = int(r)
        else:
            raise _Malformed(f"行号 “{r[:20]}” 无效")
        self.col = 0

    def _c(self, attrs: dict[str, str]) -> None:
        # The hot path of the reader: one call per cell of every sheet read.
        self.room -= 1
        if self.room < 0:
            self._too_many_cells()
        ref = attrs.get("r")
        if ref is None:
            self.col += 1
            row, col = self.row, self.col
            if row < 1 or col > _MAX_COL:
                raise _Malformed(f"第 {row} 行的单元格没有地址且无法推算")
            ref = f"{column_letter(col - 1)}{row}"
        else:
            parsed = _REF_CACHE.get(ref) or _parse_ref(ref)
            if parsed is None:
                raise _Malformed(f"单元格地址 “{ref[:20]}” 无效")
            ref, row, col = parsed
            if row != self.row_given and self.row_given:
                # A cell filed under another row (<row r="34"><c r="A9"/>): Excel refuses such
                # a sheet, and the checked copy, adding a note to the cell in its own row,
                # would hold the cell twice.
                raise _Malformed(f"单元格 {ref} 不在它的行（第 {self.row_given} 行）中")
            self.row = row
            self.col = col
        if row > self.max_row:
            self.max_row = row
        if col > self.max_col:
            self.max_col = col
        self.ref = ref
        self.type = attrs.get("t", "n")
        style = attrs.get("s")
        if style is None:
            self.style = 0
        else:
            number = _STYLE_NUMBERS.get(style)
            if number is None:
                if not style.isdigit():
                    raise _Malformed(f"单元格 {ref} 的样式编号 “{style[:20]}” 无效")
                number = int(style)
                if len(_STYLE_NUMBERS) < _REF_CACHE_SIZE:
                    _STYLE_NUMBERS[style] = number
            self.style = number
        self.value = self.formula = self.f_attrs = self.inline = None

    def _too_many_cells(self) -> None:
        if len(self.cells) >= self.max_cells:
            raise _error(
                "read-too-large",
                f"工作表 “{self.sheet.name}” 的单元格超过 {self.max_cells:,} 个",
            )
        raise _error(
            "read-too-large", f"各工作表的单元格合计超过 {self.budget.limits.max_cells:,} 个"
        )

    def _c_end(self) -> None:
        if (
            self.value is None
            and self.f_attrs is None
            and self.inline is None
            and self.type in _CELL_TYPES
        ):  # the common empty styled cell
            ref = self.ref
            if ref in self.cells:
                raise _Malformed(f"单元格 {ref} 出现了两次")
            style = self.style
            cell = self.blanks.get(style)
            if cell is None:
                cell = self.blanks[style] = self.cache.setdefault(
                    (None, "blank", None, style), RawCell(None, "blank", None, style)
                )
            self.cells[ref] = cell
        else:
            self._cell()

    def _collect(self, attrs: dict[str, str]) -> None:
        self.text = []

    def _v_end(self) -> None:
        if self.text is not None:
            self.value = "".join(self.text)
        self.text = None

    def _f(self, attrs: dict[str, str]) -> None:
        self.f_attrs = attrs
        self.text = []

    def _f_end(self) -> None:
        if self.text is not None:
            self.formula = "".join(self.text)
        self.text = None

    def _is(self, attrs: dict[str, str]) -> None:
        self.inline = []

    def _t(self, attrs: dict[str, str]) -> None:
        if self.inline is not None and not self.phonetic:
            self.text = []

    def _t_end(self) -> None:
        if self.text is not None and self.inline is not None:
            self.inline.append("".join(self.text))
        self.text = None

    def _rph(self, attrs: dict[str, str]) -> None:
        self.phonetic += 1

    def _rph_end(self) -> None:
        self.phonetic -= 1

    def _protection(self, attrs: dict[str, str]) -> None:
        self.sheet.protected = _flag(attrs.get("sheet"))
        self.protections += 1
        if self.parser is not None:
            self.protection_at = self.parser.CurrentByteIndex

    def _sheet_data(self, attrs: dict[str, str]) -> None:
        self.data_starts += 1
        if self.parser is not None and self.data_start_at < 0:
            self.data_start_at = self.parser.CurrentByteIndex

    def _sheet_data_end(self) -> None:
        if self.parser is not None:
            self.data_end_at = self.parser.CurrentByteIndex

    # -- the tail after the cells ----------------------------------------------------------

    def tail_state(self) -> tuple[int, ...]:
        """What a tail could change besides merges, validations and protection."""
        return (len(self.cells), self.row, self.col, self.max_row, self.max_col, len(self.shared))

    def clean(self) -> bool:
        """No element is being read: the tail starts as it would in any other file."""
        return (
            self.text is None
            and self.dv is None
            and self.inline is None
            and not self.phonetic
            and not self.in_x14_formula1
        )

    def _merge(self, attrs: dict[str, str]) -> None:
        ref = attrs.get("ref")
        if ref:
            self._count_ranges(1)
            self.sheet.merged.append(ref)

    def _count_ranges(self, count: int) -> None:
        self.ranges += count
        limit = self.budget.limits.max_ranges_per_sheet
        if self.ranges > limit:
            raise _error(
                "read-too-large",
                f"工作表 “{self.sheet.name}” 的数据验证区域与合并单元格超过 {limit:,} 个",
            )

    def _dv(self, attrs: dict[str, str]) -> None:
        self.dv = [attrs.get("sqref", ""), attrs.get("type", "none"), ""]

    def _x14_dv(self, attrs: dict[str, str]) -> None:
        self.dv = ["", attrs.get("type", "none"), ""]

    def _dv_collect(self, attrs: dict[str, str]) -> None:
        if self.dv is not None:
            self.text = []

    def _x14_formula1(self, attrs: dict[str, str]) -> None:
        self.in_x14_formula1 = True

    def _x14_formula1_end(self) -> None:
        self.in_x14_formula1 = False

    def _xm_f(self, attrs: dict[str, str]) -> None:
        if self.dv is not None and self.in_x14_formula1:
            self.text = []

    def _formula1_end(self) -> None:
        if self.dv is not None and self.text is not None:
            self.dv[2] = "".join(self.text).strip()
        self.text = None

    def _sqref_end(self) -> None:
        if self.dv is not None and self.text is not None:
            self.dv[0] = "".join(self.text).strip()
        self.text = None

    def _dv_end(self) -> None:
        if self.dv is not None:
            sqref, kind, formula1 = self.dv
            self._count_ranges(max(1, sqref.count(" ") + 1))
            self.sheet.validations.append((sqref, kind, formula1))
        self.dv = None

    # -- one cell --------------------------------------------------------------------------

    def _cell(self) -> None:
        ref = self.ref
        kind = self.type
        raw = self.value
        value: float | str | bool | None
        if kind == "n":
            if raw:
                try:
                    value = float(raw)
                except ValueError:
                    value = math.nan
                if not math.isfinite(value) or "_" in raw:
                    raise _Malformed(f"单元格 {ref} 的数值 “{raw[:20]}” 无效")
            else:
                value, kind = None, "blank"
        elif kind == "s":
            if raw:
                index = raw.strip()
                if not index.isdigit() or int(index) >= len(self.strings):
                    raise _Malformed(f"单元格 {ref} 引用的共享字符串 “{raw[:20]}” 不存在")
                value = self.strings[int(index)]
            else:
                value, kind = None, "blank"
        elif kind == "str":
            value, kind = (None, "blank") if raw is None else (_unescape(raw), "s")
        elif kind == "inlineStr":
            if self.inline is None:
                value, kind = None, "blank"
            else:
                value, kind = _unescape("".join(self.inline)), "s"
        elif kind == "b":
            if raw is None or not raw.strip():
                value, kind = None, "blank"
            elif raw.strip() in _TRUE:
                value = True
            elif raw.strip() in _FALSE:
                value = False
            else:
                raise _Malformed(f"单元格 {ref} 的逻辑值 “{raw[:20]}” 无效")
        elif kind == "e":
            value, kind = (raw, "e") if raw else (None, "blank")
        elif kind == "d":
            if not raw:
                value, kind = None, "blank"
            else:
                serial = _iso_serial(raw)
                value, kind = (raw, "s") if serial is None else (serial, "n")
        else:
            raise _Malformed(f"单元格 {ref} 的类型 “{kind[:20]}” 无效")

        formula = None
        if self.f_attrs is not None:
            formula = self.formula or ""
            if self.f_attrs.get("t") == "shared":
                formula = self._shared(formula)

        if ref in self.cells:
            raise _Malformed(f"单元格 {ref} 出现了两次")
        key = (value, kind, formula, self.style)
        cell = self.cache.get(key)
        if cell is None:
            cell = self.cache[key] = RawCell(value, kind, formula, self.style)
        self.cells[ref] = cell

    def _shared(self, text: str) -> str:
        assert self.f_attrs is not None
        si = self.f_attrs.get("si", "")
        if text:
            if "ref" in self.f_attrs or si not in self.shared:
                self.shared[si] = (text, self.row, self.col)
            return text
        master = self.shared.get(si)
        if master is None:
            raise _Malformed(f"单元格 {self.ref} 的共享公式（si={si[:20]}）没有主单元格")
        formula, row, col = master
        budget = self.budget
        budget.formula_chars -= len(formula)
        if budget.formula_chars < 0:  # a long master shared by many cells: a CPU bomb
            raise _error(
                "read-too-large",
                f"共享公式展开后超过 {budget.limits.max_shared_formula_chars:,} 个字符",
            )
        return translate_formula(formula, self.row - row, self.col - col)

    def finish(self) -> None:
        self.sheet.max_row = self.max_row
        self.sheet.max_col = self.max_col
        self.budget.cells -= self.room_at_start - self.room  # the <c> elements read here


class _Budget:
    """What all the sheets of one workbook may still use together."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.cells = limits.max_cells
        self.formula_chars = limits.max_shared_formula_chars


_SheetStart = Callable[[_SheetPart, dict[str, str]], None]
_SheetEnd = Callable[[_SheetPart], None]


def _sheet_dispatch() -> tuple[dict[str, _SheetStart], dict[str, _SheetEnd]]:
    """Element name -> handler, for both spreadsheetml namespaces and the x14 extension."""
    part = _SheetPart
    main_starts: dict[str, _SheetStart] = {
        "c": part._c,
        "v": part._collect,
        "f": part._f,
        "is": part._is,
        "t": part._t,
        "rPh": part._rph,
        "row": part._row,
        "sheetProtection": part._protection,
        "mergeCell": part._merge,
        "dataValidation": part._dv,
        "formula1": part._dv_collect,
        "conditionalFormatting": part._conditional_formatting,
        "sheetData": part._sheet_data,
    }
    main_ends: dict[str, _SheetEnd] = {
        "c": part._c_end,
        "v": part._v_end,
        "f": part._f_end,
        "t": part._t_end,
        "rPh": part._rph_end,
        "dataValidation": part._dv_end,
        "formula1": part._formula1_end,
        "sheetData": part._sheet_data_end,
    }
    starts = {full: main_starts[local] for full, local in _names(*main_starts).items()}
    ends = {full: main_ends[local] for full, local in _names(*main_ends).items()}
    starts[f"{_X14_NS}}}dataValidation"] = part._x14_dv
    starts[f"{_X14_NS}}}formula1"] = part._x14_formula1
    starts[f"{_XM_NS}}}f"] = part._xm_f
    starts[f"{_XM_NS}}}sqref"] = part._dv_collect
    ends[f"{_X14_NS}}}dataValidation"] = part._dv_end
    ends[f"{_X14_NS}}}formula1"] = part._x14_formula1_end
    ends[f"{_XM_NS}}}f"] = part._formula1_end
    ends[f"{_XM_NS}}}sqref"] = part._sqref_end
    return starts, ends


_SHEET_STARTS, _SHEET_ENDS = _sheet_dispatch()
_CONDITIONAL_FORMATTING: Final = frozenset(_names("conditionalFormatting"))
