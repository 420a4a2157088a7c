"""The results of reading a workbook — :class:`RawCell`, :class:`RawSheet`,
:class:`RawWorkbook` — and :class:`WorkbookReadError` with its Chinese messages.

Values
------
Numbers are ``float``; shared, inline and formula-result (``t="str"``) strings are ``str``;
booleans ``bool``; errors their code (``"#DIV/0!"``). ``t="d"`` ISO 8601 dates (Excel's Strict
Open XML writes every date so) become the serial number a typed date holds (kind ``"n"``);
one that is no date Excel can show stays text (kind ``"s"``). A cell element without a value is
kind ``"blank"`` with value ``None``; a formula whose cached result is the empty string
(``t="str"`` with an empty ``<v>``, as LibreOffice writes ``=IF(x=0,"",…)``) is kind ``"s"``
with value ``""`` — openpyxl reports ``None`` for both. Excel's ``_xHHHH_`` escapes in strings are decoded, as Excel does.

Locked cells
------------
``RawWorkbook.locked_styles[i]`` is ``False`` only when ``cellXfs`` entry *i* has
``<protection locked="0"/>`` (or ``"false"``), as openpyxl reads it (``applyProtection`` is not
consulted; the cell-style ``cellStyleXfs`` entry is not inherited); a cell whose
style index lies outside ``cellXfs`` counts as locked (:meth:`RawWorkbook.is_locked`).

Errors
------
* **Errors.** Every failure is a :class:`WorkbookReadError` with a stable code and a Chinese
  message saying what is wrong and what to do; no other exception type escapes for any input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .formula import split_reference
from .limits import MB

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
