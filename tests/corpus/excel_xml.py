"""Rewrite an xlsx package into the shapes Excel and WPS write (see :data:`EXCEL_FEATURES`).

The shapes follow ECMA-376 and files those applications saved, as XlsxWriter's and openpyxl's
tests show them; no Excel runs here. Each feature can be applied alone (a failure then names
it) or all together (:data:`EXCEL`, :data:`WPS`, :data:`STRICT`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from openpyxl.formula.translate import Translator

from xltools.cellref import a1, parse_a1

from .ooxml import (
    MC,
    X14,
    X14_DV_URI,
    X14AC,
    X15AC,
    XM,
    XR,
    Package,
    children,
    first_child,
    ns_of,
    q,
)

#: feature -> what it writes, as Excel (or WPS) does
EXCEL_FEATURES: dict[str, str] = {
    "cached": 'cached results: t=str for text (t=str with <v></v> for ""), t=e errors, t=b',
    "shared-strings": "a sharedStrings part (rich runs, readings, phonetic properties)",
    "shared-formulas": "formulas as <f t=shared ref= si=> masters (+ children where filled)",
    "calc-chain": "xl/calcChain.xml listing every formula cell",
    "sha512": "SHA-512 protection hashes on sheets and the workbook (lockStructure kept)",
    "dv-merged": "identical validations as one, its sqref the cells' ranges (D14:D16 D18)",
    "x14-validations": "list validations into <extLst><x14:dataValidations> with <xm:sqref>",
    "no-refs": "<row> and <c> without r= where it follows from the previous one",
    "prefixed": "the main namespace under the x: prefix in every part",
    "ignorable": "mc:Ignorable, x14ac:dyDescent, xr:uid, mc:AlternateContent, fileVersion",
    "xlfn-names": "hidden <definedName name=_xlfn.…>#NAME?</definedName> as Excel keeps them",
    "app-excel": "docProps/app.xml naming Microsoft Excel",
    "app-wps": "docProps/app.xml and custom.xml as WPS Office writes them",
    "iso-dates": "date cells as t=d ISO 8601 text, as Excel writes them in Strict Open XML",
}
# Excel and WPS always write r= (rows and cells without it come from other writers)
EXCEL = tuple(f for f in EXCEL_FEATURES if f not in ("app-wps", "no-refs", "iso-dates"))
STRICT = (*EXCEL, "iso-dates")  # with strict=True: "Strict Open XML 电子表格"
WPS = tuple(f for f in EXCEL if f not in ("app-excel", "calc-chain", "prefixed")) + ("app-wps",)


@dataclass
class Stats:
    """What a rewrite actually wrote: a test can tell a variant is not vacuous."""

    shared_masters: int = 0
    shared_children: int = 0
    cached: dict[str, int] | None = None
    x14: int = 0
    refless: int = 0
    iso_dates: int = 0
    dv_ranges: int = 0  # merged validations whose sqref holds a range

    def count(self, kind: str) -> None:
        self.cached = self.cached or {}
        self.cached[kind] = self.cached.get(kind, 0) + 1


def excel_style(
    source: Path,
    target: Path,
    features: Iterable[str],
    *,
    cached: dict[str, dict[str, tuple[str, Any]]] | None = None,
    strict: bool = False,
    fill_down: tuple[str, str, str] | None = None,
    dates: dict[str, set[str]] | None = None,
) -> Stats:
    """Rewrite ``source``'s package into ``target`` with ``features`` (keys of
    :data:`EXCEL_FEATURES`); ``strict`` then moves it to the Strict Open XML namespaces.
    ``fill_down`` = (sheet, master cell, child cell): the child becomes a shared-formula child
    of the master, as Excel writes a formula filled down over a cell. ``dates`` (sheet ->
    cells, :func:`date_cells`) are the cells "iso-dates" writes as dates."""
    features = set(features)
    unknown = features - set(EXCEL_FEATURES)
    assert not unknown, unknown
    with zipfile.ZipFile(source) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    package = Package(parts)
    stats = Stats()
    workbook = package.workbook()
    sheets = package.sheets()
    strings = package.shared_strings() if "shared-strings" in features else []
    for order, (name, part) in enumerate(sheets, start=1):
        root = package.xml(part)
        if cached is not None and "cached" in features:
            _cache(root, cached.get(name, {}), stats)
        if "iso-dates" in features:
            _iso_dates(root, (dates or {}).get(name, set()), stats)
        if "shared-formulas" in features:
            _share(root, stats, fill_down[1:] if fill_down and fill_down[0] == name else None)
        if "shared-strings" in features:
            _intern_strings(root, strings)
        if "dv-merged" in features:
            _merge_validations(root, stats)
        if "x14-validations" in features:
            _x14_validations(root, package.names(workbook), stats)
        if "sha512" in features:
            _hash_sheet(root)
        if "ignorable" in features:
            _ignorable_sheet(root, order)
        if "no-refs" in features:
            _drop_refs(root, stats)
        package.put(part, root)
    if "shared-strings" in features and strings:
        package.add_shared_strings(strings)
    wb_root = package.xml(workbook)
    if "sha512" in features:
        _hash_workbook(wb_root)
    if "ignorable" in features:
        _ignorable_workbook(wb_root)
    if "xlfn-names" in features:
        _xlfn_names(wb_root)
    package.put(workbook, wb_root)
    if "calc-chain" in features:
        package.add_calc_chain(sheets)
    if "prefixed" in features:  # every SpreadsheetML part: the styles too
        for part in package.parts:
            if part.startswith("xl/") and part.endswith(".xml"):
                package.xml(part)
    if "app-excel" in features:
        package.set_application("Microsoft Excel", wps=False)
    if "app-wps" in features:
        package.set_application(
            "WPS Office_11.1.0.11744_F1E327BC-269C-435d-A152-05C5408002CA", wps=True
        )
    if strict:
        package.to_strict()
    package.write(target, main_prefix="x" if "prefixed" in features else "")
    return stats


_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")


def _cache(sheet: ElementTree.Element, values: dict[str, tuple[str, Any]], stats: Stats) -> None:
    """Each formula's result where Excel puts it: ``<v>`` after ``<f>``, typed."""
    ns = ns_of(sheet)
    for c in sheet.iter(q("c", ns)):
        f = first_child(c, "f")
        if f is None:
            continue
        for v in children(c, "v"):
            c.remove(v)
        kind, value = values.get(c.get("r", ""), ("n", None))
        c.attrib.pop("t", None)
        v = ElementTree.SubElement(c, q("v", ns))
        if value is None:  # a "" result: openpyxl reads t="str" <v></v> as None
            c.set("t", "str")
            v.text = ""
            stats.count("empty")
        elif kind == "e" or (isinstance(value, str) and value in _ERRORS):
            c.set("t", "e")
            v.text = str(value)
            stats.count("e")
        elif isinstance(value, bool):
            c.set("t", "b")
            v.text = "1" if value else "0"
            stats.count("b")
        elif isinstance(value, str):
            c.set("t", "str")
            v.text = value
            stats.count("str")
        else:
            v.text = repr(float(value)) if isinstance(value, float) else str(value)
            stats.count("n")


def _iso_dates(sheet: ElementTree.Element, refs: set[str], stats: Stats) -> None:
    """A date's serial number as Excel's Strict files hold it: ``<c t="d"><v>2024-10-17T00:00:00``."""
    for c in sheet.iter(q("c", ns_of(sheet))):
        v = first_child(c, "v")
        if c.get("r") not in refs or v is None or c.get("t", "n") != "n" or not v.text:
            continue
        serial = float(v.text)
        moment = dt.datetime(1899, 12, 30) + dt.timedelta(days=serial)
        c.set("t", "d")
        v.text = moment.isoformat(timespec="seconds")
        stats.iso_dates += 1


def _share(sheet: ElementTree.Element, stats: Stats, fill_down: tuple[str, str] | None) -> None:
    """Write formulas as Excel writes a filled range: the first cell carries the text and the
    range, the others ``<f t="shared" si=".."/>``. Runs down a column whose formulas are
    translations of the first (openpyxl's Translator decides, not the reader under test) are
    grouped; every other formula is a one-cell master."""
    ns = ns_of(sheet)
    cells = {c.get("r", ""): c for c in sheet.iter(q("c", ns)) if first_child(c, "f") is not None}
    if fill_down is not None:
        master, child = fill_down
        above, over = first_child(cells[master], "f"), first_child(cells[child], "f")
        assert above is not None and over is not None
        text = Translator("=" + (above.text or ""), origin=master).translate_formula(child)
        over.text = text[1:]
    done: set[str] = set()
    si = 0
    for ref in sorted(cells, key=lambda r: parse_a1(r)[::-1]):  # column by column
        if ref in done:
            continue
        f = first_child(cells[ref], "f")
        assert f is not None
        text = f.text or ""
        if f.get("t"):  # array or data-table formulas stay as they are
            continue
        row, col = parse_a1(ref)
        run = [ref]
        translator = None
        while True:
            below = a1(row + len(run), col)
            g = first_child(cells[below], "f") if below in cells else None
            if g is None or g.get("t") or _CELLS.sub("", text) != _CELLS.sub("", g.text or ""):
                break  # (a translation changes cell references only: a quick first test)
            translator = translator or Translator("=" + text, origin=ref)
            if translator.translate_formula(below)[1:] != g.text:
                break
            run.append(below)
        f.set("t", "shared")
        f.set("ref", f"{ref}:{run[-1]}" if len(run) > 1 else ref)
        f.set("si", str(si))
        stats.shared_masters += 1
        for child in run[1:]:
            g = first_child(cells[child], "f")
            assert g is not None
            g.text = None
            g.attrib.clear()
            g.set("t", "shared")
            g.set("si", str(si))
            stats.shared_children += 1
        done.update(run)
        si += 1


_CELLS = re.compile(r"\$?[A-Z]{1,3}\$?[0-9]+")


def _intern_strings(sheet: ElementTree.Element, strings: list[str]) -> None:
    ns = ns_of(sheet)
    index = {s: i for i, s in enumerate(strings)}
    for c in sheet.iter(q("c", ns)):
        if c.get("t") != "inlineStr":
            continue
        inline = first_child(c, "is")
        text = "".join(t.text or "" for t in inline.iter(q("t", ns))) if inline is not None else ""
        if inline is not None:
            c.remove(inline)
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        c.set("t", "s")
        ElementTree.SubElement(c, q("v", ns)).text = str(index[text])


def _x14_validations(sheet: ElementTree.Element, names: dict[str, str], stats: Stats) -> None:
    """List validations that read another sheet go where Excel 2010+ writes them: the x14
    extension, with the range itself instead of the name."""
    ns = ns_of(sheet)
    holder = first_child(sheet, "dataValidations")
    if holder is None:
        return
    moved = []
    for dv in children(holder, "dataValidation"):
        formula = first_child(dv, "formula1")
        text = (formula.text or "").strip() if formula is not None else ""
        if dv.get("type") != "list" or text.removeprefix("=") not in names:
            continue
        moved.append((dv, names[text.removeprefix("=")]))
    if not moved:
        return
    x14 = ElementTree.Element(q("dataValidations", X14), {"count": str(len(moved))})
    for dv, reference in moved:
        holder.remove(dv)
        attrs = {k: v for k, v in dv.attrib.items() if k != "sqref"}
        item = ElementTree.SubElement(x14, q("dataValidation", X14), attrs)
        f1 = ElementTree.SubElement(item, q("formula1", X14))
        ElementTree.SubElement(f1, q("f", XM)).text = reference
        ElementTree.SubElement(item, q("sqref", XM)).text = dv.get("sqref", "")
        stats.x14 += 1
    left = children(holder, "dataValidation")
    if left:
        holder.set("count", str(len(left)))
    else:
        sheet.remove(holder)
    ext_list = first_child(sheet, "extLst")
    if ext_list is None:
        ext_list = ElementTree.SubElement(sheet, q("extLst", ns))
    ext = ElementTree.SubElement(ext_list, q("ext", ns), {"uri": X14_DV_URI})
    ext.append(x14)


def _merge_validations(sheet: ElementTree.Element, stats: Stats) -> None:
    """Excel keeps one record per distinct validation: the cells of identical ones (same
    attributes and formulas but the sqref) are listed together, runs down a column as ranges."""
    holder = first_child(sheet, "dataValidations")
    if holder is None:
        return
    groups: dict[bytes, list[ElementTree.Element]] = {}
    for dv in children(holder, "dataValidation"):
        attrs = {k: v for k, v in dv.attrib.items() if k != "sqref"}
        key = ElementTree.tostring(ElementTree.Element("k", attrs)) + b"".join(
            ElementTree.tostring(kid) for kid in dv
        )
        groups.setdefault(key, []).append(dv)
    for group in groups.values():
        if len(group) < 2:
            continue
        refs = sorted(
            (parse_a1(r) for dv in group for r in dv.get("sqref", "").split() if ":" not in r),
            key=lambda rc: (rc[1], rc[0]),
        )
        areas: list[list[tuple[int, int]]] = []
        for rc in refs:
            if areas and areas[-1][-1] == (rc[0] - 1, rc[1]):
                areas[-1].append(rc)
            else:
                areas.append([rc])
        sqref = " ".join(
            a1(*run[0]) + (f":{a1(*run[-1])}" if len(run) > 1 else "") for run in areas
        )
        stats.dv_ranges += sum(len(run) > 1 for run in areas)
        group[0].set("sqref", sqref)
        for dv in group[1:]:
            holder.remove(dv)
    holder.set("count", str(len(children(holder, "dataValidation"))))


def excel_hash(password: str, salt: bytes, spin: int = 100_000) -> str:
    """ECMA-376 agile password hash (what Excel 2013+ writes): SHA-512 of salt + UTF-16LE
    password, then ``spin`` rounds of SHA-512 of hash + little-endian round number."""
    digest = hashlib.sha512(salt + password.encode("utf-16-le")).digest()
    for i in range(spin):
        digest = hashlib.sha512(digest + i.to_bytes(4, "little")).digest()
    return base64.b64encode(digest).decode()


_SALT = bytes(range(16))
_HASH: list[str] = []


def _hash() -> tuple[str, str]:
    if not _HASH:  # 100,000 rounds: once a run
        _HASH.append(excel_hash("示例口令", _SALT))
    return _HASH[0], base64.b64encode(_SALT).decode()


def _hash_sheet(sheet: ElementTree.Element) -> None:
    protection = first_child(sheet, "sheetProtection")
    if protection is None:
        return
    value, salt = _hash()
    protection.attrib.pop("password", None)
    attrs = {
        "algorithmName": "SHA-512",
        "hashValue": value,
        "saltValue": salt,
        "spinCount": "100000",
    }
    attrs.update(protection.attrib)
    protection.attrib.clear()
    protection.attrib.update(attrs)


def _hash_workbook(workbook: ElementTree.Element) -> None:
    protection = first_child(workbook, "workbookProtection")
    if protection is None:
        return
    value, salt = _hash()
    protection.attrib.pop("workbookPassword", None)
    protection.attrib.update(
        {
            "workbookAlgorithmName": "SHA-512",
            "workbookHashValue": value,
            "workbookSaltValue": salt,
            "workbookSpinCount": "100000",
        }
    )


def _ignorable_sheet(sheet: ElementTree.Element, order: int) -> None:
    sheet.set(q("Ignorable", MC), "x14ac xr xr2 xr3")
    sheet.set(q("uid", XR), f"{{00000000-0001-0000-{order:04X}-000000000000}}")
    fmt = first_child(sheet, "sheetFormatPr")
    if fmt is not None:
        fmt.set(q("dyDescent", X14AC), "0.25")
    for row in sheet.iter(q("row", ns_of(sheet))):
        row.set(q("dyDescent", X14AC), "0.25")


def _ignorable_workbook(workbook: ElementTree.Element) -> None:
    ns = ns_of(workbook)
    workbook.set(q("Ignorable", MC), "x15 xr xr6 xr10 xr2")
    version = ElementTree.Element(
        q("fileVersion", ns),
        {"appName": "xl", "lastEdited": "7", "lowestEdited": "7", "rupBuild": "27328"},
    )
    workbook.insert(0, version)
    alternate = ElementTree.Element(q("AlternateContent", MC))
    choice = ElementTree.SubElement(alternate, q("Choice", MC), {"Requires": "x15"})
    ElementTree.SubElement(choice, q("absPath", X15AC), {"url": "C:\\Users\\填报人\\Desktop\\"})
    at = next(i for i, k in enumerate(workbook) if k.tag.endswith("}bookViews"))
    workbook.insert(at, alternate)


def _xlfn_names(workbook: ElementTree.Element) -> None:
    ns = ns_of(workbook)
    holder = first_child(workbook, "definedNames")
    assert holder is not None
    for name in ("_xlfn.IFS", "_xlfn.CONCAT"):
        ElementTree.SubElement(
            holder, q("definedName", ns), {"name": name, "hidden": "1"}
        ).text = "#NAME?"
    # Excel sorts names case-insensitively, the _xlfn ones among them
    holder[:] = sorted(holder, key=lambda d: d.get("name", "").lower())


def _drop_refs(sheet: ElementTree.Element, stats: Stats) -> None:
    """Leave out r= where a reader can count it (the next row, the next column)."""
    ns = ns_of(sheet)
    data = first_child(sheet, "sheetData")
    assert data is not None
    last_row = 0
    for row in children(data, "row"):
        number = int(row.get("r", last_row + 1))
        if number == last_row + 1 and "r" in row.attrib:
            del row.attrib["r"]
            stats.refless += 1
        last_row = number
        last_col = 0
        for c in row.iter(q("c", ns)):
            _, col = parse_a1(c.get("r", ""))
            if col == last_col:  # 0-based column = the 1-based count so far: the next one
                del c.attrib["r"]
                stats.refless += 1
            last_col = col + 1
