"""Write cell values and cached formula results into an xlsx package by editing its sheets' XML.

``splice_cells(source, target, edits)`` copies the package ``source`` to ``target`` part by
part; only the worksheets named in ``edits`` change, and in them only the ``<c>`` elements of
the edited cells: an input cell gets its new value (a number, a boolean, an inline string or
nothing), a formula cell keeps its ``<f>`` element byte for byte and gets a new cached ``<v>``
(typed as XlsxWriter types a formula's result, so a filled file reads exactly like a template
the generator wrote with those values). Every other part, and every other byte of an edited
sheet, stays as it was.

The cells are found by their ``r`` attribute in ``<c>`` elements of the default namespace (what
XlsxWriter, Excel, WPS, LibreOffice and openpyxl write); a cell that is not in the XML, or a
formula edit on a cell without a formula, is reported back, not invented, so the caller can
refuse. Every formula cell of an edited sheet that no edit names is reported too: a caller that
promises correct cached results for the whole workbook learns of any it could not give.
"""

from __future__ import annotations

import math
import posixpath
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape

import defusedxml.ElementTree as DefusedET

_MAIN: Final = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL: Final = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG: Final = "{http://schemas.openxmlformats.org/package/2006/relationships}"

# One <c> element: its attributes, and its content unless it is empty (<c …/>). A cell's
# content holds no "</c>" (text is escaped), so the lazy match ends at the cell's own end tag.
_CELL: Final = re.compile(rb"<c\b([^>]*?)(/>|>(.*?)</c>)", re.S)
_REF: Final = re.compile(rb'\sr="([A-Z]{1,3}[0-9]{1,7})"')
_TYPE: Final = re.compile(rb'\st="[^"]*"')
_FORMULA: Final = re.compile(rb"<f\b[^>]*/>|<f\b[^>]*>.*?</f>", re.S)
_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPE_LIKE: Final = re.compile("(_x[0-9A-Fa-f]{4}_)")
ERROR_CODES: Final = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"})

CellValue = float | int | bool | str | None


@dataclass(frozen=True)
class Edit:
    """What one cell becomes: ``formula`` False writes ``value`` as the cell's constant (None:
    no value), True keeps the cell's formula and writes ``value`` as its cached result
    (``""``: an empty result)."""

    value: CellValue
    formula: bool = False


@dataclass
class SpliceResult:
    missing: list[tuple[str, str]] = field(default_factory=list)  # (sheet, ref) not in the XML
    not_formulas: list[tuple[str, str]] = field(default_factory=list)  # formula edit, no <f>
    unknown_formulas: list[tuple[str, str]] = field(default_factory=list)  # <f>, no edit

    @property
    def ok(self) -> bool:
        return not (self.missing or self.not_formulas or self.unknown_formulas)


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part's name in the package (``xl/worksheets/sheet1.xml``)."""
    workbook = _main_part(archive)
    rels_name = posixpath.join(
        posixpath.dirname(workbook), "_rels", posixpath.basename(workbook) + ".rels"
    )
    targets = {}
    for rel in DefusedET.fromstring(archive.read(rels_name)).iter(f"{_PKG}Relationship"):
        target = rel.get("Target", "")
        targets[rel.get("Id", "")] = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(posixpath.dirname(workbook), target))
        )
    parts = {}
    for sheet in DefusedET.fromstring(archive.read(workbook)).iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id", ""))
        if target is not None:
            parts[sheet.get("name", "")] = target
    return parts


def _main_part(archive: zipfile.ZipFile) -> str:
    for rel in DefusedET.fromstring(archive.read("_rels/.rels")).iter(f"{_PKG}Relationship"):
        if rel.get("Type", "").endswith("/officeDocument"):
            return rel.get("Target", "").lstrip("/")
    return "xl/workbook.xml"


def splice_cells(
    source: Path, target: Path, edits: Mapping[str, Mapping[str, Edit]]
) -> SpliceResult:
    """Copy ``source`` to ``target`` with ``edits`` ({sheet name: {"C5": Edit}}) applied; see
    the module docstring. ``target`` is written even when the result is not ``ok``: the caller
    decides whether to keep it."""
    return splice_package(Package.read(source), target, edits)


@dataclass(frozen=True)
class Package:
    """An xlsx package read into memory once, to be spliced many times (``fill`` of many
    data rows into one template reads and parses the template once)."""

    infos: tuple[zipfile.ZipInfo, ...]
    parts: Mapping[str, bytes]
    sheets: Mapping[str, str]  # sheet name -> part name

    @classmethod
    def read(cls, source: Path) -> Package:
        with zipfile.ZipFile(source) as archive:
            infos = tuple(archive.infolist())
            parts = {info.filename: archive.read(info) for info in infos}
            return cls(infos, parts, sheet_parts(archive))


def splice_package(
    package: Package, target: Path, edits: Mapping[str, Mapping[str, Edit]]
) -> SpliceResult:
    """:func:`splice_cells` from a package already in memory."""
    result = SpliceResult()
    changed: dict[str, bytes] = {}
    for sheet, cells in edits.items():
        part = package.sheets.get(sheet)
        if part is None:
            result.missing.extend((sheet, ref) for ref in cells)
            continue
        changed[part] = _edit_sheet(package.parts[part], sheet, cells, result)
    with zipfile.ZipFile(target, "w") as out:
        for info in package.infos:
            data = changed.get(info.filename)
            out.writestr(info, package.parts[info.filename] if data is None else data)
    return result


def _edit_sheet(xml: bytes, sheet: str, cells: Mapping[str, Edit], result: SpliceResult) -> bytes:
    wanted = {ref.encode("ascii"): edit for ref, edit in cells.items()}
    done: set[bytes] = set()

    def replace(match: re.Match[bytes]) -> bytes:
        attrs, content = match.group(1), match.group(3) or b""
        ref_match = _REF.search(attrs)
        ref = ref_match.group(1) if ref_match else b""
        edit = wanted.get(ref)
        formula = _FORMULA.search(content) if b"<f" in content else None
        if edit is None:
            if formula is not None:
                result.unknown_formulas.append((sheet, ref.decode("ascii")))
            return match.group(0)
        done.add(ref)
        if edit.formula:
            if formula is None:
                result.not_formulas.append((sheet, ref.decode("ascii")))
                return match.group(0)
            return _formula_cell(attrs, formula.group(0), edit.value)
        return _value_cell(attrs, edit.value)

    edited = _CELL.sub(replace, xml)
    result.missing.extend((sheet, ref.decode("ascii")) for ref in wanted if ref not in done)
    return edited


def _formula_cell(attrs: bytes, formula: bytes, value: CellValue) -> bytes:
    """As XlsxWriter writes a formula with a cached result: booleans ``t="b"``, error codes
    ``t="e"``, other text ``t="str"``, the empty result an untyped empty ``<v>``."""
    attrs = _TYPE.sub(b"", attrs)
    if isinstance(value, bool):
        kind, text = b' t="b"', "1" if value else "0"
    elif isinstance(value, int | float):
        kind, text = b"", _number(value)
    elif value is None or value == "":
        kind, text = b"", ""
    elif value in ERROR_CODES:
        kind, text = b' t="e"', value
    else:
        kind, text = b' t="str"', _text(value)
    return b"<c" + attrs + kind + b">" + formula + b"<v>" + escape(text).encode() + b"</v></c>"


def _value_cell(attrs: bytes, value: CellValue) -> bytes:
    attrs = _TYPE.sub(b"", attrs)
    if value is None:
        return b"<c" + attrs + b"/>"
    if isinstance(value, bool):
        return b"<c" + attrs + b' t="b"><v>' + (b"1" if value else b"0") + b"</v></c>"
    if isinstance(value, int | float):
        return b"<c" + attrs + b"><v>" + _number(value).encode() + b"</v></c>"
    text = _text(value)
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return (
        b"<c" + attrs + b' t="inlineStr"><is><t' + space.encode() + b">"
        b"" + escape(text).encode() + b"</t></is></c>"
    )


def _number(value: float) -> str:
    """The shortest text that reads back as the same double (Python's repr)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _text(value: str) -> str:
    """Excel's escapes: a literal ``_xHHHH_`` gets its underscore escaped, and characters XML
    cannot hold become ``_xHHHH_``."""
    value = _ESCAPE_LIKE.sub(r"_x005F\1", value)
    return _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
