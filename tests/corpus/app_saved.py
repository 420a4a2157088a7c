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
* :func:`excel_style` (``excel_xml.py``, on the package of ``ooxml.py``) — the package's XML
  rewritten into the shapes Excel and WPS write (see :data:`EXCEL_FEATURES`), one feature at a
  time or all together;
* :data:`TAMPERS` — what a clerk does that the checker must catch, as openpyxl edits applied
  before the application's save.

The Excel and WPS shapes are written from their documentation and from files they saved (as
XlsxWriter's and openpyxl's tests show them); no Excel runs here.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import openpyxl
import yaml

from xltools.cellref import a1
from xltools.fill import fill_workbook
from xltools.generate import generate_template, layout_spec
from xltools.libreoffice import recalculate, resave
from xltools.spec import Spec, load_spec

from .excel_xml import (
    EXCEL,
    EXCEL_FEATURES,
    STRICT,
    WPS,
    Stats,
    excel_hash,
    excel_style,
)
from .ooxml import MAIN, STRICT_MAIN

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
EXAMPLES = ROOT / "examples"

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
# What the Excel-style rewrites need from a spec and a recalculated copy
# --------------------------------------------------------------------------------------------


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


def date_cells(spec: Spec) -> dict[str, set[str]]:
    """sheet -> the cells of the spec's date fields."""
    cells: dict[str, set[str]] = {}
    for sheet in layout_spec(spec).sheets:
        for c in sheet.cells:
            if c.role == "field" and spec.fields[c.field].type == "date":
                cells.setdefault(sheet.name, set()).add(a1(c.row, c.col))
    return cells


__all__ = [
    "EXCEL",
    "EXCEL_FEATURES",
    "MAIN",
    "STRICT",
    "STRICT_MAIN",
    "TAMPERS",
    "WPS",
    "Stats",
    "Tamper",
    "cached_values",
    "date_cells",
    "excel_hash",
    "excel_style",
    "filled_returns",
    "gnumeric_saved",
    "libreoffice_saved",
    "openpyxl_saved",
    "specs",
    "ssconvert",
    "tampered",
]
