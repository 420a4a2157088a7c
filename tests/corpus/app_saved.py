"""Legitimate returns as real applications save them, and the same returns tampered with.

A clerk opens the distributed workbook, types into it and saves it in Excel, WPS, LibreOffice
or Gnumeric. Each application writes its own xlsx: shared strings or inline ones, cached
results or none, SHA-512 protection hashes, x14 validations, prefixed namespaces, even Strict
Open XML. The checker must read every one of them as the original; what a clerk changed
(a formula, a label, a weight, protection, sheets) must show on every save path.

Builders, all batch-friendly (one soffice run converts many files):

* :func:`filled_returns` — each bundled spec's template filled with its bundled example;
* :func:`libreoffice_saved` — a LibreOffice re-save, recalculated or (as a clerk's LibreOffice
  does by default) keeping the cached values;
* :func:`gnumeric_saved` — Gnumeric's ``ssconvert``;
* :func:`openpyxl_saved` — openpyxl load + save (every cached result dropped);
* :func:`excel_style` — the package's XML rewritten into the shapes Excel and WPS write (see
  :data:`EXCEL_FEATURES`), one feature at a time or all together;
* :data:`TAMPERS` — what a clerk does that the checker must catch, as openpyxl edits applied
  before the application's save.

The Excel and WPS shapes are written from their documentation and from files they saved (as
XlsxWriter's and openpyxl's tests show them); no Excel runs here.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import openpyxl
import yaml
from openpyxl.formula.translate import Translator

from xltools.cellref import a1, parse_a1
from xltools.fill import fill_workbook
from xltools.generate import generate_template, layout_spec
from xltools.generate.metadata import LISTS_SHEET, META_SHEET, PANEL_SHEET
from xltools.libreoffice import recalculate, resave
from xltools.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
EXAMPLES = ROOT / "examples"

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
XR = "http://schemas.microsoft.com/office/spreadsheetml/2014/revision"
X15AC = "http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"
# what the prefixes of mc:Ignorable stand for in Excel's files (each must be declared)
IGNORABLE = {
    "x14ac": X14AC,
    "xr": XR,
    "xr2": "http://schemas.microsoft.com/office/spreadsheetml/2015/revision2",
    "xr3": "http://schemas.microsoft.com/office/spreadsheetml/2016/revision3",
    "xr6": "http://schemas.microsoft.com/office/spreadsheetml/2016/revision6",
    "xr10": "http://schemas.microsoft.com/office/spreadsheetml/2016/revision10",
    "x15": "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main",
}
XML_NS = "http://www.w3.org/XML/1998/namespace"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
X14_DV_URI = "{CCE6A557-97BC-4b89-ADB6-D3C6CA3A1D95}"

# prefixes Excel uses; the main namespace is the default one unless a variant says otherwise
PREFIXES = {
    PKG_REL: "",
    CT: "",
    MAIN: "",
    STRICT_MAIN: "",
    REL: "r",
    STRICT_REL: "r",
    MC: "mc",
    X14AC: "x14ac",
    X14: "x14",
    XM: "xm",
    XR: "xr",
    X15AC: "x15ac",
    XML_NS: "xml",
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties": "",
    "http://schemas.openxmlformats.org/package/2006/metadata/core-properties": "cp",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
    **{ns: p for p, ns in IGNORABLE.items()},
}


# --------------------------------------------------------------------------------------------
# Filled returns
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def specs() -> dict[str, Spec]:
    """Every bundled spec that has a bundled example, by template id (loaded once a run)."""
    found = {}
    for path in sorted(SPECS.glob("*.yaml")):
        spec = load_spec(path)
        if (EXAMPLES / f"{spec.template}.yaml").is_file():
            found[spec.template] = spec
    return found


def filled_returns(folder: Path) -> dict[str, Path]:
    """Template id -> its template filled with the bundled example, as ``xltools fill`` does."""
    folder.mkdir(parents=True, exist_ok=True)
    returns = {}
    for template_id, spec in specs().items():
        template = folder / f"{template_id}.template.xlsx"
        generate_template(spec, template)
        data = yaml.safe_load((EXAMPLES / f"{template_id}.yaml").read_text(encoding="utf-8"))
        target = folder / f"{template_id}.xlsx"
        refused = fill_workbook(template, spec, data, target)
        assert refused == [], refused
        template.unlink()
        returns[template_id] = target
    return returns


# --------------------------------------------------------------------------------------------
# Application saves
# --------------------------------------------------------------------------------------------


def libreoffice_saved(paths: list[Path], out: Path, *, recalc: bool) -> list[Path]:
    """One soffice run for all ``paths`` (stems must differ): ``out/<stem>.xlsx``."""
    return (recalculate if recalc else resave)(paths, out)


def ssconvert() -> str | None:
    return shutil.which("ssconvert")


def gnumeric_saved(paths: Iterable[Path], out: Path) -> list[Path]:
    """Gnumeric's save of each file (ssconvert has no batch mode; ~0.15 s a file)."""
    tool = ssconvert()
    assert tool is not None, "ssconvert (Gnumeric) is not installed"
    out.mkdir(parents=True, exist_ok=True)
    targets = []
    for path in paths:
        target = out / path.name
        subprocess.run(
            [tool, "--export-type=Gnumeric_Excel:xlsx2", str(path), str(target)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        targets.append(target)
    return targets


def openpyxl_saved(path: Path, target: Path) -> Path:
    openpyxl.load_workbook(path).save(target)
    return target


# --------------------------------------------------------------------------------------------
# Tampering (openpyxl edits a clerk could make in any application, after unprotecting)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tamper:
    name: str
    code: str  # the finding code it must give
    change: Callable[[Any, Spec], None]
    applies: Callable[[Spec], bool] = lambda spec: True  # the form has what it edits


def _form(spec: Spec) -> Any:
    """The first form sheet's layout: the one a clerk edits."""
    return layout_spec(spec).sheets[0]


def _first(spec: Spec, keep: Callable[[Any], bool]) -> tuple[str, str]:
    sheet = _form(spec)
    cell = next(c for c in sheet.cells if keep(c))
    return sheet.name, a1(cell.row, cell.col)


def _formula_cell(spec: Spec) -> tuple[str, str]:
    return _first(spec, lambda c: c.role == "field" and spec.fields[c.field].formula is not None)


def _is_weight(spec: Spec, c: Any) -> bool:
    """A weight (分值): a number the spec fixes on the form."""
    if c.role != "field":
        return False
    f = spec.fields[c.field]
    return not f.input and f.formula is None and _is_number(f.value)


def _fixed_cell(spec: Spec) -> tuple[str, str]:
    return _first(spec, lambda c: _is_weight(spec, c))


def _has_weight(spec: Spec) -> bool:
    return any(_is_weight(spec, c) for c in _form(spec).cells)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _label_cell(spec: Spec) -> tuple[str, str]:
    return _first(spec, lambda c: c.role == "label" and c.text.strip())


def _overwrite_formula(book: Any, spec: Spec) -> None:
    sheet, ref = _formula_cell(spec)
    book[sheet][ref].value = 42


def _edit_label(book: Any, spec: Spec) -> None:
    sheet, ref = _label_cell(spec)
    book[sheet][ref].value = f"{book[sheet][ref].value}（已修改）"


def _edit_weight(book: Any, spec: Spec) -> None:
    sheet, ref = _fixed_cell(spec)
    book[sheet][ref].value = book[sheet][ref].value + 7


def _unprotect(book: Any, spec: Spec) -> None:
    book[_form(spec).name].protection.sheet = False


def _add_sheet(book: Any, spec: Spec) -> None:
    book.create_sheet("备注")["A1"] = "另附说明"


def _remove_sheet(book: Any, spec: Spec) -> None:
    # the form itself: a template has one form sheet, and what else is there is ours
    del book[_form(spec).name]


def _rename_sheet(book: Any, spec: Spec) -> None:
    book[_form(spec).name].title = "自评表（修改）"


TAMPERS: tuple[Tamper, ...] = (
    Tamper("formula-constant", "tamper-formula-replaced", _overwrite_formula),
    Tamper("label", "tamper-label-changed", _edit_label),
    Tamper("weight", "tamper-fixed-changed", _edit_weight, _has_weight),
    Tamper("unprotected", "tamper-protection-removed", _unprotect),
    Tamper("sheet-added", "tamper-sheet-added", _add_sheet),
    Tamper("sheet-removed", "tamper-sheet-missing", _remove_sheet),
    Tamper("sheet-renamed", "tamper-sheet-renamed", _rename_sheet),
)


def tampered(path: Path, spec: Spec, tamper: Tamper, target: Path) -> Path:
    book = openpyxl.load_workbook(path)
    tamper.change(book, spec)
    book.save(target)
    return target


# --------------------------------------------------------------------------------------------
# Excel- and WPS-style XML
# --------------------------------------------------------------------------------------------

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


def cached_values(path: Path) -> dict[str, dict[str, tuple[str, Any]]]:
    """sheet -> cell -> (openpyxl data type, value) of every cell of a recalculated copy."""
    book = openpyxl.load_workbook(path, data_only=True, read_only=True)  # no merges: 10x faster
    return {
        ws.title: {
            c.coordinate: (c.data_type, c.value)
            for row in ws.iter_rows()
            for c in row
            if getattr(c, "value", None) is not None
        }
        for ws in book.worksheets
    }


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
    package = _Package(parts)
    stats = Stats()
    workbook = package.workbook()
    sheets = package.sheets()
    strings: list[str] = []
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


def _q(local: str, ns: str = MAIN) -> str:
    return f"{{{ns}}}{local}"


def _ns(element: ElementTree.Element) -> str:
    return element.tag[1:].split("}")[0] if element.tag.startswith("{") else ""


def _kids(element: ElementTree.Element, local: str) -> list[ElementTree.Element]:
    return [k for k in element if k.tag.rpartition("}")[2] == local]


def _kid(element: ElementTree.Element, local: str) -> ElementTree.Element | None:
    found = _kids(element, local)
    return found[0] if found else None


_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")


def _cache(sheet: ElementTree.Element, values: dict[str, tuple[str, Any]], stats: Stats) -> None:
    """Each formula's result where Excel puts it: ``<v>`` after ``<f>``, typed."""
    ns = _ns(sheet)
    for c in sheet.iter(_q("c", ns)):
        f = _kid(c, "f")
        if f is None:
            continue
        for v in _kids(c, "v"):
            c.remove(v)
        kind, value = values.get(c.get("r", ""), ("n", None))
        c.attrib.pop("t", None)
        v = ElementTree.SubElement(c, _q("v", ns))
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


def date_cells(spec: Spec) -> dict[str, set[str]]:
    """sheet -> the cells of the spec's date fields."""
    cells: dict[str, set[str]] = {}
    for sheet in layout_spec(spec).sheets:
        for c in sheet.cells:
            if c.role == "field" and spec.fields[c.field].type == "date":
                cells.setdefault(sheet.name, set()).add(a1(c.row, c.col))
    return cells


def _iso_dates(sheet: ElementTree.Element, refs: set[str], stats: Stats) -> None:
    """A date's serial number as Excel's Strict files hold it: ``<c t="d"><v>2024-10-17T00:00:00``."""
    for c in sheet.iter(_q("c", _ns(sheet))):
        v = _kid(c, "v")
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
    ns = _ns(sheet)
    cells = {c.get("r", ""): c for c in sheet.iter(_q("c", ns)) if _kid(c, "f") is not None}
    if fill_down is not None:
        master, child = fill_down
        above, over = _kid(cells[master], "f"), _kid(cells[child], "f")
        assert above is not None and over is not None
        text = Translator("=" + (above.text or ""), origin=master).translate_formula(child)
        over.text = text[1:]
    done: set[str] = set()
    si = 0
    for ref in sorted(cells, key=lambda r: parse_a1(r)[::-1]):  # column by column
        if ref in done:
            continue
        f = _kid(cells[ref], "f")
        assert f is not None
        text = f.text or ""
        if f.get("t"):  # array or data-table formulas stay as they are
            continue
        row, col = parse_a1(ref)
        run = [ref]
        translator = None
        while True:
            below = a1(row + len(run), col)
            g = _kid(cells[below], "f") if below in cells else None
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
            g = _kid(cells[child], "f")
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
    ns = _ns(sheet)
    index = {s: i for i, s in enumerate(strings)}
    for c in sheet.iter(_q("c", ns)):
        if c.get("t") != "inlineStr":
            continue
        inline = _kid(c, "is")
        text = "".join(t.text or "" for t in inline.iter(_q("t", ns))) if inline is not None else ""
        if inline is not None:
            c.remove(inline)
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        c.set("t", "s")
        ElementTree.SubElement(c, _q("v", ns)).text = str(index[text])


def _names(workbook: ElementTree.Element) -> dict[str, str]:
    return {
        d.get("name", ""): d.text or ""
        for d in workbook.iter()
        if d.tag.rpartition("}")[2] == "definedName"
    }


def _x14_validations(sheet: ElementTree.Element, names: dict[str, str], stats: Stats) -> None:
    """List validations that read another sheet go where Excel 2010+ writes them: the x14
    extension, with the range itself instead of the name."""
    ns = _ns(sheet)
    holder = _kid(sheet, "dataValidations")
    if holder is None:
        return
    moved = []
    for dv in _kids(holder, "dataValidation"):
        formula = _kid(dv, "formula1")
        text = (formula.text or "").strip() if formula is not None else ""
        if dv.get("type") != "list" or text.removeprefix("=") not in names:
            continue
        moved.append((dv, names[text.removeprefix("=")]))
    if not moved:
        return
    x14 = ElementTree.Element(_q("dataValidations", X14), {"count": str(len(moved))})
    for dv, reference in moved:
        holder.remove(dv)
        attrs = {k: v for k, v in dv.attrib.items() if k != "sqref"}
        item = ElementTree.SubElement(x14, _q("dataValidation", X14), attrs)
        f1 = ElementTree.SubElement(item, _q("formula1", X14))
        ElementTree.SubElement(f1, _q("f", XM)).text = reference
        ElementTree.SubElement(item, _q("sqref", XM)).text = dv.get("sqref", "")
        stats.x14 += 1
    left = _kids(holder, "dataValidation")
    if left:
        holder.set("count", str(len(left)))
    else:
        sheet.remove(holder)
    ext_list = _kid(sheet, "extLst")
    if ext_list is None:
        ext_list = ElementTree.SubElement(sheet, _q("extLst", ns))
    ext = ElementTree.SubElement(ext_list, _q("ext", ns), {"uri": X14_DV_URI})
    ext.append(x14)


def _merge_validations(sheet: ElementTree.Element, stats: Stats) -> None:
    """Excel keeps one record per distinct validation: the cells of identical ones (same
    attributes and formulas but the sqref) are listed together, runs down a column as ranges."""
    holder = _kid(sheet, "dataValidations")
    if holder is None:
        return
    groups: dict[bytes, list[ElementTree.Element]] = {}
    for dv in _kids(holder, "dataValidation"):
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
    holder.set("count", str(len(_kids(holder, "dataValidation"))))


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
    protection = _kid(sheet, "sheetProtection")
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
    protection = _kid(workbook, "workbookProtection")
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
    sheet.set(_q("Ignorable", MC), "x14ac xr xr2 xr3")
    sheet.set(_q("uid", XR), f"{{00000000-0001-0000-{order:04X}-000000000000}}")
    fmt = _kid(sheet, "sheetFormatPr")
    if fmt is not None:
        fmt.set(_q("dyDescent", X14AC), "0.25")
    for row in sheet.iter(_q("row", _ns(sheet))):
        row.set(_q("dyDescent", X14AC), "0.25")


def _ignorable_workbook(workbook: ElementTree.Element) -> None:
    ns = _ns(workbook)
    workbook.set(_q("Ignorable", MC), "x15 xr xr6 xr10 xr2")
    version = ElementTree.Element(
        _q("fileVersion", ns),
        {"appName": "xl", "lastEdited": "7", "lowestEdited": "7", "rupBuild": "27328"},
    )
    workbook.insert(0, version)
    alternate = ElementTree.Element(_q("AlternateContent", MC))
    choice = ElementTree.SubElement(alternate, _q("Choice", MC), {"Requires": "x15"})
    ElementTree.SubElement(choice, _q("absPath", X15AC), {"url": "C:\\Users\\填报人\\Desktop\\"})
    at = next(i for i, k in enumerate(workbook) if k.tag.endswith("}bookViews"))
    workbook.insert(at, alternate)


def _xlfn_names(workbook: ElementTree.Element) -> None:
    ns = _ns(workbook)
    holder = _kid(workbook, "definedNames")
    assert holder is not None
    for name in ("_xlfn.IFS", "_xlfn.CONCAT"):
        ElementTree.SubElement(
            holder, _q("definedName", ns), {"name": name, "hidden": "1"}
        ).text = "#NAME?"
    # Excel sorts names case-insensitively, the _xlfn ones among them
    holder[:] = sorted(holder, key=lambda d: d.get("name", "").lower())


def _drop_refs(sheet: ElementTree.Element, stats: Stats) -> None:
    """Leave out r= where a reader can count it (the next row, the next column)."""
    ns = _ns(sheet)
    data = _kid(sheet, "sheetData")
    assert data is not None
    last_row = 0
    for row in _kids(data, "row"):
        number = int(row.get("r", last_row + 1))
        if number == last_row + 1 and "r" in row.attrib:
            del row.attrib["r"]
            stats.refless += 1
        last_row = number
        last_col = 0
        for c in row.iter(_q("c", ns)):
            _, col = parse_a1(c.get("r", ""))
            if col == last_col:  # 0-based column = the 1-based count so far: the next one
                del c.attrib["r"]
                stats.refless += 1
            last_col = col + 1


# --------------------------------------------------------------------------------------------
# The package
# --------------------------------------------------------------------------------------------


class _Package:
    def __init__(self, parts: dict[str, bytes]) -> None:
        self.parts = parts
        self.trees: dict[str, ElementTree.Element] = {}

    def xml(self, part: str) -> ElementTree.Element:
        if part not in self.trees:
            self.trees[part] = ElementTree.fromstring(self.parts[part])
        return self.trees[part]

    def put(self, part: str, root: ElementTree.Element) -> None:
        self.trees[part] = root

    def rels(self, part: str) -> tuple[str, ElementTree.Element]:
        folder, base = part.rsplit("/", 1) if "/" in part else ("", part)
        name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
        if name not in self.parts:
            self.parts[name] = f'<Relationships xmlns="{PKG_REL}"/>'.encode()
        return name, self.xml(name)

    def workbook(self) -> str:
        _, root = self.rels("")
        rel = next(r for r in root if r.get("Type", "").endswith("/officeDocument"))
        return rel.get("Target", "").lstrip("/")

    def sheets(self) -> list[tuple[str, str]]:
        """(sheet name, part) in workbook order."""
        workbook = self.workbook()
        _, rels = self.rels(workbook)
        targets = {r.get("Id"): r.get("Target", "") for r in rels}
        folder = workbook.rsplit("/", 1)[0]
        found = []
        for sheet in self.xml(workbook).iter():
            if sheet.tag.rpartition("}")[2] != "sheet":
                continue
            rid = next(v for k, v in sheet.attrib.items() if k.endswith("}id"))
            target = targets[rid]
            part = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}"
            found.append((sheet.get("name", ""), part))
        return found

    def names(self, workbook: str) -> dict[str, str]:
        return _names(self.xml(workbook))

    def _add_part(
        self, part: str, content_type: str, rel_type: str, root: ElementTree.Element
    ) -> None:
        self.put(part, root)
        types = self.xml("[Content_Types].xml")
        for old in [o for o in types if o.get("PartName") == "/" + part]:
            types.remove(old)
        ElementTree.SubElement(
            types, _q("Override", CT), {"PartName": "/" + part, "ContentType": content_type}
        )
        workbook = self.workbook()
        rels_name, rels = self.rels(workbook)
        for old in [r for r in rels if r.get("Type") == rel_type]:
            rels.remove(old)
        taken = {r.get("Id") for r in rels}
        rid = next(f"rId{n}" for n in range(100, 1000) if f"rId{n}" not in taken)
        folder = workbook.rsplit("/", 1)[0]
        target = part.removeprefix(folder + "/")
        ElementTree.SubElement(
            rels, _q("Relationship", PKG_REL), {"Id": rid, "Type": rel_type, "Target": target}
        )

    def add_shared_strings(self, strings: list[str]) -> None:
        """Excel's shape: plain ``<si><t>``, every CJK string with its phonetic properties,
        and (as a clerk's bold word makes) some strings in rich runs."""
        root = ElementTree.Element(
            _q("sst"), {"count": str(len(strings)), "uniqueCount": str(len(strings))}
        )
        for n, text in enumerate(strings):
            si = ElementTree.SubElement(root, _q("si"))
            if n % 5 == 3 and len(text) > 1:
                for piece, bold in ((text[:1], True), (text[1:], False)):
                    run = ElementTree.SubElement(si, _q("r"))
                    props = ElementTree.SubElement(run, _q("rPr"))
                    if bold:
                        ElementTree.SubElement(props, _q("b"))
                    ElementTree.SubElement(props, _q("sz"), {"val": "11"})
                    ElementTree.SubElement(props, _q("rFont"), {"val": "宋体"})
                    _text(ElementTree.SubElement(run, _q("t")), piece)
            else:
                _text(ElementTree.SubElement(si, _q("t")), text)
            if n % 7 == 5 and text:  # a reading (furigana) kept with the text, never shown
                ruby = ElementTree.SubElement(si, _q("rPh"), {"sb": "0", "eb": "1"})
                ElementTree.SubElement(ruby, _q("t")).text = "ピン"
            if re.search(r"[\u4e00-\u9fff]", text):
                ElementTree.SubElement(
                    si, _q("phoneticPr"), {"fontId": "1", "type": "noConversion"}
                )
        self._add_part(
            "xl/sharedStrings.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
            REL + "/sharedStrings",
            root,
        )

    def add_calc_chain(self, sheets: list[tuple[str, str]]) -> None:
        root = ElementTree.Element(_q("calcChain"))
        for order, (_, part) in enumerate(sheets, start=1):
            first = True
            for c in self.xml(part).iter():
                if c.tag.rpartition("}")[2] == "c" and _kid(c, "f") is not None and c.get("r"):
                    attrs = {"r": c.get("r", "")}
                    if first:
                        attrs["i"] = str(order)
                        first = False
                    ElementTree.SubElement(root, _q("c"), attrs)
        self._add_part(
            "xl/calcChain.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml",
            REL + "/calcChain",
            root,
        )

    def set_application(self, name: str, *, wps: bool) -> None:
        ep = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
        part = "docProps/app.xml"
        root = ElementTree.Element(_q("Properties", ep))
        ElementTree.SubElement(root, _q("Application", ep)).text = name
        ElementTree.SubElement(root, _q("DocSecurity", ep)).text = "0"
        ElementTree.SubElement(root, _q("AppVersion", ep)).text = (
            "16.0300" if not wps else "12.0000"
        )
        self.put(part, root)
        if not wps:
            return
        cp = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
        vt = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
        PREFIXES.setdefault(vt, "vt")
        custom = ElementTree.Element(_q("Properties", cp))
        for pid, (key, value) in enumerate(
            (
                ("ICV", "0A1B2C3D4E5F60718293A4B5C6D7E8F9"),
                ("KSOProductBuildVer", "2052-11.1.0.11744"),
            ),
            start=2,
        ):
            prop = ElementTree.SubElement(
                custom,
                _q("property", cp),
                {"fmtid": "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}", "pid": str(pid), "name": key},
            )
            ElementTree.SubElement(prop, _q("lpwstr", vt)).text = value
        self.put("docProps/custom.xml", custom)
        types = self.xml("[Content_Types].xml")
        ElementTree.SubElement(
            types,
            _q("Override", CT),
            {
                "PartName": "/docProps/custom.xml",
                "ContentType": "application/vnd.openxmlformats-officedocument.custom-properties+xml",
            },
        )
        _, rels = self.rels("")
        ElementTree.SubElement(
            rels,
            _q("Relationship", PKG_REL),
            {
                "Id": "rId90",
                "Type": REL + "/custom-properties",
                "Target": "docProps/custom.xml",
            },
        )

    def to_strict(self) -> None:
        """Excel's "Strict Open XML 电子表格": the purl.oclc.org namespaces for SpreadsheetML and
        relationships (and the relationship types), conformance="strict" on the workbook."""
        for name in {*self.parts, *self.trees}:
            if not name.endswith((".xml", ".rels")):
                continue
            root = self.xml(name)
            for element in root.iter():
                element.tag = element.tag.replace(MAIN, STRICT_MAIN).replace(REL, STRICT_REL)
                for key in list(element.attrib):
                    new = key.replace(REL, STRICT_REL)
                    value = element.attrib.pop(key)
                    if key == "Type" and value.startswith(REL + "/"):
                        value = STRICT_REL + value[len(REL) :]
                        value = value.replace("/extended-properties", "/extendedProperties")
                        value = value.replace("/custom-properties", "/customProperties")
                    element.set(new, value)
        self.xml(self.workbook()).set("conformance", "strict")

    def write(self, target: Path, main_prefix: str = "") -> None:
        prefixes = dict(PREFIXES)
        prefixes[MAIN] = prefixes[STRICT_MAIN] = main_prefix
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            names = list(self.parts) + [n for n in self.trees if n not in self.parts]
            for name in names:
                data = (
                    serialize(self.trees[name], prefixes)
                    if name in self.trees
                    else self.parts[name]
                )
                archive.writestr(name, data)
        target.write_bytes(buffer.getvalue())


def _text(element: ElementTree.Element, text: str) -> None:
    element.text = text
    if text != text.strip() or "\n" in text:
        element.set(_q("space", XML_NS), "preserve")


# str.translate escapes in C (saxutils' escape and quoteattr are Python loops)
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)


def serialize(root: ElementTree.Element, prefixes: dict[str, str]) -> bytes:
    """XML with Excel's declarations: every namespace declared once, on the root element,
    under the prefix ``prefixes`` gives it (ElementTree would invent ns0, ns1 …)."""
    used: dict[str, str] = {}
    extra = 0

    def prefix(ns: str) -> str:
        nonlocal extra
        if ns not in used:
            if ns in prefixes:
                used[ns] = prefixes[ns]
            else:
                extra += 1
                used[ns] = f"ns{extra}"
        return used[ns]

    names: dict[str, str] = {}

    def name(tag: str) -> str:
        found = names.get(tag)
        if found is None:
            if tag.startswith("{"):
                ns, local = tag[1:].split("}")
                p = prefix(ns)
                found = f"{p}:{local}" if p else local
            else:
                found = tag
            names[tag] = found
        return found

    out: list[str] = []
    add = out.append

    def write(element: ElementTree.Element) -> None:
        tag = name(element.tag)
        if element.attrib:
            add(f"<{tag}")
            for k, v in element.attrib.items():
                add(f' {name(k)}="{v.translate(_ATTR)}"')
        else:
            add(f"<{tag}")
        if element.text is None and not len(element):
            add("/>")
            return
        add(">")
        if element.text:
            add(element.text.translate(_TEXT))
        for kid in element:
            write(kid)
            if kid.tail:
                add(kid.tail.translate(_TEXT))
        add(f"</{tag}>")

    write(root)
    # the prefixes mc:Ignorable names must be declared even when nothing else uses them
    for p in root.get(_q("Ignorable", MC), "").split():
        prefix(IGNORABLE[p])
    declarations = "".join(
        f' xmlns{":" + p if p else ""}="{ns}"' for ns, p in used.items() if ns != XML_NS
    )
    first = out[0]
    out[0] = first + declarations
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' + "".join(out)).encode()


__all__ = [
    "EXCEL",
    "EXCEL_FEATURES",
    "LISTS_SHEET",
    "META_SHEET",
    "PANEL_SHEET",
    "TAMPERS",
    "WPS",
    "Stats",
    "Tamper",
    "cached_values",
    "excel_style",
    "excel_hash",
    "filled_returns",
    "gnumeric_saved",
    "libreoffice_saved",
    "openpyxl_saved",
    "specs",
    "ssconvert",
    "tampered",
]
