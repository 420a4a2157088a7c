"""Generate the corpus of bad returned workbooks: ``make_corpus(out_dir) -> list[CorpusCase]``.

Every file is built from scratch by code — a generated template, filled with the bundled
example and then damaged, tampered with or made hostile — so the corpus is reproducible,
reviewable in a diff, and never a binary blob in the repository. Each case names the finding
code ``xltools check`` must report for it (and exit 1).

    python tests/corpus/make_corpus.py /tmp/corpus      # writes the files, prints the table

The kinds: files that are not workbooks at all (empty, noise, PDF, HTML "xls", Word, zip of
files, OpenDocument, .xlsb, legacy .xls, encrypted), damaged packages (truncated, missing
parts, bad CRC, broken XML, duplicate entries, unsupported compression), hostile packages
(zip bombs, XML entity bombs, XXE, too many parts, macros, external links, DDE and
other-workbook formulas), tampering (protection, weights, labels, pre-filled targets, formulas,
faked cached results, rows, sheets, metadata) and careless or odd content (text for numbers,
negative money, percentages over 100 %, dates out of range, Excel errors, junk rows, 100k
characters, control characters, odd file names).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import re
import shutil
import struct
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[2]
if __name__ == "__main__":  # run as a script: make the package importable from a checkout
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import openpyxl  # noqa: E402
import yaml  # noqa: E402
from check_fixtures import insert_row  # noqa: E402  (tests/ is on the path in pytest and fuzz.py)

from xltools.cellref import a1  # noqa: E402
from xltools.fill import fill_workbook, flatten  # noqa: E402
from xltools.generate import generate_template, layout_spec  # noqa: E402
from xltools.generate.metadata import META_KEYS, META_SHEET  # noqa: E402
from xltools.spec import Spec, load_spec  # noqa: E402

SPECS = ROOT / "specs"
EXAMPLES = ROOT / "examples"
FORM = "project_expense_2023"
FORM_SHEET = "项目支出绩效自评表"
MEDICAL = "scoring_sheet_medical_aid"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
MB = 1 << 20


@dataclass(frozen=True)
class CorpusCase:
    """One bad input: its file name in the corpus folder, the finding code ``xltools check``
    must report for it, and what it is."""

    file: str
    code: str
    what: str
    #: the bombs: must be refused within 1 s and 100 MB
    bomb: bool = False
    #: the exit status of ``xltools check``: 1, but 0 where the finding is an information
    #: (the checker repairs what it reports)
    exit: int = 1


# --------------------------------------------------------------------------------------------
# Base workbooks
# --------------------------------------------------------------------------------------------


class _Bases:
    """The valid workbooks the cases start from, built once per corpus in ``work``."""

    def __init__(self, work: Path) -> None:
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self._specs: dict[str, Spec] = {}
        self._files: dict[str, Path] = {}

    def spec(self, template: str) -> Spec:
        if template not in self._specs:
            self._specs[template] = load_spec(SPECS / f"{template}.yaml")
        return self._specs[template]

    def data(self, template: str) -> dict[str, Any]:
        loaded = yaml.safe_load((EXAMPLES / f"{template}.yaml").read_text(encoding="utf-8"))
        assert isinstance(loaded, dict)
        return flatten(loaded)

    def _once(self, key: str, build: Callable[[Path], None]) -> Path:
        if key not in self._files:
            path = self.work / f"{key}.xlsx"
            build(path)
            self._files[key] = path
        return self._files[key]

    def template(self, template: str = FORM) -> Path:
        return self._once(f"template-{template}", lambda p: _generate(self.spec(template), p))

    def filled(self, template: str = FORM) -> Path:
        """The bundled example, filled the way ``xltools fill`` does (the template's package
        edited: inputs written, every formula's cached result the recomputation's)."""

        def build(path: Path) -> None:
            errors = fill_workbook(
                self.template(template), self.spec(template), self.data(template), path
            )
            assert errors == [], errors

        return self._once(f"filled-{template}", build)

    def cached(self) -> Path:
        """Every value pre-filled by the generator, which writes each formula's correct cached
        result (XlsxWriter): a workbook as an application shows it. 全年执行数 is half the
        budget, so the recomputed total is 95, not 100."""

        def build(path: Path) -> None:
            data = self.data(FORM)
            data["funds_current_spent"] = data["funds_current_budget"] / 2
            _generate(self.spec(FORM), path, prefill=data, bureau_id="B009")

        return self._once("cached", build)

    def distributed(self) -> Path:
        """A bureau's copy distributed from a roster (project, budget and the approved first
        indicator with its target pre-filled and locked), then filled by the unit."""

        def build(path: Path) -> None:
            data = self.data(FORM)
            roster_columns = (
                "project_name",
                "department",
                "unit_name",
                "funds_current_initial",
                "funds_current_budget",
                "ind_output_quantity_1_name",
                "ind_output_quantity_1_op",
                "ind_output_quantity_1_target",
                "ind_output_quantity_1_unit",
                "ind_output_quantity_1_weight",
            )
            prefill = {k: data.pop(k) for k in roster_columns}
            copy = self.work / "distributed-B001.xlsx"
            _generate(
                self.spec(FORM),
                copy,
                prefill=prefill,
                bureau_id="B001",
                bureau_name="甲县医疗保障局",
            )
            errors = fill_workbook(copy, self.spec(FORM), data, path)
            assert errors == [], errors

        return self._once("distributed", build)

    def where(self, field_id: str, template: str = FORM) -> tuple[str, str]:
        """(sheet, "C5") of a field as the layout places it."""
        sheet, cell = layout_spec(self.spec(template)).field_positions()[field_id]
        return sheet, a1(cell.row, cell.col)


def _generate(spec: Spec, path: Path, **options: Any) -> None:
    generate_template(spec, path, issued_at=dt.datetime(2024, 3, 15, tzinfo=dt.UTC), **options)


# --------------------------------------------------------------------------------------------
# Package editing
# --------------------------------------------------------------------------------------------

Parts = dict[str, bytes]


def read_parts(path: Path) -> Parts:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_parts(
    path: Path, parts: Parts | list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED
) -> None:
    """A zip of ``parts`` in order, with fixed timestamps (the same bytes on every run)."""
    items = list(parts.items()) if isinstance(parts, dict) else parts
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in items:
            info = zipfile.ZipInfo(name, date_time=(2024, 3, 15, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, content)


def sheet_part(parts: Parts, sheet: str) -> str:
    """The part name of the worksheet called ``sheet``."""
    book = ElementTree.fromstring(parts["xl/workbook.xml"])
    rels = ElementTree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    for element in book.iter(f"{{{MAIN_NS}}}sheet"):
        if element.get("name") == sheet:
            target = targets[element.get(f"{{{REL_NS}}}id")]
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    raise KeyError(sheet)


def set_cell_xml(xml: bytes, ref: str, body: str, cell_type: str | None) -> bytes:
    """``xml`` with the ``<c r=ref>`` element replaced by one holding ``body`` (its style
    kept); added to its row when absent."""
    text = xml.decode("utf-8")
    pattern = re.compile(rf'<c r="{ref}"(?P<attrs>[^>]*?)(?:/>|>.*?</c>)', re.S)
    match = pattern.search(text)
    style = ""
    if match is not None:
        found = re.search(r'\bs="(\d+)"', match.group("attrs"))
        style = f' s="{found.group(1)}"' if found else ""
    kind = f' t="{cell_type}"' if cell_type else ""
    cell = f'<c r="{ref}"{style}{kind}>{body}</c>'
    if match is not None:
        text = text[: match.start()] + cell + text[match.end() :]
    else:
        row = re.sub(r"[A-Z]+", "", ref)
        row_match = re.search(rf'<row r="{row}"[^>]*?(?:/>|>)', text)
        assert row_match is not None, ref
        opening = row_match.group(0)
        if opening.endswith("/>"):
            text = text.replace(opening, opening[:-2] + ">" + cell + "</row>", 1)
        else:
            text = text.replace(opening, opening + cell, 1)
    return text.encode("utf-8")


def edit_parts(source: Path, target: Path, change: Callable[[Parts], None]) -> None:
    parts = read_parts(source)
    change(parts)
    write_parts(target, parts)


def _drop(parts: Parts, name: str) -> None:
    del parts[name]


def edit_cell(
    bases: _Bases, source: Path, target: Path, field_id: str, body: str, kind: str | None
) -> None:
    """Write ``body`` (the inside of a ``<c>``) into the cell of ``field_id``, in the XML."""
    sheet, ref = bases.where(field_id)

    def change(parts: Parts) -> None:
        name = sheet_part(parts, sheet)
        parts[name] = set_cell_xml(parts[name], ref, body, kind)

    edit_parts(source, target, change)


def edit_book(source: Path, target: Path, change: Callable[[Any], None]) -> None:
    """Load with openpyxl, change, save: as a clerk's tool would."""
    workbook = openpyxl.load_workbook(source)
    change(workbook)
    workbook.save(target)


def field_cell(workbook: Any, field_id: str) -> Any:
    definition = workbook.defined_names[field_id]
    sheet, coordinate = next(iter(definition.destinations))
    return workbook[sheet][coordinate.replace("$", "")]


def set_fields(values: dict[str, Any], unprotect: bool = False) -> Callable[[Any], None]:
    def change(workbook: Any) -> None:
        for field_id, value in values.items():
            cell = field_cell(workbook, field_id)
            if unprotect:
                cell.parent.protection.sheet = False
            cell.value = value

    return change


def set_meta(key: str, value: Any) -> Callable[[Any], None]:
    def change(workbook: Any) -> None:
        workbook[META_SHEET].cell(META_KEYS.index(key) + 1, 2).value = value

    return change


def _stream_part(
    path: Path, parts: Parts, name: str, head: bytes, filler: bytes, size: int, tail: bytes = b""
) -> None:
    """``parts`` with part ``name`` replaced by ``head`` + ``size`` bytes of ``filler`` +
    ``tail``, written streaming (never held in memory)."""
    block = filler * (MB // len(filler))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, content in parts.items():
            if part == name:
                info = zipfile.ZipInfo(part, date_time=(2024, 3, 15, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w", force_zip64=True) as stream:
                    stream.write(head)
                    for _ in range(size // len(block)):
                        stream.write(block)
                    stream.write(tail)
            else:
                archive.writestr(part, content)


def _ole(*names: str) -> bytes:
    """An OLE2 compound file: the header, then a directory sector naming ``names``."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + struct.pack("<HH", 0x3E, 3)
    header = header.ljust(512, b"\x00")
    directory = b"".join(
        (name.encode("utf-16-le") + b"\x00\x00").ljust(64, b"\x00")
        + struct.pack("<H", 2 * (len(name) + 1))
        + b"\x02".ljust(62, b"\x00")
        for name in names
    )
    return header + directory.ljust(512 * ((len(directory) + 511) // 512), b"\x00")


def _rewrite_cached(parts: Parts, sheet: str, ref: str, value: str, kind: str | None) -> None:
    """Replace the cached ``<v>`` of the formula cell ``ref``, keeping its formula."""
    name = sheet_part(parts, sheet)
    text = parts[name].decode("utf-8")
    pattern = re.compile(rf'<c r="{ref}"([^>]*?)>(<f>.*?</f>)<v>[^<]*</v></c>', re.S)
    match = pattern.search(text)
    assert match is not None, ref
    attrs = re.sub(r'\s*t="[^"]*"', "", match.group(1))
    attrs += f' t="{kind}"' if kind else ""
    replacement = f'<c r="{ref}"{attrs}>{match.group(2)}<v>{value}</v></c>'
    parts[name] = (text[: match.start()] + replacement + text[match.end() :]).encode("utf-8")


# --------------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------------

Build = Callable[[_Bases, Path], None]
_CASES: list[tuple[CorpusCase, Build]] = []


def case(
    file: str, code: str, what: str, *, bomb: bool = False, exit: int = 1
) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        _CASES.append((CorpusCase(file, code, what, bomb, exit), build))
        return build

    return register


# -- not a workbook at all ---------------------------------------------------------------------


@case("empty.xlsx", "read-empty-file", "0 bytes: a transfer cut off")
def _empty(bases: _Bases, path: Path) -> None:
    path.write_bytes(b"")


@case("random-bytes.xlsx", "read-not-a-zip", "4 KB of random bytes named .xlsx")
def _noise(bases: _Bases, path: Path) -> None:
    path.write_bytes(random.Random(20240315).randbytes(4096))


@case("zeros.xlsx", "read-not-a-zip", "64 KB of zero bytes (a file pre-allocated, never written)")
def _zeros(bases: _Bases, path: Path) -> None:
    path.write_bytes(bytes(64 * 1024))


@case("report.pdf.xlsx", "read-not-a-zip", "a PDF renamed .xlsx")
def _pdf(bases: _Bases, path: Path) -> None:
    path.write_bytes(
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\ntrailer <<>>\n%%EOF\n"
    )


@case("export.xls", "read-not-a-zip", "an HTML table saved as .xls (as many systems export)")
def _html(bases: _Bases, path: Path) -> None:
    path.write_text(
        '<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="utf-8">'
        "</head><body><table><tr><td>项目名称</td><td>金额</td></tr>"
        "<tr><td>征收工作经费</td><td>124.01</td></tr></table></body></html>",
        encoding="utf-8",
    )


@case("table.csv.xlsx", "read-not-a-zip", "a UTF-8 CSV renamed .xlsx")
def _csv(bases: _Bases, path: Path) -> None:
    path.write_text("项目名称,全年预算数\n征收工作经费,124.01\n", encoding="utf-8-sig")


@case("photo.xlsx", "read-not-a-zip", "a PNG image (a phone photo of the form) renamed .xlsx")
def _png(bases: _Bases, path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64))


@case("legacy.xls", "read-legacy-xls", "an Excel 97-2003 workbook (OLE2 compound file)")
def _xls(bases: _Bases, path: Path) -> None:
    path.write_bytes(_ole("Root Entry", "Workbook", "\x05SummaryInformation"))


@case("encrypted.xlsx", "read-encrypted", "a password-encrypted workbook (OLE: EncryptionInfo)")
def _encrypted(bases: _Bases, path: Path) -> None:
    path.write_bytes(_ole("Root Entry", "EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"))


@case("zip-encrypted.xlsx", "read-encrypted", "a package whose zip entries are encrypted")
def _zip_encrypted(bases: _Bases, path: Path) -> None:
    buffer = io.BytesIO()
    write_parts_to = read_parts(bases.filled())
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in write_parts_to.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 3, 15, 0, 0, 0)), content)
    data = bytearray(buffer.getvalue())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # the "encrypted" bit
        position = data.find(signature)
        while position >= 0:
            data[position + offset] |= 0x01
            position = data.find(signature, position + 4)
    path.write_bytes(bytes(data))


@case("letter.docx.xlsx", "read-wrong-format", "a Word document attached instead of the form")
def _docx(bases: _Bases, path: Path) -> None:
    write_parts(
        path,
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
            "_rels/.rels": (
                f'<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
                'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                'Target="word/document.xml"/></Relationships>'
            ).encode(),
            "word/document.xml": b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>',
        },
    )


@case("returns.zip.xlsx", "read-wrong-format", "a zip archive of several returned files")
def _zip_of_files(bases: _Bases, path: Path) -> None:
    filled = bases.filled().read_bytes()
    write_parts(path, {"甲县.xlsx": filled, "乙县.xlsx": filled, "说明.txt": "见附件".encode()})


@case("spreadsheet.ods", "read-wrong-format", "an OpenDocument spreadsheet (.ods)")
def _ods(bases: _Bases, path: Path) -> None:
    write_parts(
        path,
        [
            ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
            (
                "content.xml",
                b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>',
            ),
            ("META-INF/manifest.xml", b"<manifest/>"),
        ],
        zipfile.ZIP_STORED,
    )


@case("binary.xlsb", "read-wrong-format", "an Excel binary workbook (.xlsb)")
def _xlsb(bases: _Bases, path: Path) -> None:
    write_parts(
        path,
        {
            "[Content_Types].xml": b"<Types/>",
            "_rels/.rels": (
                f'<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
                'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                'Target="xl/workbook.bin"/></Relationships>'
            ).encode(),
            "xl/workbook.bin": b"\x83\x01\x00",
        },
    )


# -- damaged -------------------------------------------------------------------------------------


@case("truncated-half.xlsx", "read-truncated-zip", "the first half of a filled workbook")
def _truncated(bases: _Bases, path: Path) -> None:
    data = bases.filled().read_bytes()
    path.write_bytes(data[: len(data) // 2])


@case(
    "truncated-tail.xlsx",
    "read-truncated-zip",
    "all but the last 10 bytes (the zip's end record cut)",
)
def _truncated_tail(bases: _Bases, path: Path) -> None:
    data = bases.filled().read_bytes()
    path.write_bytes(data[:-10])


@case("missing-sheet-part.xlsx", "read-missing-part", "the form sheet's part deleted from the zip")
def _missing_sheet(bases: _Bases, path: Path) -> None:
    edit_parts(bases.filled(), path, lambda parts: _drop(parts, sheet_part(parts, FORM_SHEET)))


@case("missing-workbook-part.xlsx", "read-missing-part", "xl/workbook.xml deleted from the zip")
def _missing_workbook(bases: _Bases, path: Path) -> None:
    edit_parts(bases.filled(), path, lambda parts: _drop(parts, "xl/workbook.xml"))


@case("bad-crc.xlsx", "read-corrupt-zip", "bytes flipped inside the compressed form sheet")
def _bad_crc(bases: _Bases, path: Path) -> None:
    data = bytearray(bases.filled().read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        name = sheet_part(read_parts(bases.filled()), FORM_SHEET)
        info = archive.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(info.compress_size // 3, info.compress_size // 3 + 4):
        data[start + offset] ^= 0x55
    path.write_bytes(bytes(data))
    try:  # make sure the damage is a CRC or inflate error, not something luckier
        with zipfile.ZipFile(path) as archive:
            archive.read(name)
    except (zipfile.BadZipFile, zlib.error):
        return
    raise AssertionError("damage went unnoticed")


@case("broken-xml.xlsx", "read-xml-malformed", "the form sheet's XML cut in the middle")
def _broken_xml(bases: _Bases, path: Path) -> None:
    def change(parts: Parts) -> None:
        name = sheet_part(parts, FORM_SHEET)
        parts[name] = parts[name][: len(parts[name]) // 2]

    edit_parts(bases.filled(), path, change)


@case(
    "cell-outside-its-row.xlsx",
    "read-xml-malformed",
    "a cell XFD1048576 filed under row 34 (found by the fuzzer: its checked copy held the cell "
    "twice)",
)
def _cell_outside_row(bases: _Bases, path: Path) -> None:
    def change(parts: Parts) -> None:
        name = sheet_part(parts, FORM_SHEET)
        parts[name] = set_cell_xml(parts[name], "L34", "<v>1</v>", None).replace(
            b'<c r="L34"', b'<c r="XFD1048576"', 1
        )

    edit_parts(bases.filled(), path, change)


@case(
    "unknown-encoding.xlsx",
    "read-xml-malformed",
    'a part declaring encoding="true" (found by the fuzzer: once an internal error)',
)
def _unknown_encoding(bases: _Bases, path: Path) -> None:
    def change(parts: Parts) -> None:
        rels = parts["_rels/.rels"].decode("utf-8")
        rels = re.sub(r"^<\?xml[^>]*\?>", "", rels)
        parts["_rels/.rels"] = ('<?xml version="1.0" encoding="true"?>' + rels).encode()

    edit_parts(bases.filled(), path, change)


@case("duplicate-entry.xlsx", "read-corrupt-zip", "two zip entries named xl/workbook.xml")
def _duplicate(bases: _Bases, path: Path) -> None:
    parts = read_parts(bases.filled())
    items = list(parts.items()) + [("xl/workbook.xml", parts["xl/workbook.xml"])]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns "Duplicate name"
        write_parts(path, items)


@case(
    "bzip2.xlsx", "read-corrupt-zip", "entries compressed with bzip2 (Excel cannot open it either)"
)
def _bzip2(bases: _Bases, path: Path) -> None:
    write_parts(path, read_parts(bases.filled()), zipfile.ZIP_BZIP2)


# -- hostile ---------------------------------------------------------------------------------------


@case(
    "zip-bomb.xlsx",
    "read-zip-bomb",
    "200 MB of zeros in the form sheet, ~200 KB on disk",
    bomb=True,
)
def _zip_bomb(bases: _Bases, path: Path) -> None:
    parts = read_parts(bases.filled())
    _stream_part(path, parts, sheet_part(parts, FORM_SHEET), b"", b"\x00", 200 * MB)


@case(
    "zip-bomb-ratio.xlsx",
    "read-zip-bomb",
    "50 MB of one repeated cell (below the size limit, ratio 400:1)",
    bomb=True,
)
def _zip_bomb_ratio(bases: _Bases, path: Path) -> None:
    parts = read_parts(bases.filled())
    head = f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">'.encode()
    _stream_part(
        path,
        parts,
        sheet_part(parts, FORM_SHEET),
        head,
        b'<c t="n"><v>0</v></c>',
        50 * MB,
        b"</row></sheetData></worksheet>",
    )


@case(
    "zip-bomb-unused-part.xlsx",
    "read-zip-bomb",
    "200 MB of zeros in a part the checker never reads (docProps/thumbnail.jpeg), which the "
    "checked copy would have copied",
    bomb=True,
)
def _zip_bomb_unused(bases: _Bases, path: Path) -> None:
    parts = read_parts(bases.filled())
    parts["docProps/thumbnail.jpeg"] = b""
    _stream_part(path, parts, "docProps/thumbnail.jpeg", b"\xff\xd8\xff", b"\x00", 200 * MB)


@case(
    "damaged-unused-part.xlsx",
    "copy-not-written",
    "a bad CRC in docProps/app.xml, a part the checker never reads: checked, but no copy",
    exit=0,
)
def _damaged_unused(bases: _Bases, path: Path) -> None:
    write_parts(path, read_parts(bases.filled()), zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("docProps/app.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 10] ^= 0x20  # one letter's case: the XML stays well-formed, the CRC fails
    path.write_bytes(bytes(data))


@case(
    "zip-bomb-lying-size.xlsx",
    "read-corrupt-zip",
    "a zip bomb whose directory claims 100 KB",
    bomb=True,
)
def _zip_bomb_liar(bases: _Bases, path: Path) -> None:
    parts = read_parts(bases.filled())
    name = sheet_part(parts, FORM_SHEET)
    _stream_part(path, parts, name, b"", b"\x00", 200 * MB)
    data = bytearray(path.read_bytes())
    position = zipfile.ZipFile(io.BytesIO(bytes(data))).start_dir
    while data[position : position + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46 : position + 46 + name_length] == name.encode():
            extra = position + 46 + name_length
            cursor = extra
            while cursor < extra + extra_length:
                tag, size = struct.unpack_from("<HH", data, cursor)
                if tag == 0x0001:  # ZIP64: the real uncompressed size comes first
                    struct.pack_into("<Q", data, cursor + 4, 100 * 1024)
                cursor += 4 + size
            struct.pack_into("<I", data, position + 24, 100 * 1024)
        position += 46 + name_length + extra_length + comment_length
    path.write_bytes(bytes(data))


_LAUGHS = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)).replace(
    "&lol0;", "lol"
)


@case("xml-bomb-laughs.xlsx", "read-xml-unsafe", "billion laughs in the shared strings", bomb=True)
def _billion_laughs(bases: _Bases, path: Path) -> None:
    def change(parts: Parts) -> None:
        parts["xl/sharedStrings.xml"] = (
            f'<?xml version="1.0"?><!DOCTYPE sst [{_LAUGHS}]>'
            f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
        ).encode()

    edit_parts(bases.template(), path, change)


@case(
    "xml-bomb-quadratic.xlsx",
    "read-xml-unsafe",
    "quadratic blow-up: a 100 KB entity used 20,000 times in a cell",
    bomb=True,
)
def _quadratic(bases: _Bases, path: Path) -> None:
    sheet, ref = bases.where("goal_actual")

    def change(parts: Parts) -> None:
        name = sheet_part(parts, sheet)
        text = parts[name].decode("utf-8")
        body = "<is><t>" + "&a;" * 20_000 + "</t></is>"
        text = set_cell_xml(text.encode(), ref, body, "inlineStr").decode()
        doctype = f'<!DOCTYPE worksheet [<!ENTITY a "{"A" * 100_000}">]>'
        text = re.sub(r"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or "") + doctype, text, count=1)
        parts[name] = text.encode()

    edit_parts(bases.filled(), path, change)


@case("xxe.xlsx", "read-xml-unsafe", "an external entity (file:///etc/passwd) in the workbook part")
def _xxe(bases: _Bases, path: Path) -> None:
    def change(parts: Parts) -> None:
        text = parts["xl/workbook.xml"].decode("utf-8")
        doctype = '<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        text = re.sub(r"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or "") + doctype, text, count=1)
        text = text.replace(
            "<definedNames>", '<definedNames><definedName name="leak">&xxe;</definedName>', 1
        )
        parts["xl/workbook.xml"] = text.encode()

    edit_parts(bases.filled(), path, change)


@case("too-many-parts.xlsx", "read-too-large", "5,000 tiny zip entries (a directory bomb)")
def _many_parts(bases: _Bases, path: Path) -> None:
    parts = read_parts(bases.filled())
    items = list(parts.items()) + [(f"customXml/item{n}.xml", b"<a/>") for n in range(5000)]
    write_parts(path, items)


@case(
    "shared-formula-bomb.xlsx",
    "read-too-large",
    "an 8,000-character shared formula filled down 5,000 cells (a CPU bomb: minutes to translate)",
    bomb=True,
)
def _shared_formula_bomb(bases: _Bases, path: Path) -> None:
    master = "+".join(f"A{n}" for n in range(1, 1600))

    def change(parts: Parts) -> None:
        name = sheet_part(parts, FORM_SHEET)
        rows = f'<row r="100"><c r="Z100"><f t="shared" ref="Z100:Z5100" si="99">{master}</f><v>0</v></c></row>'
        rows += "".join(
            f'<row r="{r}"><c r="Z{r}"><f t="shared" si="99"/><v>0</v></c></row>'
            for r in range(101, 5101)
        )
        parts[name] = parts[name].replace(b"</sheetData>", rows.encode() + b"</sheetData>", 1)

    edit_parts(bases.filled(), path, change)


@case(
    "validation-bomb.xlsx",
    "read-too-large",
    "20,000 data validations of 100,000 cells each (once hours of work for the checker)",
    bomb=True,
)
def _validation_bomb(bases: _Bases, path: Path) -> None:
    def change(parts: Parts) -> None:
        name = sheet_part(parts, FORM_SHEET)
        extra = "".join(
            f'<dataValidation type="whole" sqref="A{n % 1000 + 1}:A100000"><formula1>0</formula1>'
            "</dataValidation>"
            for n in range(20_000)
        )
        parts[name] = re.sub(
            rb"<dataValidations[^>]*>", b"<dataValidations>" + extra.encode(), parts[name], count=1
        )

    edit_parts(bases.filled(), path, change)


@case("names-bomb.xlsx", "read-too-large", "100,000 defined names in the workbook part", bomb=True)
def _names_bomb(bases: _Bases, path: Path) -> None:
    def change(parts: Parts) -> None:
        names = "".join(
            f"<definedName name=\"n{n}\">'{FORM_SHEET}'!$A${n % 1000 + 1}</definedName>"
            for n in range(100_000)
        )
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
            b"<definedNames>", b"<definedNames>" + names.encode(), 1
        )

    edit_parts(bases.filled(), path, change)


@case("macros.xlsm", "read-macros", "saved as .xlsm with a VBA project (xl/vbaProject.bin)")
def _macros(bases: _Bases, path: Path) -> None:
    def change(parts: Parts) -> None:
        parts["xl/vbaProject.bin"] = _ole("Root Entry", "VBA", "dir", "ThisWorkbook", "PROJECT")
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>",
            b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/'
            b'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
        )
        parts["[Content_Types].xml"] = (
            parts["[Content_Types].xml"]
            .replace(
                b"</Types>",
                b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
            )
            .replace(
                b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
            )
        )

    edit_parts(bases.filled(), path, change)


@case("macro-sheet.xlsx", "read-macros", "an Excel 4.0 macro sheet (xl/macrosheets/) added, hidden")
def _macro_sheet(bases: _Bases, path: Path) -> None:
    def change(parts: Parts) -> None:
        parts["xl/macrosheets/sheet1.xml"] = (
            f'<xm:macrosheet xmlns="{MAIN_NS}" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
            '<sheetData><row r="1"><c r="A1"><f>EXEC("calc.exe")</f></c></row></sheetData></xm:macrosheet>'
        ).encode()
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>",
            b'<Relationship Id="rIdM" Type="http://schemas.microsoft.com/office/2006/relationships/'
            b'xlMacrosheet" Target="macrosheets/sheet1.xml"/></Relationships>',
        )
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
            b"</sheets>", b'<sheet name="Macro1" sheetId="99" state="hidden" r:id="rIdM"/></sheets>'
        )

    edit_parts(bases.filled(), path, change)


@case(
    "external-link.xlsx",
    "read-external-links",
    "a link to another workbook (xl/externalLinks/externalLink1.xml)",
)
def _external_link(bases: _Bases, path: Path) -> None:
    def change(parts: Parts) -> None:
        parts["xl/externalLinks/externalLink1.xml"] = (
            f'<externalLink xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><externalBook r:id="rId1">'
            '<sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>'
        ).encode()
        parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
            f'<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
            'Target="file:///C:/Users/clerk/Desktop/other.xlsx" TargetMode="External"/></Relationships>'
        ).encode()
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>",
            b'<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>',
        )

    edit_parts(bases.filled(), path, change)


@case(
    "other-file-formula.xlsx",
    "value-external-reference",
    "an input cell holding ='[other.xlsx]Sheet1'!A1",
)
def _other_file_formula(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, set_fields({"funds_current_spent": "='[other.xlsx]Sheet1'!A1"}))


@case(
    "dde-formula.xlsx",
    "value-external-reference",
    "a DDE formula (=cmd|' /C calc'!A0) typed into an input cell",
)
def _dde(bases: _Bases, path: Path) -> None:
    edit_cell(
        bases,
        bases.filled(),
        path,
        "goal_actual",
        "<f>cmd|' /C calc'!A0</f><v>0</v>",
        None,
    )


# -- not our template, or not this version -------------------------------------------------------------


@case("foreign.xlsx", "not-a-template", "somebody else's workbook: a plain table, no metadata")
def _foreign(bases: _Bases, path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet: Any = workbook.active
    sheet.title = "项目支出绩效自评表"
    sheet.append(["项目名称", "全年预算数", "全年执行数", "得分"])
    sheet.append(["征收工作经费", 124.01, 124.01, 100])
    workbook.save(path)


@case("metadata-deleted.xlsx", "not-a-template", "the _xltools metadata sheet deleted")
def _meta_deleted(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, lambda wb: wb.remove(wb[META_SHEET]))


@case("unknown-template.xlsx", "unknown-template", "metadata naming a template id no spec has")
def _unknown_template(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, set_meta("template", "project_expense_2031"))


@case(
    "future-version.xlsx",
    "superseded-version",
    "a version newer than any spec here (v2 of a v1 form)",
)
def _future_version(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, set_meta("version", 2))


@case(
    "superseded-version.xlsx",
    "superseded-version",
    "a version older than those accepted (v0 of a v1 form)",
)
def _old_version(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, set_meta("version", 0))


# -- tampered ------------------------------------------------------------------------------------------


@case(
    "weights-edited.xlsx",
    "tamper-fixed-changed",
    "protection removed, a fixed weight raised (资金 10 -> 20)",
)
def _weights(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, set_fields({"funds_total_weight": 20}, unprotect=True))


@case("label-edited.xlsx", "tamper-label-changed", "a locked label rewritten")
def _label(bases: _Bases, path: Path) -> None:
    edit_book(
        bases.filled(), path, lambda wb: setattr(wb[FORM_SHEET].cell(2, 1), "value", "项目全称")
    )


@case(
    "target-edited.xlsx",
    "tamper-prefill-changed",
    "a bureau's pre-filled, locked target lowered (60 -> 6)",
)
def _target(bases: _Bases, path: Path) -> None:
    edit_book(bases.distributed(), path, set_fields({"ind_output_quantity_1_target": 6}))


@case(
    "formula-replaced.xlsx",
    "tamper-formula-replaced",
    "the total score's formula replaced by the constant 100",
)
def _formula_constant(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, set_fields({"total_score": 100}, unprotect=True))


@case(
    "cached-faked.xlsx",
    "tamper-cached-result",
    "the cached total edited in the XML: 95 shown as 100, grade 优秀",
)
def _cached(bases: _Bases, path: Path) -> None:
    sheet, total = bases.where("total_score")
    _, grade = bases.where("grade")

    def change(parts: Parts) -> None:
        _rewrite_cached(parts, sheet, total, "100", None)
        _rewrite_cached(parts, sheet, grade, "优秀", "str")

    edit_parts(bases.cached(), path, change)


@case(
    "rows-inserted.xlsx",
    "tamper-cells-moved",
    "a row inserted above the indicators (names moved with the cells)",
)
def _rows(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, insert_row(8))


@case("sheet-renamed.xlsx", "tamper-sheet-renamed", "the form sheet renamed")
def _renamed(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, lambda wb: setattr(wb[FORM_SHEET], "title", "自评表"))


@case(
    "sheet-renamed-names-follow.xlsx",
    "tamper-sheet-renamed",
    "the form sheet renamed as Excel does it: every defined name follows the new name",
)
def _renamed_names(bases: _Bases, path: Path) -> None:
    def change(workbook: Any) -> None:
        workbook[FORM_SHEET].title = "自评表"
        for definition in workbook.defined_names.values():
            definition.attr_text = definition.attr_text.replace(f"'{FORM_SHEET}'!", "'自评表'!")

    edit_book(bases.filled(), path, change)


@case(
    "sheet-deleted.xlsx",
    "tamper-sheet-missing",
    "the form sheet deleted (only the panel and metadata left)",
)
def _deleted(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, lambda wb: wb.remove(wb[FORM_SHEET]))


@case("fingerprint-edited.xlsx", "tamper-fingerprint", "the metadata's fingerprint edited")
def _fingerprint(bases: _Bases, path: Path) -> None:
    edit_book(bases.distributed(), path, set_meta("fingerprint", "0" * 64))


@case(
    "prefill-not-an-object.xlsx",
    "tamper-meta-changed",
    "the metadata's pre-filled values replaced by the number 0 (once an internal error)",
)
def _prefill_number(bases: _Bases, path: Path) -> None:
    edit_book(bases.distributed(), path, set_meta("prefill", 0))


@case("junk-rows.xlsx", "tamper-extra-content", "50,000 rows of junk below the form")
def _junk(bases: _Bases, path: Path) -> None:
    def change(parts: Parts) -> None:
        name = sheet_part(parts, FORM_SHEET)
        rows = "".join(
            f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="inlineStr"><is><t>垃圾{r}</t>'
            f'</is></c><c r="C{r}"><v>{r * 0.5}</v></c></row>'
            for r in range(101, 50_101)
        )
        parts[name] = parts[name].replace(b"</sheetData>", rows.encode() + b"</sheetData>", 1)

    edit_parts(bases.filled(), path, change)


# -- careless or odd content ---------------------------------------------------------------------------------


@case(
    "text-in-number.xlsx",
    "parse-not-a-number",
    "“按要求完成” typed where 全年执行数 (万元) belongs",
)
def _text_number(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, set_fields({"funds_current_spent": "按要求完成"}))


@case("negative-money.xlsx", "value-out-of-range", "a negative 全年执行数")
def _negative(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, set_fields({"funds_current_spent": -124.01}))


@case(
    "percent-over-100.xlsx",
    "value-out-of-range",
    "“150%” where the field's max is 100% (医疗救助评分表)",
)
def _percent(bases: _Bases, path: Path) -> None:
    edit_book(
        bases.filled(MEDICAL), path, set_fields({"ind_output_quality_ratio_1_actual": "150%"})
    )


@case(
    "percent-ambiguous.xlsx",
    "parse-ambiguous-percent",
    "the number 1.5 in a percent field: 150 % or 1.5 %?",
)
def _percent_number(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(MEDICAL), path, set_fields({"ind_output_quality_ratio_1_actual": 1.5}))


@case("date-out-of-range.xlsx", "value-out-of-range", "填报日期 2200-01-01")
def _date(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, set_fields({"fill_date": dt.datetime(2200, 1, 1)}))


@case("error-div0.xlsx", "parse-excel-error", "#DIV/0! typed into 全年执行数")
def _div0(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, set_fields({"funds_current_spent": "#DIV/0!"}))


@case("error-ref.xlsx", "parse-excel-error", '#REF! in an indicator\'s 实际完成值 (t="e")')
def _ref(bases: _Bases, path: Path) -> None:
    edit_cell(bases, bases.filled(), path, "ind_output_quality_1_actual", "<v>#REF!</v>", "e")


@case(
    "long-text.xlsx",
    "value-too-long",
    "100,000 characters in 实际完成情况, three times what an Excel cell holds (written in the XML)",
)
def _long(bases: _Bases, path: Path) -> None:
    body = "<is><t>" + "很好" * 50_000 + "</t></is>"
    edit_cell(bases, bases.filled(), path, "goal_actual", body, "inlineStr")


@case(
    "control-chars.xlsx",
    "parse-control-characters",
    "BEL, ESC [2J (a terminal escape), a zero-width space and a right-to-left override in the "
    "unit name, as Excel escapes them (_x0007_): removed, and reported as information",
    exit=0,
)
def _control(bases: _Bases, path: Path) -> None:
    body = "<is><t>汨罗市_x0007_医疗_x001B_[2J保障\u200b局\u202e</t></is>"
    edit_cell(bases, bases.filled(), path, "unit_name", body, "inlineStr")


@case(
    "control-chars-raw.xlsx",
    "read-xml-malformed",
    "a raw BEL byte inside the XML of a text cell (no XML may carry it)",
)
def _control_raw(bases: _Bases, path: Path) -> None:
    body = "<is><t>汨罗市\x07医疗保障局</t></is>"
    edit_cell(bases, bases.filled(), path, "unit_name", body, "inlineStr")


@case(
    "terminal-escape.xlsx",
    "unknown-template",
    "a template id holding ESC sequences that would clear the reviewer's terminal and print “全部通过”",
)
def _terminal(bases: _Bases, path: Path) -> None:
    def change(parts: Parts) -> None:
        name = sheet_part(parts, META_SHEET)
        body = "<is><t>_x001B_[2J_x001B_[H全部通过_x0007_</t></is>"
        parts[name] = set_cell_xml(
            parts[name], f"B{META_KEYS.index('template') + 1}", body, "inlineStr"
        )

    edit_parts(bases.filled(), path, change)


@case(
    "-单位 “填报” 'v2' 😀 final.xlsx",
    "parse-not-a-number",
    "odd file name: leading dash, spaces, Chinese, quotes, emoji",
)
def _odd_name(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, set_fields({"funds_current_budget": "约一百万"}))


@case(
    "surrogate-escape.xlsx",
    "parse-not-a-number",
    "a lone UTF-16 half (_xD800_) in a number cell: once an internal error (exit 2)",
)
def _surrogate(bases: _Bases, path: Path) -> None:
    edit_cell(
        bases,
        bases.filled(),
        path,
        "funds_current_spent",
        "<is><t>12_xD800_3</t></is>",
        "inlineStr",
    )


@case(
    os.fsdecode("gbk-\xb5\xa5\xce\xbb.xlsx".encode("latin-1")),
    "parse-not-a-number",
    "a file name in GBK bytes (单位, from a Windows USB stick), not UTF-8: Linux only",
)
def _gbk_name(bases: _Bases, path: Path) -> None:
    edit_book(bases.filled(), path, set_fields({"funds_current_budget": "约一百万"}))


@case("blank-template.xlsx", "return-blank", "the blank template sent back unfilled")
def _blank(bases: _Bases, path: Path) -> None:
    shutil.copyfile(bases.template(), path)


# --------------------------------------------------------------------------------------------


def cases() -> list[CorpusCase]:
    """The cases, without building them."""
    return [c for c, _ in _CASES]


def make_corpus(out_dir: Path) -> list[CorpusCase]:
    """Write every case's file into ``out_dir`` (created); returns the cases in order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory(prefix="xltools-corpus-") as work:
        bases = _Bases(Path(work))
        for corpus_case, build in _CASES:
            try:
                build(bases, out_dir / corpus_case.file)
            except (OSError, UnicodeError):  # a file name this file system refuses
                if corpus_case.file.isprintable():
                    raise
                continue
            made.append(corpus_case)
    names = [c.file for c in made]
    assert len(set(names)) == len(names), "duplicate corpus file names"
    return made


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python tests/corpus/make_corpus.py OUT_DIR", file=sys.stderr)
        return 2
    made = make_corpus(Path(argv[1]))
    width = max(len(c.file) for c in made)
    for corpus_case in made:
        size = os.path.getsize(Path(argv[1]) / corpus_case.file)
        print(
            f"{corpus_case.file:<{width}}  {corpus_case.code:<26} {size:>10,}  {corpus_case.what}"
        )
    print(f"{len(made)} files in {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
