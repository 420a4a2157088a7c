"""The fuzzer shared by ``tests/test_fuzz.py`` (bounded, in CI) and ``scripts/fuzz.py`` (for a
given time): hypothesis strategies that mutate valid filled workbooks, and the properties every
mutated file must satisfy.

Mutations, one to four per file, on top of a valid seed workbook:

* **cells** of a sheet's XML: a ``<c>`` replaced by one with another type (``t=``), value,
  style index, address, formula (shared formulas included) or inline text;
* **parts**: truncated, bytes flipped, XML-ish tokens inserted, an element dropped or
  duplicated, an attribute's value replaced, re-encoded as UTF-16;
* **zip entries**: dropped, duplicated, renamed, recompressed (stored, deflate, bzip2, LZMA),
  reordered, or an entry added (a macro project, an external link, a path outside the package);
* **the zip's bytes**: flipped, truncated, junk before or after.

Properties: :func:`check_one_file` — ``check_file`` returns a report and never raises, within
:data:`TIME_LIMIT` seconds of CPU (a blocked one is stopped by a wall-clock watchdog); every finding has a code and a Chinese message; the checked copy is
written without error whenever the file was read. :func:`merge_accounts` — ``merge`` accounts
for every input (accepted + superseded + rejected == inputs) and rejects none as an internal
error.
"""

from __future__ import annotations

import contextlib
import io
import re
import signal
import sys
import tempfile
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import strategies as st

from .make_corpus import MEDICAL, _Bases, edit_book, set_fields

#: Seconds of CPU one file may take (check and checked copy together).
TIME_LIMIT = 5.0
CJK = re.compile(r"[\u4e00-\u9fff]")

# --------------------------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------------------------


def build_seeds(work: Path, libreoffice: bool = False) -> dict[str, bytes]:
    """The valid workbooks mutations start from: the filled example (openpyxl, no cached
    results), every value pre-filled by the generator (XlsxWriter, cached results), a bureau's
    distributed copy filled in, another form (医疗救助评分表), the blank template, a file with a
    few careless values, and — when asked and LibreOffice is present — the filled example as
    LibreOffice saves it."""
    bases = _Bases(work)
    seeds = {
        "filled": bases.filled(),
        "cached": bases.cached(),
        "distributed": bases.distributed(),
        "medical": bases.filled(MEDICAL),
        "template": bases.template(),
    }
    careless = work / "careless.xlsx"
    edit_book(
        bases.filled(),
        careless,
        set_fields({"funds_current_spent": "124.01万元", "fill_date": "2024年3月15日"}),
    )
    seeds["careless"] = careless
    if libreoffice:
        from xltools.libreoffice import find_soffice, recalculate

        if find_soffice() is not None:
            (saved,) = recalculate([bases.filled()], work / "lo")
            seeds["libreoffice"] = saved
    return {name: path.read_bytes() for name, path in seeds.items()}


# --------------------------------------------------------------------------------------------
# Mutations
# --------------------------------------------------------------------------------------------


@dataclass
class Entry:
    name: str
    data: bytes
    compression: int = zipfile.ZIP_DEFLATED


def unpack(data: bytes) -> list[Entry]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [Entry(i.filename, archive.read(i), i.compress_type) for i in archive.infolist()]


def pack(entries: list[Entry]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": wanted
        with zipfile.ZipFile(buffer, "w") as archive:
            for entry in entries:
                info = zipfile.ZipInfo(entry.name, date_time=(2024, 3, 15, 0, 0, 0))
                info.compress_type = entry.compression
                archive.writestr(info, entry.data)
    return buffer.getvalue()


NUMBERS = [
    "0", "-0", "1", "-1", "0.5", "124.01", "1e15", "1e308", "1e309", "-1e309", "nan", "inf",
    "NaN", "1E-320", "99999999999999999999", "0x10", "1_000", " 12 ", "1,234", "１２", "",
    "2958466", "-693594", "45366", "1.7976931348623157e308", "4.9e-324",
]  # fmt: skip
TEXTS = [
    "", " ", "按要求完成", "全覆盖", "95%", "150%", "63万", "≥", "定性", "达成", "是", "否",
    "2024-03-15", "2024年3月15日", "12月31日完成", "#DIV/0!", "#REF!", "#N/A", "TRUE",
    "=1+1", "@SUM(1)", "+cmd|' /C calc'!A0", "_x0007_", "_xD800_", "_xD83D__xDE00_",
    "_x001B_[2J全部通过", "\u202e局", "a" * 3000, "很" * 40_000, "<&>\"'", "\t\n\r",
    "project_expense_2023", "xltools-template", "2", "0", "-1", "B001",
]  # fmt: skip
FORMULAS = [
    "1/0", "SUM(A1:A3)", "'[other.xlsx]Sheet1'!A1", "[1]Sheet1!$A$1", "cmd|' /C calc'!A0",
    "WEBSERVICE(\"http://x\")", "A1+", "((((", "#REF!+1", "Z1048576+1", "XFD1:XFD1048576",
    "IF(1,\"a\",\"b\")", "funds_total_weight", "INDIRECT(\"A\"&1)", "A1:A3*2", "",
]  # fmt: skip
CELL_TYPES = [None, "n", "s", "str", "inlineStr", "b", "e", "d", "x", ""]
STYLES = [None, "0", "1", "2", "25", "999999", "-1", "abc", ""]
REFS = ["A1", "B2", "XFD1048576", "XFE1", "A0", "A1048577", "1A", "", "ZZZZ1", "a1", "$B$2"]
TOKENS = [
    "<", ">", "&", '"', "'", "</c>", "<c>", "<row>", "</row>", "</sheetData>", "\x00", "\x07",
    "é", "\ufffe", ' t="s"', ' s="99999"', ' r="A1"', "<v>x</v>", "<v>1e309</v>",
    '<!DOCTYPE x [<!ENTITY a "b">]>', "&a;", "&#0;", "&#x1B;", "<?pi x?>", "<!-- -->",
    "]]>", "<![CDATA[x]]>", '<f t="shared" si="0"/>', '<f t="shared" ref="A1:A9" si="0">A1</f>',
    '<mergeCell ref="A1:XFD1048576"/>', '<dataValidation sqref="A:A XFD1"/>',
    '<definedName name="x">\'_xltools\'!$B$2</definedName>', '<sheet name="x" r:id="rId99"/>',
    "xmlns=\"http://purl.oclc.org/ooxml/spreadsheetml/main\"",
]  # fmt: skip
ATTRIBUTE_VALUES = [
    "", "0", "1", "-1", "true", "false", "veryHidden", "hidden", "visible", "999999999",
    "A1:XFD1048576", "rId1", "rId999", "/xl/worksheets/sheet1.xml", "../../etc/passwd",
    "http://example.com/x", "External", "s", "e", "shared", "项目", "'", "_xltools",
]  # fmt: skip
EXTRA_ENTRIES = [
    ("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
    ("xl/externalLinks/externalLink1.xml", b"<externalLink/>"),
    ("../../evil.xml", b"<a/>"),
    ("/xl/workbook.xml", b"<workbook/>"),
    ("xl/worksheets/sheet99.xml", b"<worksheet/>"),
    ("xl/sharedStrings.xml", b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>x</t></si></sst>'),
    ("xl/zeros.bin", bytes(2 << 20)),
    ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
    ("word/document.xml", b"<w:document/>"),
]  # fmt: skip
COMPRESSIONS = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]

_CELL = re.compile(rb"<c\b[^>]*?(?:/>|>.*?</c>)", re.S)
_SELF_CLOSED = re.compile(rb"<[A-Za-z][\w:.-]*\b[^<>]*?/>")
_OPENING = re.compile(rb"<([A-Za-z][\w:.-]*)\b[^<>]*?(?<!/)>")
_ATTRIBUTE = re.compile(rb'([\w:]+)="([^"]*)"')


def _text(draw: Any) -> str:
    return str(
        draw(
            st.one_of(
                st.sampled_from(TEXTS),
                st.sampled_from(NUMBERS),
                st.text(max_size=20),
                st.floats(allow_nan=True, allow_infinity=True).map(repr),
                st.integers(min_value=-(10**30), max_value=10**30).map(str),
            )
        )
    )


def _xml(text: str) -> bytes:
    return escape(text).encode("utf-8", "surrogatepass")


_XML_TEXT = st.text(
    st.characters(
        exclude_categories=["Cs"],
        exclude_characters="\ufffe\uffff",
        min_codepoint=0x20,
    )
    | st.sampled_from("\t\n\r"),
    max_size=20,
)
ERRORS = ["#DIV/0!", "#REF!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"]


def _valid_cell_xml(draw: Any, original: bytes) -> bytes:
    """A well-formed ``<c>`` of a valid type in place of ``original`` (address and style kept):
    what an application or a careless clerk could have written."""
    head = re.match(rb"<c\b[^>]*?(?=/?>)", original)
    attrs = re.sub(rb'\s+t="[^"]*"', b"", head.group(0)[2:] if head else b"")
    text = draw(st.one_of(st.sampled_from(TEXTS), _XML_TEXT))
    number = draw(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False).map(repr),
            st.integers(-(10**16), 10**16).map(str),
            st.sampled_from(["0", "-1", "0.95", "1.5", "95", "100", "45366", "124.01", "1e15"]),
        )
    )
    formula = _xml(draw(st.sampled_from(FORMULAS)))
    shape = draw(st.integers(0, 6))
    if shape == 0:
        return b"<c" + attrs + b"><v>" + number.encode() + b"</v></c>"
    if shape == 1:
        return b"<c" + attrs + b' t="inlineStr"><is><t>' + _xml(text) + b"</t></is></c>"
    if shape == 2:
        return b"<c" + attrs + b' t="str"><f>' + formula + b"</f><v>" + _xml(text) + b"</v></c>"
    if shape == 3:
        return b"<c" + attrs + b' t="b"><v>' + draw(st.sampled_from([b"0", b"1"])) + b"</v></c>"
    if shape == 4:
        error = draw(st.sampled_from(ERRORS)).encode()
        return b"<c" + attrs + b' t="e"><v>' + error + b"</v></c>"
    if shape == 5:
        return b"<c" + attrs + b"><f>" + formula + b"</f><v>" + number.encode() + b"</v></c>"
    return b"<c" + attrs + b"/>"


def _cell_xml(draw: Any, original: bytes) -> bytes:
    """A ``<c>`` element in place of ``original``: mostly valid, sometimes anything."""
    if draw(st.integers(0, 9)) < 7:
        return _valid_cell_xml(draw, original)
    found = re.search(rb'\br="([^"]*)"', original)
    ref = found.group(1) if found else b""
    if draw(st.integers(0, 4)) == 0:
        ref = draw(st.sampled_from(REFS)).encode()
    attrs = b' r="' + ref + b'"' if ref or draw(st.booleans()) else b""
    kind = draw(st.sampled_from(CELL_TYPES))
    if kind is not None:
        attrs += b' t="' + kind.encode() + b'"'
    style = draw(st.sampled_from(STYLES))
    if style is None:
        kept = re.search(rb'\bs="[^"]*"', original)
        attrs += b" " + kept.group(0) if kept else b""
    else:
        attrs += b' s="' + style.encode() + b'"'
    body = b""
    if draw(st.integers(0, 3)) == 0:
        shared = draw(
            st.sampled_from(
                [
                    "",
                    ' t="shared" si="0"',
                    ' t="shared" si="7" ref="A1:Z99"',
                    ' t="array" ref="A1:B2"',
                ]
            )
        )
        if shared.endswith('si="0"') and draw(st.booleans()):
            body += b"<f" + shared.encode() + b"/>"
        else:
            formula = draw(st.one_of(st.sampled_from(FORMULAS), st.text(max_size=15)))
            body += b"<f" + shared.encode() + b">" + _xml(formula) + b"</f>"
    value = _text(draw)
    shape = draw(st.integers(0, 3))
    if shape == 0:
        body += b"<is><t>" + _xml(value) + b"</t></is>"
    elif shape == 1:
        body += b"<v>" + _xml(value) + b"</v>"
    elif shape == 2:
        body += b"<v>" + str(draw(st.integers(-2, 10**6))).encode() + b"</v>"
    return b"<c" + attrs + (b">" + body + b"</c>" if body else b"/>")


def named_cells(entries: list[Entry]) -> dict[str, set[bytes]]:
    """Part name -> the addresses (b"C5") of the cells that defined names point at: the fields,
    where a clerk types and the checker looks."""
    parts = {e.name: e.data for e in entries}
    try:
        from .make_corpus import sheet_part

        book = parts["xl/workbook.xml"].decode("utf-8")
        found: dict[str, set[bytes]] = {}
        for sheet, col, row in re.findall(r"'([^']+)'!\$([A-Z]+)\$([0-9]+)", book):
            part = sheet_part(parts, sheet.replace("''", "'"))
            found.setdefault(part, set()).add(f"{col}{row}".encode())
        return found
    except (KeyError, UnicodeDecodeError):
        return {}


def _mutate_cell(
    draw: Any, entries: list[Entry], log: list[str], fields: dict[str, set[bytes]]
) -> None:
    sheets = [e for e in entries if e.name.startswith("xl/worksheets/") and e.name.endswith(".xml")]
    if not sheets:
        return
    on_fields = [e for e in sheets if e.name in fields]
    entry = draw(st.sampled_from(on_fields if on_fields and draw(st.booleans()) else sheets))
    cells = list(_CELL.finditer(entry.data))
    if entry in on_fields:
        wanted = fields[entry.name]
        cells = [
            c
            for c in cells
            if (m := re.match(rb'<c r="([^"]+)"', c.group(0))) and m.group(1) in wanted
        ] or cells
    if not cells:
        return
    target = cells[draw(st.integers(0, len(cells) - 1))]
    new = _cell_xml(draw, target.group(0))
    entry.data = entry.data[: target.start()] + new + entry.data[target.end() :]
    log.append(f"cell {entry.name}: {target.group(0)[:60]!r} -> {new[:80]!r}")


def _position(draw: Any, data: bytes) -> int:
    return draw(st.integers(0, max(0, len(data))))


def _mutate_part(draw: Any, entries: list[Entry], log: list[str]) -> None:
    if not entries:
        return
    xml = [e for e in entries if e.name.endswith((".xml", ".rels"))]
    entry = draw(st.sampled_from(xml or entries))
    data = entry.data
    action = draw(
        st.sampled_from(["truncate", "flip", "insert", "drop", "duplicate", "attribute", "utf16"])
    )
    if action == "truncate":
        data = data[: _position(draw, data)]
    elif action == "flip" and data:
        mutable = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            mutable[draw(st.integers(0, len(mutable) - 1))] = draw(st.integers(0, 255))
        data = bytes(mutable)
    elif action == "insert":
        at = _position(draw, data)
        token = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)))
        data = data[:at] + token.encode("utf-8", "surrogatepass") + data[at:]
    elif action in ("drop", "duplicate"):
        element = _element(draw, data)
        if element is not None:
            start, end = element
            piece = data[start:end]
            data = data[:start] + (piece * 2 if action == "duplicate" else b"") + data[end:]
            action += f" {piece[:50]!r}"
    elif action == "attribute":
        attributes = list(_ATTRIBUTE.finditer(data))
        if attributes:
            chosen = attributes[draw(st.integers(0, len(attributes) - 1))]
            value = draw(st.one_of(st.sampled_from(ATTRIBUTE_VALUES), st.text(max_size=10)))
            replacement = chosen.group(1) + b'="' + _xml(value).replace(b'"', b"&quot;") + b'"'
            data = data[: chosen.start()] + replacement + data[chosen.end() :]
            action += f" {chosen.group(0)[:40]!r} -> {replacement[:40]!r}"
    elif action == "utf16":
        with contextlib.suppress(UnicodeDecodeError):
            text = data.decode("utf-8")
            text = re.sub(r'encoding="UTF-8"', 'encoding="UTF-16"', text, count=1, flags=re.I)
            data = text.encode("utf-16")
    entry.data = data
    log.append(f"part {entry.name}: {action}")


def _element(draw: Any, data: bytes) -> tuple[int, int] | None:
    """(start, end) of a random element: a self-closed one or an opening tag up to the first
    matching closing tag (not nesting-aware: that is fine for a fuzzer)."""
    if draw(st.booleans()):
        found = list(_SELF_CLOSED.finditer(data))
        if found:
            match = found[draw(st.integers(0, len(found) - 1))]
            return match.start(), match.end()
    openings = list(_OPENING.finditer(data))
    if not openings:
        return None
    match = openings[draw(st.integers(0, len(openings) - 1))]
    closing = data.find(b"</" + match.group(1) + b">", match.end())
    if closing < 0:
        return match.start(), match.end()
    return match.start(), closing + len(match.group(1)) + 3


def _mutate_zip(draw: Any, entries: list[Entry], log: list[str]) -> None:
    action = draw(st.sampled_from(["drop", "duplicate", "rename", "recompress", "reorder", "add"]))
    if not entries and action != "add":
        return
    index = draw(st.integers(0, max(0, len(entries) - 1)))
    if action == "drop":
        gone = entries.pop(index)
        log.append(f"zip drop {gone.name}")
    elif action == "duplicate":
        copy = Entry(entries[index].name, entries[index].data, entries[index].compression)
        if draw(st.booleans()):
            copy.data = copy.data[: len(copy.data) // 2]
        entries.insert(draw(st.integers(0, len(entries))), copy)
        log.append(f"zip duplicate {copy.name}")
    elif action == "rename":
        entry = entries[index]
        old = entry.name
        entry.name = draw(
            st.sampled_from(
                [
                    old.upper(),
                    "/" + old,
                    old.replace("/", "\\"),
                    old + ".bak",
                    entries[draw(st.integers(0, len(entries) - 1))].name,
                    "xl/worksheets/sheet1.xml",
                    "xl/workbook.xml",
                    "",
                ]
            )
        ) or draw(st.text(min_size=1, max_size=12).filter(lambda s: "\x00" not in s))
        log.append(f"zip rename {old} -> {entry.name!r}")
    elif action == "recompress":
        entry = entries[index]
        entry.compression = draw(st.sampled_from(COMPRESSIONS))
        log.append(f"zip recompress {entry.name} {entry.compression}")
    elif action == "reorder":
        order = draw(st.permutations(list(range(len(entries)))))
        entries[:] = [entries[i] for i in order]
        log.append("zip reorder")
    else:
        name, data = draw(st.sampled_from(EXTRA_ENTRIES))
        entries.insert(draw(st.integers(0, len(entries))), Entry(name, data))
        log.append(f"zip add {name}")


def _mutate_bytes(draw: Any, data: bytes, log: list[str]) -> bytes:
    action = draw(st.sampled_from(["flip", "truncate", "append", "prepend"]))
    if action == "flip" and data:
        mutable = bytearray(data)
        for _ in range(draw(st.integers(1, 6))):
            mutable[draw(st.integers(0, len(mutable) - 1))] ^= draw(st.integers(1, 255))
        data = bytes(mutable)
    elif action == "truncate":
        data = data[: _position(draw, data)]
    elif action == "append":
        data += draw(st.binary(max_size=64))
    else:
        data = draw(st.binary(max_size=64)) + data
    log.append(f"bytes {action}")
    return data


class Mutated:
    """A mutated workbook: its seed, its bytes and what was done to it. (A plain class: the
    repr hypothesis prints for a failing example is the log, not 100 KB of bytes.)"""

    __slots__ = ("data", "log", "seed")

    def __init__(self, seed: str, data: bytes, log: list[str]) -> None:
        self.seed, self.data, self.log = seed, data, log

    def __repr__(self) -> str:
        return f"Mutated(seed={self.seed!r}, {len(self.data)} bytes, log={self.log!r})"


def mutated_workbooks(seeds: dict[str, bytes]) -> st.SearchStrategy[Mutated]:
    """A seed workbook with one to four mutations (cells, parts, zip entries, bytes)."""
    names = sorted(seeds)
    unpacked = {name: unpack(data) for name, data in seeds.items()}
    fields = {name: named_cells(entries) for name, entries in unpacked.items()}

    @st.composite
    def build(draw: Any) -> Mutated:
        seed = draw(st.sampled_from(names))
        entries = [Entry(e.name, e.data, e.compression) for e in unpacked[seed]]
        log: list[str] = []
        raw_bytes = False
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(["cell"] * 6 + ["part"] * 2 + ["zip", "bytes"]))
            if kind == "cell":
                _mutate_cell(draw, entries, log, fields[seed])
            elif kind == "part":
                _mutate_part(draw, entries, log)
            elif kind == "zip":
                _mutate_zip(draw, entries, log)
            else:
                raw_bytes = True
        data = pack(entries)
        if raw_bytes:
            data = _mutate_bytes(draw, data, log)
        return Mutated(seed, data, log)

    return build()


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@dataclass
class Stats:
    """What a fuzzing run saw."""

    files: int = 0
    readable: int = 0  # read as a workbook
    identified: int = 0  # recognised as one of our templates
    valid: int = 0  # no error
    copies: int = 0  # checked copies written
    unreadable_copies: int = 0  # checked copies our own reader refuses (an observation)
    merges: int = 0
    merged_files: int = 0
    slowest: float = 0.0
    codes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    #: checked copies our own reader refuses, with the code: not a failure, worth a look
    odd_copies: list[tuple[Mutated, str]] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.files} files: {self.readable} read, {self.identified} identified, "
            f"{self.valid} valid, {self.copies} checked copies "
            f"({self.unreadable_copies} unreadable), {self.merges} merges of "
            f"{self.merged_files} files; slowest {self.slowest:.2f} s; "
            f"{len(self.codes)} distinct codes; {len(self.failures)} failures"
        )


class Hang(Exception):
    """One file took longer than the watchdog allows."""


@contextlib.contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in this (main) thread after ``seconds`` (POSIX; a no-op elsewhere),
    so that an endless loop is reported instead of stalling the run."""
    if not hasattr(signal, "setitimer") or sys.platform == "win32":
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no result after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_one_file(mutated: Mutated, registry: Any, folder: Path, stats: Stats) -> None:
    """The property for one file, as ``xltools check`` runs it (check, then the checked copy):
    raises AssertionError when it does not hold."""
    from xltools.check.files import check_one
    from xltools.xlsx.reader import WorkbookReadError, read_workbook

    path = folder / "returned.xlsx"
    path.write_bytes(mutated.data)
    copy = folder / "returned.checked.xlsx"
    started, cpu_started = time.perf_counter(), time.process_time()
    with watchdog(TIME_LIMIT * 6):  # a file that blocks: caught by the wall clock
        result = check_one(path, registry, None, copy_to=copy)
    elapsed = time.perf_counter() - started
    # A file that makes the checker spin: caught by CPU time, which a busy machine (CI runs
    # other jobs beside this one) does not inflate as it does the wall clock.
    cpu = time.process_time() - cpu_started
    report = result.report
    stats.files += 1
    stats.slowest = max(stats.slowest, elapsed)
    for finding in report.findings:
        stats.codes[finding.code] += 1
    assert not result.internal_error, [f.message for f in report.findings]
    assert cpu < TIME_LIMIT, f"{cpu:.1f} s of CPU ({elapsed:.1f} s wall)"
    assert report.file == str(path) and report.bytes == len(mutated.data)
    assert_reads_alike(mutated.data)
    for finding in report.findings:
        assert finding.code, finding
        assert CJK.search(finding.message), finding
    if not report.template and not report.findings:
        raise AssertionError("a file that is not one of our templates, without a finding")
    readable = result.copy is not None or any(f.code == "copy-not-written" for f in report.findings)
    if not readable:
        assert not report.valid and report.count("error") >= 1
        return
    stats.readable += 1
    stats.identified += bool(report.template)
    stats.valid += report.valid
    if result.copy is None:
        return
    stats.copies += 1
    assert copy.is_file()
    try:
        read_workbook(copy)
    except WorkbookReadError as error:
        stats.unreadable_copies += 1
        stats.odd_copies.append((mutated, f"{error.code}: {error.message}"))


def assert_reads_alike(data: bytes) -> None:
    """The reader's memory (parts and worksheet tails read before, warm from every file fuzzed
    so far) changes nothing: the file reads as it does with the memory switched off."""
    from test_xlsx_reader_fast import outcome, without_memory  # tests/ is on the path

    remembered, plain = outcome(data), without_memory(data)
    if _damaged(remembered) and _damaged(plain):
        # A part both damaged (bad CRC) and malformed is refused either way; the whole-part
        # read meets the CRC first, the stream the XML error: both are refusals as damaged.
        return
    assert remembered == plain, "the reader's memory changed what was read"


_DAMAGED = frozenset({"read-corrupt-zip", "read-xml-malformed", "read-truncated-zip"})


def _damaged(outcome: object) -> bool:
    return isinstance(outcome, tuple) and len(outcome) == 2 and outcome[0] in _DAMAGED


def merge_accounts(batch: list[Mutated], folder: Path, stats: Stats) -> None:
    """merge accounts for every file of ``batch`` and rejects none as an internal error."""
    from xltools.merge import merge

    folder.mkdir(parents=True, exist_ok=True)
    for n, mutated in enumerate(batch):
        (folder / f"{n:02d}-{mutated.seed}.xlsx").write_bytes(mutated.data)
    with watchdog(TIME_LIMIT * 6 * max(1, len(batch))):
        result = merge([str(folder)], workers=1)
    try:
        counts = result.counts
        assert counts.inputs == len(batch), counts
        accounted = counts.accepted + counts.superseded + counts.rejected + counts.skipped
        assert accounted == counts.inputs, counts
        rejected = result.rejected
        codes = set(rejected["code"].astype(str)) if len(rejected) else set()
        assert "internal-error" not in codes, rejected.to_dict("records")
    finally:
        result.close()
    stats.merges += 1
    stats.merged_files += len(batch)


def temporary_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="xltools-fuzz-")
