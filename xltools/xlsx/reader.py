"""Read, in one pass, everything the checker compares in a returned .xlsx workbook.

The checker receives workbooks that bureaus return — re-saved by Excel, WPS or LibreOffice,
possibly damaged, possibly tampered with or built to hurt. For each it needs cell values *and*
formulas, the locked flag of every cell, sheet states, defined names, protection flags, data
validations and merged ranges. openpyxl reads all that but needs two full loads (formulas,
then values) — 15 to 25 times slower (``bench/bench_reader.py``); python-calamine is fast but
reads values only. This module reads exactly the zip parts it needs — ``_rels/.rels``, the workbook, its rels, the shared strings, the styles and the
sheets — with the standard library's zipfile and one streaming expat pass per part, keeping
nothing but the results.

Safety
------
* **Size and zip bombs.** Before anything is inflated the file size, the number of zip entries
  (from the end-of-central-directory record, before zipfile parses the directory), and each
  needed part's declared inflated size and ratio are checked against :class:`Limits`. Parts are
  then inflated and parsed in 256 KB chunks while the bytes actually produced are counted, per
  part and in total, stopping as soon as a limit is passed: nothing is ever inflated whole.
  (zipfile itself never yields more than a part's declared size — a part that lies about it
  fails its CRC check — so the running count is the second line of defence.) Only stored and
  deflated entries are read (bzip2 and LZMA cannot be inflated in bounded steps), encrypted
  entries are refused, and so are duplicate part names (which copy would Excel show?).
* **XML.** Every part is parsed by the expat parser of a ``defusedxml``
  :class:`~defusedxml.ElementTree.DefusedXMLParser` created with ``forbid_dtd=True``: defusedxml
  itself installs the handlers that refuse a DOCTYPE, entity declarations and external
  references, so billion-laughs and XXE payloads end in ``read-xml-unsafe``. (Open Packaging
  Conventions forbid DTDs in a package, so no honest writer produces one.) Only the element,
  end and character handlers are replaced by this module's streaming handlers, which keep
  flat state: memory stays proportional to the results, not to the XML, and no element tree
  is ever built.
* **Errors.** Every failure is a :class:`WorkbookReadError` with a stable code and a Chinese
  message saying what is wrong and what to do; no other exception type escapes for any input.

Values
------
Numbers are ``float``; shared, inline and formula-result (``t="str"``) strings are ``str``;
booleans ``bool``; errors their code (``"#DIV/0!"``). ``t="d"`` ISO 8601 dates (Excel's Strict
Open XML writes every date so) become the serial number a typed date holds (kind ``"n"``);
one that is no date Excel can show stays text (kind ``"s"``). A cell element without a value is
kind ``"blank"`` with value ``None``; a formula whose cached result is the empty string
(``t="str"`` with an empty ``<v>``, as LibreOffice writes ``=IF(x=0,"",…)``) is kind ``"s"``
with value ``""`` — openpyxl reports ``None`` for both. Excel's ``_xHHHH_`` escapes in strings are decoded, as Excel does.

What writers do differently (seen in the tests)
-----------------------------------------------
* XlsxWriter (templates): shared strings; an empty-string constant is a shared string ``""``;
  a formula's cached result is written, ``""`` as an untyped empty ``<v></v>`` (read: blank).
* Excel "Strict Open XML": the purl.oclc.org namespaces, and every date as ISO 8601 text
  (``<c t="d"><v>2024-10-17T00:00:00</v>``), read as its serial number;
* Gnumeric 1.12: no workbook structure protection at all, every sheet visible (hidden and very
  hidden states dropped); sheet protection and locked styles kept;
* openpyxl (a script's load and save; ``xltools fill`` edits the package instead and keeps
  the template's shared strings and cached results): inline strings (``t="inlineStr"``); formulas keep **no** cached
  result (``<v/>``: blank) until a spreadsheet program recalculates; merged-away cells dropped.
* LibreOffice 7.4: ``veryHidden`` sheets come back ``hidden``; **workbook structure protection
  is dropped** (``<workbookProtection/>`` without ``lockStructure``) while sheet protection and
  locked styles survive; empty-string constant cells lose their value (blank, or gone when
  unstyled) while a formula's ``""`` result becomes ``t="str"`` with an empty ``<v>`` (read:
  ``""``); defined names lose the quotes around sheet names (``项目支出绩效自评表!$C$5``);
  numeric validation bounds are rewritten (``0.0`` → ``0``); attributes say ``true``/``false``;
  every formula is written in full (no shared formulas); ``cellXfs`` is renumbered, each entry
  with an explicit ``<protection locked="true|false">``; a boolean constant becomes the formula
  ``TRUE()``; numbers keep 15 significant digits.

Shared formulas
---------------
Excel (and WPS) write a formula filled down or across once, on the range's first cell
(``<f t="shared" ref="B2:B9" si="0">A2*2</f>``), and mark the others ``<f t="shared"
si="0"/>``. This reader **translates** the master's text for every dependent cell, shifting
each relative reference (``A2`` → ``A3``; ``$A$2`` and the absolute half of ``$A2``/``A$2``
stay; ranges, whole columns ``A:A`` and whole rows ``2:2`` included) by the cell's offset from
the master and leaving strings, quoted sheet names, names, functions and bracketed parts
untouched. A reference shifted off the sheet becomes ``#REF!``, as in Excel. So
``RawCell.formula`` is always the cell's own formula text, whoever wrote the file. (LibreOffice
7.4 writes every formula in full; the translation matters for files Excel re-saved.)

Locked cells
------------
``RawWorkbook.locked_styles[i]`` is ``False`` only when ``cellXfs`` entry *i* has
``<protection locked="0"/>`` (or ``"false"``), as openpyxl reads it (``applyProtection`` is not
consulted; the cell-style ``cellStyleXfs`` entry is not inherited); a cell whose
style index lies outside ``cellXfs`` counts as locked (:meth:`RawWorkbook.is_locked`).
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from hashlib import blake2b
from io import BytesIO
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar, cast
from urllib.parse import unquote
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from ..cellref import column_letter, column_number
from .limits import DEFAULT_LIMITS, MB, Limits

__all__ = [
    "RawCell",
    "RawSheet",
    "RawWorkbook",
    "WorkbookReadError",
    "read_workbook",
    "split_reference",
    "translate_formula",
]

# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawCell:
    """One ``<c>`` element as written (see the module docstring for the typing rules)."""

    value: float | str | bool | None
    kind: str  # "n" number, "s" string, "b" bool, "e" error, "blank"
    formula: str | None  # formula text without "=" (shared formulas translated), or None
    style: int  # the s= attribute: index into cellXfs (0 when absent)


@dataclass
class RawSheet:
    name: str
    state: str  # "visible" | "hidden" | "veryHidden"
    cells: dict[str, RawCell] = field(default_factory=dict)  # "C5" -> cell, as present
    protected: bool = False  # <sheetProtection sheet="1"|"true">
    #: (sqref, type, formula1) per <dataValidation>, then per x14:dataValidation (extLst);
    #: type "none" when absent, formula1 "" when absent.
    validations: list[tuple[str, str, str]] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # "A1:L1", …
    max_row: int = 0  # 1-based extent of the cells present; 0 when there are none
    max_col: int = 0
    kind: str = "worksheet"  # "worksheet", "chartsheet", "dialogsheet" or "macrosheet"
    #: False for a sheet the caller asked to skip: listed, its part never inflated or parsed
    parsed: bool = True
    part: str = ""  # the zip entry holding it, as stored ("xl/worksheets/sheet1.xml")


@dataclass
class RawWorkbook:
    sheets: list[RawSheet]  # in workbook order
    #: Workbook-scoped defined names, lowercased, -> reference text as written. When a name
    #: is defined twice (invalid; Excel repairs the file) the first definition is kept.
    names: dict[str, str]
    structure_locked: bool  # <workbookProtection lockStructure="1"|"true">
    locked_styles: list[bool]  # per cellXfs index: is a cell with that style locked
    has_macros: bool  # a vbaProject.bin part, or an Excel 4 macro sheet
    external_links: list[str]  # the xl/externalLinks/*.xml parts
    #: Sheet-scoped names: sheet name -> {lowercased name -> reference text}.
    local_names: dict[str, dict[str, str]] = field(default_factory=dict)
    parts: list[str] = field(default_factory=list)  # every zip entry name, as stored
    #: The application that saved the file, as it names itself in docProps/app.xml
    #: ("Microsoft Excel", "LibreOffice/7.4…", "gnumeric", "WPS …"), else the workbook's
    #: ``fileVersion appName`` ("xl", "Calc"); "" when neither says.
    application: str = ""
    #: The workbook's own save time, docProps/core.xml ``dcterms:modified`` as written
    #: ("2024-03-01T09:30:00Z"); "" when the file does not say. Unlike the file system's
    #: time it travels inside the file, through mail attachments and USB copies.
    saved: str = ""
    #: The shared string table (xl/sharedStrings.xml), index -> text.
    shared_strings: list[str] = field(default_factory=list)
    #: name -> sheet, as written (a check looks sheets up a thousand times)
    _by_name: dict[str, RawSheet] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name = {}
        for sheet in self.sheets:
            self._by_name.setdefault(sheet.name, sheet)

    def sheet(self, name: str) -> RawSheet | None:
        """The sheet called ``name`` (Excel sheet names are case-insensitive)."""
        found = self._by_name.get(name)
        if found is not None:
            return found
        folded = name.casefold()
        for sheet in self.sheets:
            if sheet.name.casefold() == folded:
                return sheet
        return None

    def cell(self, sheet: str, ref: str) -> RawCell | None:
        """The cell at ``ref`` ("C5" or "$C$5") of ``sheet``, or None when not in the file."""
        found = self.sheet(sheet)
        if found is None:
            return None
        cell = found.cells.get(ref)  # the checker's own refs are already "C5"
        if cell is None and ("$" in ref or not ref.isupper()):
            cell = found.cells.get(ref.replace("$", "").upper())
        return cell

    def is_locked(self, cell: RawCell | None) -> bool:
        """Whether ``cell`` is locked under sheet protection (a missing cell has style 0)."""
        style = 0 if cell is None else cell.style
        return self.locked_styles[style] if style < len(self.locked_styles) else True

    def resolve(self, name: str) -> tuple[str, str] | None:
        """The (sheet name, "C5" or "B10:B17") a workbook-scoped name points at, with ``$``
        removed and sheet-name quotes unescaped; None for an unknown name or one that is not
        a plain single-area reference into this workbook."""
        text = self.names.get(name.lower())
        return None if text is None else split_reference(text)


class WorkbookReadError(Exception):
    """The workbook cannot be read. ``code`` is stable (``read-…``); ``message`` is Chinese and
    says what is wrong and what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

_MAIN_NS: Final = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # "Strict Open XML" as Excel can save
)
_REL_NS: Final = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_PKG_REL_NS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_X14_NS: Final = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
_XM_NS: Final = "http://schemas.microsoft.com/office/excel/2006/main"

_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_MARKERS: Final = ("EncryptionInfo".encode("utf-16-le"), b"EncryptionInfo")
_EOCD: Final = b"PK\x05\x06"
_EOCD64_LOCATOR: Final = b"PK\x06\x07"
_EOCD64: Final = b"PK\x06\x06"
_CD_BYTES_PER_PART: Final = 1024  # central-directory bytes allowed per permitted part

_CHUNK: Final = 256 * 1024  # inflate and parse this much at a time
_MAX_ROW: Final = 1_048_576
_MAX_COL: Final = 16_384

_TRUE: Final = frozenset({"1", "true"})
_FALSE: Final = frozenset({"0", "false"})
_SHEET_STATES: Final = frozenset({"visible", "hidden", "veryHidden"})
_SHEET_KINDS: Final = {
    "/worksheet": "worksheet",
    "/chartsheet": "chartsheet",
    "/dialogsheet": "dialogsheet",
    "/xlMacrosheet": "macrosheet",
    "/xlIntlMacrosheet": "macrosheet",
}

_CELL_REF: Final = re.compile(r"([A-Za-z]{1,3})([1-9][0-9]{0,6})")
_XML_ESCAPE: Final = re.compile(r"_x([0-9A-Fa-f]{4})_")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


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


def _names(*local: str) -> dict[str, str]:
    """Expanded names ("uri}local", as expat reports them) in both spreadsheetml namespaces."""
    return {f"{ns}}}{name}": name for ns in _MAIN_NS for name in local}


# --------------------------------------------------------------------------------------------
# Errors (Chinese messages: what is wrong, what to do)
# --------------------------------------------------------------------------------------------

_RESAVE = "请用 Excel 或 WPS 打开下发的模板，确认内容正常后“另存为”Excel 工作簿（*.xlsx）再提交。"


def _error(code: str, detail: str = "", part: str = "") -> WorkbookReadError:
    where = f"部件 {part} " if part else ""
    why = f"（{detail}）" if detail else ""
    messages = {
        "read-io-error": f"无法读取文件{why}：请确认文件存在、未被其他程序占用且有读取权限。",
        "read-empty-file": "文件是空的（0 字节），可能在下载、上传或复制时中断。请重新发送完整的工作簿。",
        "read-not-a-zip": f"文件不是 Excel 工作簿（.xlsx）{why}：内容既不是 .xlsx 的 zip 包，也不是旧版 .xls。"
        + _RESAVE,
        "read-wrong-format": f"这不是 Excel 工作簿（.xlsx），而是{' ' * detail[:1].isascii()}{detail}。",
        "read-legacy-xls": "这是旧版 Excel 97-2003 工作簿（.xls），不是下发的 .xlsx 模板。"
        "请在下发的 .xlsx 模板中填写；已在 .xls 中填写的，请用 Excel 或 WPS “另存为”"
        "Excel 工作簿（*.xlsx）后再提交。",
        "read-encrypted": f"工作簿设置了打开密码（已加密）{why}，无法读取。请在 Excel 或 WPS 中"
        "取消“用密码进行加密”（文件 → 信息 → 保护工作簿），保存后再提交。",
        "read-truncated-zip": "文件不完整（zip 包的末尾缺失），可能在下载、上传或复制时中断。"
        "请重新保存并重新发送完整的文件。",
        "read-corrupt-zip": f"文件已损坏{why}{'：' + where.strip() if where else ''}。" + _RESAVE,
        "read-missing-part": f"工作簿缺少必需的部件 {part}{why}，不是完整的 Excel 工作簿。"
        + _RESAVE,
        "read-too-large": f"文件超出读取上限{why}，不像是一份自评表。请确认没有误提交其他文件；"
        "确需读取时，可用环境变量 XLTOOLS_LIMITS 调高相应的上限。",
        "read-zip-bomb": f"{where}解压后的大小异常{why}，疑似“zip 炸弹”，已拒绝读取。"
        "请提交由 Excel、WPS 或 LibreOffice 正常保存的工作簿。",
        "read-xml-unsafe": f"{where}含有 DTD 或实体声明{why}：Excel 从不写出这类内容，文件可能是"
        "恶意构造的，已拒绝读取。" + _RESAVE,
        "read-xml-malformed": f"{where}内容无效{why}，文件已损坏或被改动。" + _RESAVE,
    }
    return WorkbookReadError(code, messages[code])


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n} 字节"


# --------------------------------------------------------------------------------------------
# Formula translation (shared formulas)
# --------------------------------------------------------------------------------------------

_FORMULA_TOKEN: Final = re.compile(
    r"""
      "(?:[^"]|"")*"                                   # string literal
    | '(?:[^']|'')*'                                   # quoted sheet name
    | \[(?:[^\[\]]|\[[^\[\]]*\])*\]                    # [1] external index, structured refs
    | \#[A-Za-z0-9/_]+[!?]?                            # error literal: #REF! #N/A #DIV/0!
    | (?P<area>\$?[A-Za-z]{1,3}\$?[0-9]+(?::\$?[A-Za-z]{1,3}\$?[0-9]+)?)(?![\w.(!\[])
    | (?P<cols>\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3})(?![\w.(!\[])
    | (?P<rows>\$?[0-9]+:\$?[0-9]+)(?![\w.(!\[])
    | [\w.\\?$]+                                       # names, functions, numbers, sheets
    | .                                                # operators, spaces, anything else
    """,
    re.VERBOSE | re.DOTALL,
)
_REF_PART: Final = re.compile(r"(\$?)([A-Za-z]{1,3})?(\$?)([0-9]+)?")


def _shift_part(text: str, rows: int, cols: int) -> str | None:
    """Shift one reference end ("A1", "$A1", "A", "$3", …); None when it leaves the sheet."""
    match = _REF_PART.fullmatch(text)
    if match is None:  # pragma: no cover - callers pass only matched references
        return text
    col_abs, letters, row_abs, digits = match.groups()
    if letters is None:  # a whole-row end such as "$3": the "$" is the row's
        col_abs, row_abs = "", col_abs + row_abs
    out = ""
    if letters is not None:
        col = column_number(letters)
        if not col_abs:
            col += cols
        if not 1 <= col <= _MAX_COL:
            return None
        out += col_abs + column_letter(col - 1)
    if digits is not None:
        row = int(digits)
        if not row_abs:
            row += rows
        if not 1 <= row <= _MAX_ROW:
            return None
        out += row_abs + str(row)
    return out


def _in_sheet(text: str) -> bool:
    """Whether a reference end names a real column/row (else it is a name like "ABCD1")."""
    match = _REF_PART.fullmatch(text)
    if match is None:
        return False
    _, letters, _, digits = match.groups()
    if letters is not None and column_number(letters) > _MAX_COL:
        return False
    return digits is None or 1 <= int(digits) <= _MAX_ROW


def translate_formula(formula: str, rows: int, cols: int) -> str:
    """``formula`` as it reads ``rows`` rows down and ``cols`` columns right of where it was
    written: relative references move, absolute ones stay (Excel's copy/fill rule)."""
    if not rows and not cols:
        return formula

    def shift(match: re.Match[str]) -> str:
        token = match.group(0)
        if match.lastgroup is None:
            return token
        ends = token.split(":")
        if not all(_in_sheet(end) for end in ends):
            return token  # a name that only looks like a reference, e.g. "XFE1"
        moved = [_shift_part(end, rows, cols) for end in ends]
        if any(end is None for end in moved):
            return "#REF!"
        return ":".join(end for end in moved if end is not None)

    return _FORMULA_TOKEN.sub(shift, formula)


_REFERENCE: Final = re.compile(
    r"(?:'((?:[^']|'')+)'|([^'!\[\]]+))!"
    r"(\$?[A-Za-z]{1,3}\$?[0-9]+(?::\$?[A-Za-z]{1,3}\$?[0-9]+)?"
    r"|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}|\$?[0-9]+:\$?[0-9]+)"
)


@lru_cache(maxsize=1 << 14)  # every return of a template carries the same names
def split_reference(text: str) -> tuple[str, str] | None:
    """``'My ''x'' sheet'!$C$5`` -> ("My 'x' sheet", "C5"); None when ``text`` is not one plain
    reference into a sheet of this workbook (a formula, several areas, an external link)."""
    match = _REFERENCE.fullmatch(text.strip().removeprefix("="))
    if match is None:
        return None
    quoted, bare, ref = match.groups()
    sheet = quoted.replace("''", "'") if quoted is not None else bare
    return sheet, ref.replace("$", "").upper()


# --------------------------------------------------------------------------------------------
# XML plumbing
# --------------------------------------------------------------------------------------------


def _expat(
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None],
    data: Callable[[str], None] | None,
) -> Any:
    """The expat parser of a defusedxml DefusedXMLParser (DTDs, entity declarations and
    external references refused by defusedxml's own handlers), streaming into our handlers."""
    guard = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser = guard.parser  # the handlers hold ``guard`` alive
    parser.ordered_attributes = False
    parser.buffer_text = True
    parser.buffer_size = 65536
    parser.DefaultHandlerExpand = None
    parser.CommentHandler = None
    parser.ProcessingInstructionHandler = None
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    return parser


def _unescape(text: str) -> str:
    """Decode Excel's ``_xHHHH_`` escapes (``_x000D_`` is a carriage return)."""
    if "_x" not in text:
        return text
    decoded = _XML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if _SURROGATE.search(decoded):
        # ``_xD83D__xDE00_`` is an emoji written as UTF-16 halves: join the pair. A lone half
        # (``_xD800_``) is no character at all: it became U+FFFD, because a str holding it
        # cannot be printed or written as UTF-8 (the check ended in an internal error).
        decoded = decoded.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return decoded


_EPOCH: Final = dt.datetime(1899, 12, 30)
_LEAP_BUG: Final = dt.datetime(1900, 3, 1)  # before it, Excel counts a 29 February 1900


@lru_cache(maxsize=1024)
def _iso_serial(text: str) -> float | None:
    """The serial number of a ``t="d"`` cell's ISO 8601 text, as a date typed into the cell
    would hold it; None when it is no date Excel can show (before 1900, or not ISO 8601).
    Excel writes every date so in a Strict Open XML file, openpyxl with ``iso_dates``: read as
    text they looked typed as text, and a pre-filled date as changed."""
    text = text.strip()
    try:
        if "-" in text:
            moment = dt.datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=None)
        else:  # a time of day alone ("10:10:10"): a fraction of a day, as Excel stores it
            moment = dt.datetime.combine(_EPOCH.date(), dt.time.fromisoformat(text))
    except ValueError:
        return None
    if moment < dt.datetime(1900, 1, 1) and moment.date() != _EPOCH.date():
        return None
    delta = moment - _EPOCH
    days = delta.days - (moment < _LEAP_BUG and moment.date() != _EPOCH.date())
    return days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000


def _flag(value: str | None) -> bool:
    return value is not None and value.strip() in _TRUE


class _Malformed(Exception):
    """Raised inside a handler; becomes read-xml-malformed naming the part."""


class _Rels:
    """A .rels part: Id -> (Type, Target, TargetMode)."""

    data = None  # no text is read

    def __init__(self) -> None:
        self.by_id: dict[str, tuple[str, str, str]] = {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == f"{_PKG_REL_NS}}}Relationship":
            ident = attrs.get("Id", "")
            if ident and ident not in self.by_id:
                self.by_id[ident] = (
                    attrs.get("Type", ""),
                    attrs.get("Target", ""),
                    attrs.get("TargetMode", "Internal"),
                )

    def end(self, name: str) -> None:
        pass

    def of_type(self, suffix: str) -> list[tuple[str, str]]:
        return [
            (ident, target)
            for ident, (kind, target, mode) in self.by_id.items()
            if kind.endswith(suffix) and mode != "External"
        ]


class _WorkbookPart:
    _SHEET = _names("sheet")
    _DEFINED = _names("definedName")
    _PROTECTION = _names("workbookProtection")
    _FILE_VERSION = _names("fileVersion")

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.sheets: list[tuple[str, str, str]] = []  # (name, state, r:id)
        self.defined: list[tuple[str, str | None, str]] = []  # (name, localSheetId, text)
        self.structure_locked = False
        self.app_name = ""
        self._name: tuple[str, str | None] | None = None
        self._text: list[str] | None = None
        self._scoped: tuple[dict[str, str], dict[str, dict[str, str]]] | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name in self._SHEET:
            if len(self.sheets) >= self.limits.max_sheets:  # counted while parsing: bounded memory
                raise _error("read-too-large", f"工作簿的工作表超过 {self.limits.max_sheets:,} 个")
            rid = next((v for k, v in attrs.items() if k in _RID_ATTRS), "")
            self.sheets.append((attrs.get("name", ""), attrs.get("state", "visible"), rid))
        elif name in self._DEFINED:
            if len(self.defined) >= self.limits.max_defined_names:
                raise _error(
                    "read-too-large",
                    f"工作簿的定义名称超过 {self.limits.max_defined_names:,} 个",
                )
            self._name = (attrs.get("name", ""), attrs.get("localSheetId"))
            self._text = []
        elif name in self._PROTECTION:
            self.structure_locked = _flag(attrs.get("lockStructure"))
        elif name in self._FILE_VERSION:
            self.app_name = attrs.get("appName", "")[:100]

    def scoped_names(self) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        """Workbook-scoped names (lowercased, first definition kept) and sheet-scoped ones by
        sheet name. Built once: a remembered workbook part hands the same dicts to every
        return of its template, so they are only ever read."""
        if self._scoped is None:
            defined: dict[str, str] = {}
            local: dict[str, dict[str, str]] = {}
            for name, scope, text in self.defined:
                key = name.lower()
                if scope is None:
                    defined.setdefault(key, text)
                elif scope.isdigit() and int(scope) < len(self.sheets):
                    local.setdefault(self.sheets[int(scope)][0], {}).setdefault(key, text)
            self._scoped = (defined, local)
        return self._scoped

    def end(self, name: str) -> None:
        if self._name is not None and name in self._DEFINED and self._text is not None:
            self.defined.append((*self._name, "".join(self._text)))
            self._name = self._text = None

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)


_RID_ATTRS: Final = frozenset(f"{ns}}}id" for ns in _REL_NS)


class _AppProperties:
    """docProps/app.xml: only the name of the application that saved the file."""

    def __init__(self) -> None:
        self.application = ""
        self._text: list[str] | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name.rpartition("}")[2] == "Application":
            self._text = []

    def end(self, name: str) -> None:
        if self._text is not None:
            self.application = "".join(self._text).strip()[:200]
            self._text = None

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)


class _CoreProperties:
    """docProps/core.xml: only ``dcterms:modified``, the time the workbook was last saved."""

    def __init__(self) -> None:
        self.modified = ""
        self._text: list[str] | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name.rpartition("}")[2] == "modified":
            self._text = []

    def end(self, name: str) -> None:
        if self._text is not None:
            self.modified = "".join(self._text).strip()[:40]
            self._text = None

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)


class _SharedStrings:
    _SI = _names("si")
    _T = _names("t")
    _RPH = _names("rPh")

    def __init__(self, max_strings: int = DEFAULT_LIMITS.max_shared_strings) -> None:
        self.max_strings = max_strings
        self.strings: list[str] = []
        self._item: list[str] | None = None
        self._text: list[str] | None = None
        self._phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name in self._T:
            if self._item is not None and not self._phonetic:
                self._text = []
        elif name in self._SI:
            if len(self.strings) >= self.max_strings:
                raise _error("read-too-large", f"共享字符串超过 {self.max_strings:,} 个")
            self._item = []
        elif name in self._RPH:
            self._phonetic += 1

    def end(self, name: str) -> None:
        if name in self._T:
            if self._text is not None and self._item is not None:
                self._item.append("".join(self._text))
            self._text = None
        elif name in self._SI:
            if self._item is not None:
                self.strings.append(_unescape("".join(self._item)))
            self._item = None
        elif name in self._RPH:
            self._phonetic -= 1

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)


_XML_DECLARATION: Final = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml([^>]*)\?>")
_DECLARED_ENCODING: Final = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_SST_TAGS: Final = {
    tag: f"{{{_MAIN_NS[0]}}}{tag}" for tag in ("sst", "si", "t", "r", "rPr", "rPh", "phoneticPr")
}
_SST_TAGS_STRICT: Final = {tag: f"{{{_MAIN_NS[1]}}}{tag}" for tag in _SST_TAGS}


def _simple_strings(content: bytes) -> list[str] | None:
    """The strings of a shared-string part in the shapes applications write — ``<si>`` of a
    ``<t>``, or of ``<r>`` runs (``<rPr>``, ``<t>``) and phonetic ``<rPh>`` left out — read
    as :class:`_SharedStrings` reads them; None for any other shape, encoding or error.

    Safe to hand to the C parser without defusedxml's guard: a UTF-8 document without a
    DOCTYPE can declare no entity, so it can neither expand one nor reach outside."""
    declaration = _XML_DECLARATION.match(content)
    if declaration is not None:
        encoding = _DECLARED_ENCODING.search(declaration.group(1))
        if encoding is not None and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
            return None
    elif not content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return None  # UTF-16 and the like
    if b"<!DOCTYPE" in content:
        return None
    try:
        root = ElementTree.fromstring(content)
    except (ElementTree.ParseError, ValueError, LookupError):
        return None
    tags = _SST_TAGS if root.tag == _SST_TAGS["sst"] else _SST_TAGS_STRICT
    if root.tag != tags["sst"]:
        return None
    si, t, r, r_pr, r_ph, phonetic = (tags[k] for k in ("si", "t", "r", "rPr", "rPh", "phoneticPr"))
    strings: list[str] = []
    for item in root:
        if item.tag != si:
            return None
        parts: list[str] = []
        for child in item:
            tag = child.tag
            if tag == t and not len(child):
                parts.append(child.text or "")
            elif tag == r:
                for run in child:
                    if run.tag == t and not len(run):
                        parts.append(run.text or "")
                    elif run.tag != r_pr or _holds(run, t, si, r_ph):
                        return None
            elif not (tag == r_ph and not _holds(child, si)) and not (
                tag == phonetic and not _holds(child, t, si, r_ph)
            ):
                return None  # a reading (<rPh>) is left out: its <t> is not the text
        strings.append(_unescape("".join(parts)))
    return strings


def _holds(element: ElementTree.Element, *tags: str) -> bool:
    return any(inner.tag in tags for inner in element.iter())


class _Styles:
    data = None  # no text is read
    _CELL_XFS = _names("cellXfs")
    _XF = _names("xf")
    _PROTECTION = _names("protection")

    def __init__(self) -> None:
        self.locked: list[bool] = []
        self._in_cell_xfs = False
        self._in_xf = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if not self._in_cell_xfs:
            if name in self._CELL_XFS:
                self._in_cell_xfs = True
        elif name in self._XF:
            self.locked.append(True)
            self._in_xf = True
        elif name in self._PROTECTION and self._in_xf:
            locked = attrs.get("locked")
            self.locked[-1] = locked is None or locked.strip() not in _FALSE

    def end(self, name: str) -> None:
        if name in self._XF:
            self._in_xf = False
        elif name in self._CELL_XFS:
            self._in_cell_xfs = False


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


# --------------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------------


def read_part(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The inflated bytes of one part of the package ``data``, under the same limits as
    :func:`read_workbook` (a part larger than the remembered-part size is refused: this is for
    the small parts a check looks at again, such as a skipped sheet)."""
    archive = _open_zip(data, limits)
    with archive:
        reader = _Reader(archive, limits)
        info = reader.require(name)
        content = reader._small(info)
        if content is None:
            raise _error("read-too-large", f"部件解压后 {_size(info.file_size)}", part=name)
        return content


def read_workbook(
    source: Path | bytes, limits: Limits = DEFAULT_LIMITS, *, skip_sheets: Collection[str] = ()
) -> RawWorkbook:
    """Read what the checker compares in the .xlsx ``source`` (a path or the file's bytes).

    Sheets named in ``skip_sheets`` are listed but not read (``parsed`` False): the checker
    has no use for the 自检 panel, which is as large as the form itself. Their parts still
    pass the package's size and ratio limits.

    Raises :class:`WorkbookReadError` — and nothing else — when the file cannot or must not be
    read: see the module docstring and :class:`~xltools.xlsx.limits.Limits`.
    """
    data = _load(source, limits)
    archive = _open_zip(data, limits)
    with archive:
        return _Reader(archive, limits).read(frozenset(skip_sheets))


def _load(source: Path | bytes, limits: Limits) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        try:
            with open(source, "rb") as handle:
                data = handle.read(limits.max_file_bytes + 1)
        except OSError as exc:
            raise _error("read-io-error", f"{type(exc).__name__}: {exc.strerror or exc}") from exc
    if not data:
        raise _error("read-empty-file")
    if len(data) > limits.max_file_bytes:
        raise _error(
            "read-too-large",
            f"文件大于 {_size(limits.max_file_bytes)}",
        )
    return data


def _open_zip(data: bytes, limits: Limits) -> zipfile.ZipFile:
    if data.startswith(_OLE_MAGIC):
        if any(marker in data for marker in _ENCRYPTION_MARKERS):
            raise _error("read-encrypted", "加密的工作簿保存为 OLE 复合文档")
        raise _error("read-legacy-xls")
    looks_like_zip = data.startswith((b"PK\x03\x04", _EOCD, b"PK\x07\x08"))
    eocd = data.rfind(_EOCD, max(0, len(data) - 65_557))
    if eocd < 0 or len(data) - eocd < 22:
        if looks_like_zip:
            raise _error("read-truncated-zip")
        raise _error("read-not-a-zip", _looks_like(data))
    entries, cd_size = struct.unpack_from("<HI", data, eocd + 10)
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:  # ZIP64: the real counts are elsewhere
        locator = eocd - 20
        if locator >= 0 and data[locator : locator + 4] == _EOCD64_LOCATOR:
            (offset,) = struct.unpack_from("<Q", data, locator + 8)
            if offset + 56 <= len(data) and data[offset : offset + 4] == _EOCD64:
                entries, cd_size = struct.unpack_from("<QQ", data, offset + 32)
    if entries > limits.max_parts or cd_size > limits.max_parts * _CD_BYTES_PER_PART:
        raise _error(
            "read-too-large",
            f"zip 包声明了 {entries:,} 个部件（上限 {limits.max_parts:,}）"
            if entries > limits.max_parts
            else f"zip 目录有 {_size(cd_size)}",
        )
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,  # "zip file version 19.7" from a damaged directory
        struct.error,
        ValueError,
        EOFError,
        OSError,
        OverflowError,
        IndexError,
        KeyError,
    ) as exc:
        if not looks_like_zip:
            raise _error("read-not-a-zip", _looks_like(data)) from exc
        raise _error("read-corrupt-zip", f"zip 目录无法读取：{exc}") from exc
    if len(archive.infolist()) > limits.max_parts:
        archive.close()
        raise _error(
            "read-too-large",
            f"zip 包有 {len(archive.infolist()):,} 个部件（上限 {limits.max_parts:,}）",
        )
    return archive


_SIGNATURES: Final = (
    (b"%PDF", "PDF 文件"),
    (b"\x89PNG", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片（照片）"),
    (b"GIF8", "GIF 图片"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"),
    (b"\x1f\x8b", "gzip 压缩文件"),
    (b"{\\rtf", "RTF 文档"),
)


def _looks_like(data: bytes) -> str:
    """What a file that is not a zip seems to be, for the message ("" when nothing is clear)."""
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return f"看起来是{' ' if name[0].isascii() else ''}{name}"
    head = data[:2048].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower()
    if head.startswith((b"<html", b"<!doctype html", b"<table", b"<meta")) or b"<html" in head:
        return "看起来是网页（HTML）文件，常见于系统导出的“假 .xls”"
    if head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in data[:4096]:
        return "看起来是 Excel 2003 XML 表格"
    if not data.strip(b"\x00"):
        return "内容全是零字节"
    try:
        text = data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data[:4096].decode("gb18030")
        except UnicodeDecodeError:
            return ""
    if text and all(ch.isprintable() or ch in "\r\n\t\ufeff" for ch in text[:-4]):
        return "看起来是文本文件（如 CSV）"
    return ""


_OTHER_MAIN_PARTS: Final = frozenset(
    {"xl/workbook.bin", "word/document.xml", "ppt/presentation.xml"}
)
_ATTACHMENT: Final = "可能发错了附件：请提交在下发的 .xlsx 模板中填写的工作簿"


def _other_format(lowered: list[str]) -> str:
    """What a zip without a workbook part is, by its entries, and what to do ("" when it looks
    like a damaged .xlsx)."""
    names = set(lowered)
    if "xl/workbook.bin" in names:
        return "二进制工作簿（.xlsb）。请在 Excel 中把它“另存为”Excel 工作簿（*.xlsx）后再提交"
    if "mimetype" in names or "content.xml" in names:
        return (
            "OpenDocument 文件（.ods 或 .odt）。如果是表格，请在 WPS 或 LibreOffice 中把它"
            "“另存为”Excel 工作簿（*.xlsx）；否则" + _ATTACHMENT
        )
    if "word/document.xml" in names:
        return "Word 文档（.docx），" + _ATTACHMENT
    if "ppt/presentation.xml" in names:
        return "PowerPoint 演示文稿（.pptx），" + _ATTACHMENT
    if "[content_types].xml" not in names:
        inner = [n for n in lowered if n.endswith((".xlsx", ".xls", ".xlsm", ".et"))]
        if inner:
            return f"一个 zip 压缩包（内含 {len(inner)} 个表格文件）。请解压后逐个提交"
        return "一个 zip 压缩包，" + _ATTACHMENT
    return ""


_PROTECTION_TAG: Final = re.compile(
    rb"<sheetProtection(?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*\s*/>"
)


@dataclass(frozen=True)
class _Tail:
    """Where a worksheet part's tail begins: after ``</sheetData>`` and the empty
    ``<sheetProtection …/>`` that follows it (its password hash differs in every copy).

    Found by searching the bytes, then *confirmed by the parser*: the one ``sheetData`` start
    tag expat reported is at ``data_start``, its end tag at ``data_end``, and the protection
    tag, if any, right after it. The parser's state at ``split`` is then the state it had at
    ``data_start`` — a function of the bytes before it — and the handler has no element open.
    So the tail's effect (merged ranges, validations, protection, each a function of those
    bytes and the tail's bytes) can be remembered under the digest of both.
    """

    data_start: int
    data_end: int
    protection: int  # offset of <sheetProtection, or -1
    split: int
    prefix: bytes
    rest: bytes

    @staticmethod
    def find(content: bytes) -> _Tail | None:
        data_start = content.find(b"<sheetData")
        data_end = content.find(b"</sheetData>", data_start)
        if data_start < 0 or data_end < 0:
            return None
        split = data_end + len(b"</sheetData>")
        protection = -1
        tag = _PROTECTION_TAG.match(content, split)
        if tag is not None:
            protection, split = split, tag.end()
        prefix = content[:data_start]
        return _Tail(data_start, data_end, protection, split, prefix, content[split:])

    def confirmed_by(self, handler: _SheetPart) -> bool:
        return (
            handler.data_starts == 1
            and handler.data_start_at == self.data_start
            and handler.data_end_at == self.data_end
            and handler.protection_at == self.protection
            and handler.protections == int(self.protection >= 0)
            and handler.clean()
        )

    def digest(self) -> bytes:
        hashed = blake2b(digest_size=20)
        hashed.update(len(self.prefix).to_bytes(8, "little"))
        hashed.update(self.prefix)
        hashed.update(self.rest)
        return hashed.digest()


@dataclass(frozen=True)
class _TailEffect:
    """What parsing a worksheet's tail did to the sheet."""

    merged: tuple[str, ...]
    validations: tuple[tuple[str, str, str], ...]
    ranges: int
    protected: bool | None  # the last protection tag's setting, None when it has none

    @staticmethod
    def record(handler: _SheetPart, parse_tail: Callable[[], None]) -> _TailEffect | None:
        """Parse the tail with ``handler`` and say what it did; None when the tail also
        touched cells (a file no application writes): then it is not remembered."""
        sheet = handler.sheet
        before = handler.tail_state()
        merged, validations = len(sheet.merged), len(sheet.validations)
        ranges, protections = handler.ranges, handler.protections
        parse_tail()
        if handler.tail_state() != before:
            return None
        return _TailEffect(
            tuple(sheet.merged[merged:]),
            tuple(sheet.validations[validations:]),
            handler.ranges - ranges,
            sheet.protected if handler.protections > protections else None,
        )

    def apply(self, handler: _SheetPart) -> None:
        handler._count_ranges(self.ranges)
        handler.sheet.merged.extend(self.merged)
        handler.sheet.validations.extend(self.validations)
        if self.protected is not None:
            handler.sheet.protected = self.protected


class _PartHandler(Protocol):
    def start(self, name: str, attrs: dict[str, str]) -> None: ...
    def end(self, name: str) -> None: ...

    @property
    def data(self) -> Callable[[str], None] | None: ...


_Handler = TypeVar("_Handler", bound=_PartHandler)

_REMEMBER_MAX_BYTES: Final = 1 << 20  # parts up to this size are read whole and remembered
_REMEMBER_PARTS: Final = 256  # a few parts per template: forgotten all at once past this
_REMEMBERED: dict[tuple[str, Limits, bytes], object] = {}


def _remember(key: tuple[str, Limits, bytes], value: object) -> None:
    if len(_REMEMBERED) >= _REMEMBER_PARTS:
        _REMEMBERED.clear()
    _REMEMBERED[key] = value


class _Reader:
    def __init__(self, archive: zipfile.ZipFile, limits: Limits) -> None:
        self.zip = archive
        self.limits = limits
        self.total = 0
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            key = info.filename.lower()
            if key in self.infos:
                raise _error("read-corrupt-zip", f"部件 {info.filename} 出现了两次")
            self.infos[key] = info

    # -- parts -----------------------------------------------------------------------------

    def info(self, name: str) -> zipfile.ZipInfo | None:
        """The entry of part ``name`` (OPC part names are case-insensitive; targets in .rels
        may be percent-encoded)."""
        key = name.lstrip("/").lower()
        found = self.infos.get(key)
        if found is None and "%" in key:
            found = self.infos.get(unquote(key))
        return found

    def require(self, name: str, detail: str = "") -> zipfile.ZipInfo:
        info = self.info(name)
        if info is None:
            raise _error("read-missing-part", detail, part=name)
        return info

    def check_declared(self, infos: list[zipfile.ZipInfo]) -> None:
        """Refuse, before inflating anything, parts whose declared sizes pass a limit."""
        limits = self.limits
        total = self.total
        for info in infos:
            name = info.filename
            if info.flag_bits & 0x1:
                raise _error("read-encrypted", f"部件 {name} 用 zip 密码加密")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _error(
                    "read-corrupt-zip",
                    f"部件 {name} 使用了不支持的压缩方式（{info.compress_type}）",
                )
            self._check_size(name, info.file_size, info.compress_size, "声明")
            total += info.file_size
            if total > limits.max_total_inflated_bytes:
                raise _error(
                    "read-zip-bomb",
                    f"需读取的部件声明共 {_size(total)}，"
                    f"超过上限 {_size(limits.max_total_inflated_bytes)}",
                )

    def _check_size(self, name: str, size: int, compressed: int, how: str) -> None:
        limits = self.limits
        if size > limits.max_part_inflated_bytes:
            raise _error(
                "read-zip-bomb",
                f"{how}解压后 {_size(size)}，超过单个部件上限 "
                f"{_size(limits.max_part_inflated_bytes)}",
                part=name,
            )
        if size > limits.ratio_min_bytes and size > limits.max_ratio * max(compressed, 1):
            raise _error(
                "read-zip-bomb",
                f"{how}压缩比 {size / max(compressed, 1):,.0f}:1，超过上限 {limits.max_ratio:g}:1",
                part=name,
            )

    def parse(
        self,
        info: zipfile.ZipInfo,
        start: Callable[[str, dict[str, str]], None],
        end: Callable[[str], None],
        data: Callable[[str], None] | None = None,
        handler: _SheetPart | None = None,
    ) -> None:
        """Inflate ``info`` chunk by chunk, counting real bytes, and stream it through expat.
        A sheet ``handler`` is given the parser, to switch its handlers off where it skips."""
        self.check_declared([info])
        parser = _expat(start, end, data)
        if handler is not None:
            handler.parser = parser
        with self._errors_named(info.filename):
            for chunk in self._chunks(info):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)

    def parse_remembered(
        self, info: zipfile.ZipInfo, kind: str, make: Callable[[], _Handler]
    ) -> _Handler:
        """Parse a small part with a fresh handler from ``make`` — or hand back the handler of
        an earlier parse of the very same bytes under the same limits. The relationships,
        workbook part and styles of every return of a template are byte-identical, and a
        parse is a function of the bytes alone: only the bytes' BLAKE2 digest is computed
        again. The handlers handed back are shared: they are only read after parsing."""
        content = self._small(info)
        if content is None:
            handler = make()
            self.parse(info, handler.start, handler.end, handler.data)
            return handler
        key = (kind, self.limits, blake2b(content, digest_size=20).digest())
        found = _REMEMBERED.get(key)
        if found is not None:
            return cast(_Handler, found)
        handler = make()
        parser = _expat(handler.start, handler.end, handler.data)
        with self._errors_named(info.filename):
            parser.Parse(content, True)
        _remember(key, handler)
        return handler

    def parse_sheet(self, info: zipfile.ZipInfo, handler: _SheetPart) -> None:
        """Parse a worksheet part. What follows its cells — merged ranges, conditional
        formats, data validations: half of a form's bytes, the same in every return of a
        template — is parsed once and remembered; see :class:`_Tail`."""
        content = self._small(info)
        if content is None:
            self.parse(info, handler.start, handler.end, handler.data, handler)
            return
        parser = _expat(handler.start, handler.end, handler.data)
        handler.parser = parser
        with self._errors_named(info.filename):
            tail = _Tail.find(content)
            if tail is None:
                parser.Parse(content, True)
                return
            parser.Parse(content[: tail.split], False)
            if not tail.confirmed_by(handler):
                parser.Parse(content[tail.split :], True)
                return
            key = ("sheet-tail", self.limits, tail.digest())
            effect = _REMEMBERED.get(key)
            if isinstance(effect, _TailEffect):
                effect.apply(handler)
                return
            effect = _TailEffect.record(handler, lambda: parser.Parse(content[tail.split :], True))
            if effect is not None:
                _remember(key, effect)

    def parse_strings(self, info: zipfile.ZipInfo, strings: _SharedStrings) -> None:
        """The shared strings: a small table of plain and rich strings is built by the C
        ElementTree parser (twice as fast as Python callbacks for every ``<si>`` and ``<t>``);
        anything else, or anything it cannot take, goes the streaming way."""
        content = self._small(info)
        if content is None:
            self.parse(info, strings.start, strings.end, strings.data)
            return
        with self._errors_named(info.filename):
            found = _simple_strings(content)
            if found is None:
                _expat(strings.start, strings.end, strings.data).Parse(content, True)
                return
        if len(found) > strings.max_strings:
            raise _error("read-too-large", f"共享字符串超过 {strings.max_strings:,} 个")
        strings.strings = found

    def _small(self, info: zipfile.ZipInfo) -> bytes | None:
        """The whole inflated content of a part small enough to be read at once (and then
        remembered or parsed in pieces), checked like a stream; None for a larger part, which
        is streamed."""
        if info.file_size > _REMEMBER_MAX_BYTES:
            return None
        self.check_declared([info])
        with self._errors_named(info.filename):
            return b"".join(self._chunks(info))

    def _chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The inflated bytes of ``info``, a chunk at a time, each checked against the size,
        ratio and total limits before it is handed on."""
        name = info.filename
        produced = 0
        limits = self.limits
        with self.zip.open(info) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    return
                produced += len(chunk)
                self.total += len(chunk)
                self._check_size(name, produced, info.compress_size, "实际")
                if self.total > limits.max_total_inflated_bytes:
                    raise _error(
                        "read-zip-bomb",
                        f"已解压 {_size(self.total)}，超过上限 "
                        f"{_size(limits.max_total_inflated_bytes)}",
                    )
                yield chunk

    @staticmethod
    @contextmanager
    def _errors_named(name: str) -> Iterator[None]:
        """Whatever inflating or parsing part ``name`` raises, as a WorkbookReadError."""
        try:
            yield
        except WorkbookReadError:
            raise
        except DefusedXmlException as exc:
            raise _error("read-xml-unsafe", type(exc).__name__, part=name) from exc
        except ExpatError as exc:
            raise _error("read-xml-malformed", f"XML 错误：{exc}", part=name) from exc
        except _Malformed as exc:
            raise _error("read-xml-malformed", str(exc), part=name) from exc
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
            raise _error("read-corrupt-zip", str(exc), part=name) from exc
        except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required"
            raise _error("read-encrypted", str(exc), part=name) from exc
        # LookupError: expat looks up the encoding a part declares (encoding="true"), and an
        # unknown one ended in an internal error. It also covers IndexError and KeyError.
        except (ValueError, LookupError, TypeError, OverflowError) as exc:
            raise _error("read-xml-malformed", f"{type(exc).__name__}: {exc}", part=name) from exc

    def rels(self, part: str, required: bool) -> _Rels:
        folder, base = posixpath.split(part)
        path = posixpath.join(folder, "_rels", f"{base}.rels")
        info = self.info(path) if not required else self.require(path)
        return _Rels() if info is None else self.parse_remembered(info, "rels", _Rels)

    @staticmethod
    def target(source: str, target: str) -> str:
        """The part name a relationship of ``source`` points at."""
        if target.startswith("/"):
            return posixpath.normpath(target).lstrip("/")
        return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")

    # -- the workbook ----------------------------------------------------------------------

    def check_package(self) -> None:
        """Every part's declared size, ratio, compression and encryption, and their declared
        total: the checked copy copies every part, so a bomb in a part the checker itself
        never reads (a 5 GB "thumbnail") must be refused here too."""
        total = 0
        for info in self.zip.infolist():
            self.check_declared([info])
            total += info.file_size
            if total > self.limits.max_total_inflated_bytes:
                raise _error(
                    "read-zip-bomb",
                    f"各部件声明解压后共 {_size(total)}，"
                    f"超过上限 {_size(self.limits.max_total_inflated_bytes)}",
                )

    def read(self, skip_sheets: frozenset[str] = frozenset()) -> RawWorkbook:
        limits = self.limits
        self.check_package()
        names = [info.filename for info in self.zip.infolist()]
        lowered = [name.lower() for name in names]

        # the workbook part: from the package relationships, else where Excel puts it
        workbook_name = "xl/workbook.xml"
        package = self.rels("", required=False) if self.info("_rels/.rels") else _Rels()
        documents = package.of_type("/officeDocument")
        if documents:
            workbook_name = self.target("", documents[0][1])
        if self.info(workbook_name) is None or workbook_name.lower() in _OTHER_MAIN_PARTS:
            # Another format in a zip is a wrong attachment, not a damaged workbook: say which
            # (a message about a "missing part" sent clerks looking for damage).
            other = _other_format(lowered)
            if other:
                raise _error("read-wrong-format", other)
            raise _error("read-missing-part", part=workbook_name)

        wb_rels = self.rels(workbook_name, required=True)
        book = self.parse_remembered(
            self.require(workbook_name), "workbook", lambda: _WorkbookPart(limits)
        )
        if len(book.sheets) > limits.max_sheets:
            raise _error(
                "read-too-large",
                f"工作簿有 {len(book.sheets):,} 个工作表（上限 {limits.max_sheets:,}）",
            )
        if not book.sheets:
            raise _error("read-xml-malformed", "工作簿没有任何工作表", part=workbook_name)

        # plan every part to read and check their declared sizes together, before inflating
        planned: list[tuple[RawSheet, zipfile.ZipInfo]] = []
        seen: set[str] = set()
        for sheet_name, state, rid in book.sheets:
            if not sheet_name or sheet_name.casefold() in seen:  # Excel requires unique names
                raise _error(
                    "read-xml-malformed",
                    f"工作表名称 “{sheet_name[:40]}” 为空或重复",
                    part=workbook_name,
                )
            seen.add(sheet_name.casefold())
            relation = wb_rels.by_id.get(rid)
            if relation is None or relation[2] == "External":
                raise _error(
                    "read-missing-part",
                    f"工作表 “{sheet_name}” 的关系 {rid or '（无）'} 不存在",
                    part=f"{workbook_name} → {rid}",
                )
            kind = next((k for s, k in _SHEET_KINDS.items() if relation[0].endswith(s)), "")
            part = self.target(workbook_name, relation[1])
            info = self.require(part, f"工作表 “{sheet_name}”")
            if state not in _SHEET_STATES:
                raise _error(
                    "read-xml-malformed",
                    f"工作表 “{sheet_name}” 的状态 “{state[:20]}” 无效",
                    part=workbook_name,
                )
            sheet = RawSheet(sheet_name, state, kind=kind or "worksheet", part=info.filename)
            sheet.parsed = sheet_name not in skip_sheets
            planned.append((sheet, info))
        shared = [self.target(workbook_name, t) for _, t in wb_rels.of_type("/sharedStrings")]
        styles = [self.target(workbook_name, t) for _, t in wb_rels.of_type("/styles")]
        sst_info = self.info(shared[0]) if shared else None
        styles_info = self.info(styles[0]) if styles else None
        self.check_declared(
            [i for i in (sst_info, styles_info) if i is not None]
            + [i for sheet, i in planned if sheet.parsed]
        )

        strings = _SharedStrings(limits.max_shared_strings)
        if sst_info is not None:
            self.parse_strings(sst_info, strings)
        style_part = _Styles()
        if styles_info is not None:
            style_part = self.parse_remembered(styles_info, "styles", _Styles)

        if len(_CELLS) > _CELLS_LIMIT:
            _CELLS.clear()
        sheets: list[RawSheet] = []
        budget = _Budget(limits)
        for sheet, info in planned:
            if not sheet.parsed:
                sheets.append(sheet)
                continue
            handler = _SheetPart(sheet, strings.strings, limits.max_cells_per_sheet, _CELLS, budget)
            self.parse_sheet(info, handler)
            handler.finish()
            sheets.append(sheet)

        defined, local = book.scoped_names()
        application = book.app_name
        # Strict Open XML names the relationship "extendedProperties"
        for _, target in package.of_type("/extended-properties") + package.of_type(
            "/extendedProperties"
        ):
            app_info = self.info(self.target("", target))
            if app_info is None:
                continue
            try:
                found = self.parse_remembered(app_info, "app", _AppProperties).application
            except WorkbookReadError as error:
                # a damaged app.xml is no reason to refuse the form (it only names the
                # application); a bomb there still is
                if error.code not in ("read-corrupt-zip", "read-xml-malformed"):
                    raise
                found = ""
            application = found or application
        saved = self.saved_time(package)

        macro_sheets = any(sheet.kind == "macrosheet" for sheet in sheets)
        return RawWorkbook(
            sheets=sheets,
            names=defined,
            structure_locked=book.structure_locked,
            locked_styles=style_part.locked,
            has_macros=macro_sheets
            or any(
                n.endswith("vbaproject.bin") or n.startswith("xl/macrosheets/") for n in lowered
            ),
            external_links=sorted(
                name
                for name, low in zip(names, lowered, strict=True)
                if low.startswith("xl/externallinks/")
                and "/_rels/" not in low
                and not low.endswith("/")
            ),
            local_names=local,
            parts=names,
            application=application,
            saved=saved,
            shared_strings=strings.strings,
        )

    def saved_time(self, package: _Rels) -> str:
        """docProps/core.xml's ``dcterms:modified``; "" when absent or damaged (it only
        dates the file; a bomb there is still refused). Parsed fresh: it differs per file."""
        for _, target in package.of_type("/core-properties"):
            info = self.info(self.target("", target))
            if info is None:
                continue
            handler = _CoreProperties()
            try:
                self.parse(info, handler.start, handler.end, handler.data)
            except WorkbookReadError as error:
                if error.code not in ("read-corrupt-zip", "read-xml-malformed"):
                    raise
                return ""
            return handler.modified
        return ""
