"""The streaming handlers of a workbook's small parts: relationships (``.rels``), the workbook
part (sheets, defined names, structure protection), ``docProps/app.xml`` and
``docProps/core.xml``, the styles (which ``cellXfs`` entries are locked) and the shared strings —
including :func:`_simple_strings`, the C ElementTree fast path for the shapes applications
write."""

from __future__ import annotations

import re
from typing import Final
from xml.etree import ElementTree

from .expat import _FALSE, _MAIN_NS, _PKG_REL_NS, _REL_NS, _flag, _names, _unescape
from .limits import DEFAULT_LIMITS, Limits
from .model import _error

_SHEET_STATES: Final = frozenset({"visible", "hidden", "veryHidden"})
_SHEET_KINDS: Final = {
    "/worksheet": "worksheet",
    "/chartsheet": "chartsheet",
    "/dialogsheet": "dialogsheet",
    "/xlMacrosheet": "macrosheet",
    "/xlIntlMacrosheet": "macrosheet",
}


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
