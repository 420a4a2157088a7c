"""Returns as Excel, WPS, LibreOffice and Gnumeric save them read as the original, and the same
tampering is caught whichever application saved it (builders: tests/corpus/app_saved.py).

Every bundled template is filled with its example; each legitimate variant must give the same
total, grade and findings (severity, code, sheet, cell) as that original, apart from the
``app-*`` notes naming what an application drops by itself, and no ``tamper-*`` finding. The
LibreOffice saves of all files are made in two soffice runs (recalculated, and not).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from corpus import app_saved as A

from xltools.cellref import parse_a1
from xltools.check.files import check_one
from xltools.check.report import Report
from xltools.check.run import check_file
from xltools.generate import generate_template
from xltools.libreoffice import find_soffice
from xltools.registry import Registry
from xltools.spec import Spec

TEMPLATES = tuple(A.specs())
# tampering is tried on two unlike forms: a project form and the many-row scoring sheet
TAMPERED = ("project_expense_2023", "scoring_sheet_medical_aid")
FEATURE_VARIANTS = {f"xml-{f}": (f,) for f in A.EXCEL_FEATURES if f != "iso-dates"}
XML_VARIANTS = {**FEATURE_VARIANTS, "excel": A.EXCEL, "wps": A.WPS, "strict": A.STRICT}
CACHED = ("excel", "wps", "strict")  # they carry LibreOffice's results as Excel would
CACHE_FREE = tuple(v for v in XML_VARIANTS if v not in CACHED and v != "xml-cached")
# each feature alone on two unlike forms (for a precise failure); all of them on every form
FEATURE_TEMPLATES = TAMPERED
APP_VARIANTS = (
    "libreoffice",
    "libreoffice-no-recalc",
    "libreoffice-kept-cache",
    "gnumeric",
    "openpyxl",
)
SAVE_PATHS = ("openpyxl", "libreoffice", "gnumeric", "excel", "wps", "strict")


@dataclass
class Corpus:
    originals: dict[str, Path]
    reports: dict[str, Report]
    variants: dict[tuple[str, str], Path] = field(default_factory=dict)
    stats: dict[tuple[str, str], A.Stats] = field(default_factory=dict)
    tampered: dict[tuple[str, str, str], Path] = field(default_factory=dict)
    cached: dict[str, dict[str, dict[str, tuple[str, object]]]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load(A.SPECS)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> Iterator[Corpus]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl on extensions it does not read
        yield _build(tmp_path_factory.mktemp("app_saved"), registry)


def _build(root: Path, registry: Registry) -> Corpus:
    originals = A.filled_returns(root / "filled")
    corpus = Corpus(originals, {t: check_file(p, registry)[0] for t, p in originals.items()})
    specs = A.specs()
    edits: dict[tuple[str, str], Path] = {}
    (root / "tampered").mkdir()
    for template in TAMPERED:
        for tamper in A.TAMPERS:
            if tamper.applies(specs[template]):
                target = root / "tampered" / f"{template}__{tamper.name}.xlsx"
                edits[template, tamper.name] = A.tampered(
                    originals[template], specs[template], tamper, target
                )
    for key, path in edits.items():
        corpus.tampered[("openpyxl", *key)] = path  # the edit itself is an openpyxl save
    inputs = [*originals.values(), *edits.values()]

    def saved_by(save: str, paths: list[Path]) -> None:
        for key, path in edits.items():
            corpus.tampered[(save, *key)] = paths[inputs.index(path)]
        for template, path in originals.items():
            corpus.variants[template, save] = paths[inputs.index(path)]

    # the applications run while Python rewrites XML (they wait on soffice, not on the GIL)
    with ThreadPoolExecutor(2) as pool:
        lo = pool.submit(A.libreoffice_saved, inputs, root / "lo", recalc=True)
        gnumeric = None
        if A.ssconvert() is not None:
            gnumeric = pool.submit(A.gnumeric_saved, inputs, root / "gnumeric")
        for template, path in originals.items():
            corpus.variants[template, "openpyxl"] = A.openpyxl_saved(
                path, root / "filled" / f"{template}__openpyxl.xlsx"
            )
        _rewrite(corpus, root, specs, CACHE_FREE)
        if find_soffice() is not None:
            saved_by("libreoffice", lo.result())
            for template in originals:
                corpus.cached[template] = A.cached_values(corpus.variants[template, "libreoffice"])
            _rewrite(corpus, root, specs, ("xml-cached",))
            # a workbook Excel saved with its results, re-saved by a clerk's LibreOffice, which
            # keeps the cached results (no forced recalculation)
            # and the filled returns as they are (no results yet), saved so
            kept_inputs = [corpus.variants[t, "xml-cached"] for t in originals]
            kept_inputs += [*originals.values()]
            kept_inputs.append(_faked_total(corpus, root / "xml" / "faked.xlsx", FAKED_TOTAL))
            kept = pool.submit(A.libreoffice_saved, kept_inputs, root / "lo-kept", recalc=False)
        _rewrite(corpus, root, specs, CACHED)
        for (template, edit), path in edits.items():
            for name in ("excel", "wps", "strict"):
                target = root / "xml" / f"{template}__{edit}__{name}.xlsx"
                A.excel_style(
                    path,
                    target,
                    XML_VARIANTS[name],
                    cached=corpus.cached.get(template),
                    strict=name == "strict",
                    dates=A.date_cells(specs[template]),
                )
                corpus.tampered[(name, template, edit)] = target
        if gnumeric is not None:  # its errors raised here, not lost in a callback
            saved_by("gnumeric", gnumeric.result())
        if find_soffice() is not None:
            *kept_paths, faked = kept.result()
            for template, path, plain in zip(
                originals, kept_paths, kept_paths[len(originals) :], strict=False
            ):
                corpus.variants[template, "libreoffice-kept-cache"] = path
                corpus.variants[template, "libreoffice-no-recalc"] = plain
            corpus.variants[FAKED, "libreoffice-kept-fake"] = faked
    return corpus


def _rewrite(corpus: Corpus, root: Path, specs: dict[str, Spec], names: tuple[str, ...]) -> None:
    (root / "xml").mkdir(exist_ok=True)
    for template, path in corpus.originals.items():
        for name in names:
            if not _on(template, name):
                continue
            target = root / "xml" / f"{template}__{name}.xlsx"
            corpus.stats[template, name] = A.excel_style(
                path,
                target,
                XML_VARIANTS[name],
                cached=corpus.cached.get(template),
                strict=name == "strict",
                dates=A.date_cells(specs[template]),
            )
            corpus.variants[template, name] = target


def _seen(report: Report) -> tuple[float | None, str, list[tuple[str, ...]]]:
    findings: list[tuple[str, ...]] = sorted(
        (f.severity, f.code, f.sheet, f.cell)
        for f in report.findings
        if not f.code.startswith("app-")
    )
    return report.total, report.grade, findings


NEEDS_LIBREOFFICE = (*(v for v in APP_VARIANTS if v.startswith("libre")), "xml-cached", *CACHED)


def _needs_gnumeric() -> None:
    """Skip locally, fail under CI (.ci/run installs Gnumeric), as conftest does for soffice."""
    if A.ssconvert() is None:
        if os.environ.get("CI"):
            pytest.fail("Gnumeric (ssconvert) is not installed but CI is set", pytrace=False)
        pytest.skip("Gnumeric (ssconvert) is not installed: apt-get install gnumeric")


def _on(template: str, variant: str) -> bool:
    """Each feature alone on FEATURE_TEMPLATES; xml-cached (LibreOffice's input) everywhere."""
    return (
        not variant.startswith("xml-") or variant == "xml-cached" or template in FEATURE_TEMPLATES
    )


CASES = [
    pytest.param(
        t,
        v,
        marks=[pytest.mark.libreoffice] if v in NEEDS_LIBREOFFICE else [],
        id=f"{t}-{v}",
    )
    for t in TEMPLATES
    for v in (*APP_VARIANTS, *XML_VARIANTS)
    if _on(t, v)
]


@pytest.mark.parametrize(("template", "variant"), CASES)
def test_a_legitimate_save_reads_as_the_original(
    corpus: Corpus, registry: Registry, template: str, variant: str
) -> None:
    if variant == "gnumeric":
        _needs_gnumeric()
    report, workbook = check_file(corpus.variants[template, variant], registry)
    assert workbook is not None, [f.message for f in report.findings]
    assert _seen(report) == _seen(corpus.reports[template])
    assert not [f.code for f in report.findings if f.code.startswith("tamper-")]
    assert report.template == corpus.reports[template].template


COPY_VARIANTS = ("libreoffice", "gnumeric", "openpyxl", "excel", "wps", "xml-no-refs")


@pytest.mark.parametrize("variant", COPY_VARIANTS)
def test_a_legitimate_save_gets_its_checked_copy(
    corpus: Corpus, registry: Registry, tmp_path: Path, variant: str
) -> None:
    """The copy (a 校验结果 sheet, the finding's cell highlighted) is written in every shape but
    Strict, and reads back as the same return."""
    if variant == "gnumeric":
        _needs_gnumeric()
    template = "project_expense_2023"  # it has a finding: a cell to highlight and annotate
    if (template, variant) not in corpus.variants:
        pytest.skip("LibreOffice (soffice) is not installed")
    copy = tmp_path / "checked.xlsx"
    result = check_one(corpus.variants[template, variant], registry, None, copy_to=copy)
    assert result.copy == copy, [f.message for f in result.report.findings]
    again, _ = check_file(copy, registry)
    assert _seen(again)[:2] == _seen(corpus.reports[template])[:2]
    codes = {f.code for f in again.findings} - {f.code for f in corpus.reports[template].findings}
    assert codes <= {"old-check-sheet", "app-structure-lock-dropped", "app-hidden-state-dropped"}


def test_the_originals_are_worth_comparing(corpus: Corpus) -> None:
    """Totals, grades and a finding on at least one form, so "the same" means something."""
    totals = [r.total for r in corpus.reports.values() if r.total is not None]
    assert len(totals) >= 5 and len({r.grade for r in corpus.reports.values()}) >= 2
    assert any(r.findings for r in corpus.reports.values())


def test_the_xml_variants_hold_what_they_claim(corpus: Corpus) -> None:
    """Each rewrite wrote its shapes on every form (else the variant proves nothing)."""
    stats = corpus.stats
    for template in FEATURE_TEMPLATES:
        assert stats[template, "xml-shared-formulas"].shared_masters > 0
        assert stats[template, "xml-no-refs"].refless > 0
        assert stats[template, "xml-dv-merged"].dv_ranges > 0
    for template in TEMPLATES:
        parts = _parts(corpus.variants[template, "excel"])
        assert "xl/calcChain.xml" in parts and "xl/sharedStrings.xml" in parts
        sheets = b"".join(v for k, v in parts.items() if k.startswith("xl/worksheets/"))
        assert b'algorithmName="SHA-512"' in sheets and b"<x:c " in sheets
        assert b'workbookAlgorithmName="SHA-512"' in parts["xl/workbook.xml"]
        assert b'lockStructure="1"' in parts["xl/workbook.xml"]
        assert b"_xlfn.IFS" in parts["xl/workbook.xml"]
        strict = _parts(corpus.variants[template, "strict"])
        assert A.STRICT_MAIN.encode() in strict["xl/workbook.xml"]
        assert A.MAIN.encode() not in b"".join(strict.values())
    assert sum(stats[t, "xml-x14-validations"].x14 for t in FEATURE_TEMPLATES) > 20
    assert sum(stats[t, "strict"].iso_dates for t in TEMPLATES) >= 3
    if corpus.cached:
        kinds = {k for t in TEMPLATES for k in stats[t, "excel"].cached or {}}
        assert {"n", "str", "empty"} <= kinds


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


TAMPER_CASES = [
    pytest.param(
        save,
        template,
        tamper.name,
        marks=[pytest.mark.libreoffice] if save == "libreoffice" else [],
        id=f"{save}-{template}-{tamper.name}",
    )
    for save in SAVE_PATHS
    for template in TAMPERED
    for tamper in A.TAMPERS
    if tamper.applies(A.specs()[template])
]


@pytest.mark.parametrize(("save", "template", "tamper"), TAMPER_CASES)
def test_tampering_is_caught_whoever_saved_it(
    corpus: Corpus, registry: Registry, save: str, template: str, tamper: str
) -> None:
    if save == "gnumeric":
        _needs_gnumeric()
    key = (save, template, tamper)
    code = next(t.code for t in A.TAMPERS if t.name == tamper)
    report, _ = check_file(corpus.tampered[key], registry)
    assert code in {f.code for f in report.findings}, [f.code for f in report.findings]


def test_a_formula_filled_down_over_another_is_read_as_the_masters(
    corpus: Corpus, registry: Registry, tmp_path: Path
) -> None:
    """Excel writes a fill-down as a shared formula: the overwritten cell holds no text of its
    own, and the reader must take (translate) the master's to see which formula is there now.
    (The forms' formulas name fields, not cells, so the translation leaves the text as it is;
    shifting cell references is tests/test_xlsx_reader.py's.)"""
    template = "project_expense_2023"
    spec = A.specs()[template]
    sheet, _ = A._formula_cell(spec)
    refs = _formula_refs(spec, sheet)
    # two formulas of the form in one column: the upper one filled down over the lower
    master, child = next(
        (m, c) for m in refs for c in refs if parse_a1(c) == (parse_a1(m)[0] + 1, parse_a1(m)[1])
    )
    target = tmp_path / "filled-down.xlsx"
    stats = A.excel_style(
        corpus.originals[template], target, A.EXCEL, fill_down=(sheet, master, child)
    )
    assert stats.shared_children >= 1
    report, _ = check_file(target, registry)
    changed = [f for f in report.findings if f.code == "tamper-formula-changed"]
    assert [f.cell for f in changed] == [child]
    assert not [f for f in report.findings if f.code == "tamper-formula-replaced"]


def _formula_refs(spec: object, sheet: str) -> list[str]:
    from xltools.cellref import a1
    from xltools.generate import layout_spec

    form = next(s for s in layout_spec(spec).sheets if s.name == sheet)  # type: ignore[arg-type]
    return [
        a1(c.row, c.col)
        for c in form.cells
        if c.role == "field" and spec.fields[c.field].formula is not None  # type: ignore[attr-defined]
    ]


@pytest.mark.libreoffice
@pytest.mark.parametrize("shown", [99.5, "#DIV/0!"])
def test_a_faked_cached_total_is_seen_in_excel_shapes(
    corpus: Corpus, registry: Registry, tmp_path: Path, shown: object
) -> None:
    """The cached results of an Excel-style file are read (a number, or a t="e" error): a total
    shown other than the recomputed one is an error."""
    _, total_ref = _total_cell(A.specs()[FAKED])
    target = _faked_total(corpus, tmp_path / "faked.xlsx", shown, A.EXCEL)
    report, _ = check_file(target, registry)
    faked = [f for f in report.findings if f.code == "tamper-cached-result"]
    assert [(f.severity, f.cell, f.found) for f in faked] == [("error", total_ref, str(shown))]


FAKED = "project_expense_2023"
FAKED_TOTAL = 12.5


def _faked_total(
    corpus: Corpus, target: Path, shown: object, features: tuple[str, ...] = ("cached",)
) -> Path:
    """The form as Excel saves it, with LibreOffice's results but ``shown`` as its total."""
    spec = A.specs()[FAKED]
    sheet, ref = _total_cell(spec)
    cached = {s: dict(cells) for s, cells in corpus.cached[FAKED].items()}
    cached[sheet][ref] = ("e" if isinstance(shown, str) else "n", shown)
    A.excel_style(corpus.originals[FAKED], target, features, cached=cached)
    return target


def _total_cell(spec: object) -> tuple[str, str]:
    from xltools.check.rules import result_fields
    from xltools.generate import layout_spec

    total, _ = result_fields(spec)  # type: ignore[arg-type]
    sheet, cell = layout_spec(spec).field_positions()[total]  # type: ignore[arg-type,index]
    from xltools.cellref import a1

    return sheet, a1(cell.row, cell.col)


@pytest.mark.libreoffice
def test_libreoffice_without_recalculation_keeps_what_the_file_showed(
    corpus: Corpus, registry: Registry
) -> None:
    """The "kept cache" variant is what it says: a total the file showed wrongly survives that
    save, and is caught. (The recalculating save computes what the filled return left empty:
    the cached results of the Excel shapes come from it.)"""
    _, total_ref = _total_cell(A.specs()[FAKED])
    report, _ = check_file(corpus.variants[FAKED, "libreoffice-kept-fake"], registry)
    faked = [f for f in report.findings if f.code == "tamper-cached-result"]
    assert [(f.cell, f.found) for f in faked] == [(total_ref, str(FAKED_TOTAL))]


def test_a_strict_file_is_checked_and_its_copy_refused_in_chinese(
    corpus: Corpus, registry: Registry, tmp_path: Path
) -> None:
    template = "project_expense_2023"
    result = check_one(
        corpus.variants[template, "strict"], registry, None, copy_to=tmp_path / "checked.xlsx"
    )
    assert result.copy is None and not (tmp_path / "checked.xlsx").exists()
    refusal = [f for f in result.report.findings if f.code == "copy-not-written"]
    assert len(refusal) == 1
    message = refusal[0].message
    assert "另存为" in message and "Excel 工作簿(*.xlsx)" in message
    # only the names Excel shows may be in Latin letters
    rest = message.replace("Strict Open XML", "").replace("Excel", "").replace("xlsx", "")
    assert not re.search(r"[A-Za-z]", rest), rest
    others = [f for f in result.report.findings if f.code != "copy-not-written"]
    assert sorted((f.code, f.cell) for f in others) == sorted(
        (f.code, f.cell) for f in corpus.reports[template].findings
    )


def test_a_pre_filled_date_saved_as_strict_is_not_a_change(
    registry: Registry, tmp_path: Path
) -> None:
    """Excel's Strict files hold dates as ISO text (t="d"): a date the bureau's copy came with
    must still equal the distributed one (read as text it was tamper-prefill-changed)."""
    spec = A.specs()["project_expense_2023"]
    distributed = tmp_path / "B009.xlsx"
    generate_template(
        spec,
        distributed,
        prefill={"fill_date": dt.date(2024, 10, 17), "project_name": "示例项目"},
        bureau_id="B009",
        bureau_name="示例县财政局",
    )
    strict = tmp_path / "B009-strict.xlsx"
    stats = A.excel_style(distributed, strict, A.STRICT, strict=True, dates=A.date_cells(spec))
    assert stats.iso_dates == 1
    report, _ = check_file(strict, registry)
    assert _seen(report) == _seen(check_file(distributed, registry)[0])
    assert not [f.code for f in report.findings if f.code.startswith("tamper-")]


@pytest.mark.parametrize("variant", ["excel", "wps", "strict"])
def test_excel_and_wps_keep_the_structure_lock_so_losing_it_is_tampering(
    corpus: Corpus, registry: Registry, tmp_path: Path, variant: str
) -> None:
    """Only LibreOffice and Gnumeric drop the lock on their own (an app-* note); in a file
    Excel or WPS saved, a workbook without it was unlocked by hand (Excel then writes no
    <workbookProtection> at all)."""
    template = "project_expense_2023"
    source = corpus.variants[template, variant]
    with zipfile.ZipFile(source) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    unlocked, count = re.subn(rb"<(x:)?workbookProtection [^>]*/>", b"", parts["xl/workbook.xml"])
    assert count == 1
    parts["xl/workbook.xml"] = unlocked
    target = tmp_path / "unlocked.xlsx"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    codes = {f.code for f in check_file(target, registry)[0].findings}
    assert "tamper-structure-unlocked" in codes and "app-structure-lock-dropped" not in codes
