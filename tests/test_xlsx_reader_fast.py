"""The reader's fast paths (xltools.xlsx.reader) read exactly what its plain streaming path
reads:

- its memory: small parts parsed once per distinct content, and a worksheet's tail — what
  follows its cells — parsed once per distinct tail. Whatever was read before, a file reads as
  it does with the memory switched off: on real returns, and on files built to fool the byte
  search that finds the tail;
- shared strings built by the C ElementTree parser when they have the usual shapes, and
  streamed otherwise: every shape below reads as the streaming path reads it.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_xlsx_reader import hand_parts, package  # tests/ is on the path

from xltools.fill import fill_workbook
from xltools.generate import generate_template
from xltools.spec import load_spec
from xltools.xlsx import (
    DEFAULT_LIMITS,
    Limits,
    RawWorkbook,
    WorkbookReadError,
    read_workbook,
    reader,
)
from xltools.xlsx.plain_strings import plain_strings

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "project_expense_2023.yaml"
EXAMPLE = ROOT / "examples" / "project_expense_2023.yaml"
FORM_PART = "xl/worksheets/sheet1.xml"  # the form is the first sheet, the panel the second


@pytest.fixture(autouse=True)
def _forget() -> Iterator[None]:
    reader._REMEMBERED.clear()
    yield
    reader._REMEMBERED.clear()


@pytest.fixture(scope="module")
def returns(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """Two returns of one template with different texts (so different shared-string indexes)
    and different amounts."""
    work = tmp_path_factory.mktemp("memo")
    spec = load_spec(SPEC)
    template = work / "template.xlsx"
    generate_template(spec, template)
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    first, second = work / "a.xlsx", work / "b.xlsx"
    assert fill_workbook(template, spec, data, first) == []
    data["project_name"] = "另一个项目（测试用）"
    data["funds_current_budget"] = 123.45
    assert fill_workbook(template, spec, data, second) == []
    return first.read_bytes(), second.read_bytes()


def snapshot(book: RawWorkbook) -> tuple[Any, ...]:
    return (
        book.names,
        book.local_names,
        book.structure_locked,
        book.locked_styles,
        book.has_macros,
        book.external_links,
        book.parts,
        [dataclasses.astuple(sheet) for sheet in book.sheets],
    )


def outcome(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    try:
        return snapshot(read_workbook(data, limits))
    except WorkbookReadError as exc:
        return (exc.code, exc.message)


def without_memory(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    """The plain path: every part streamed through the guarded expat parser."""
    saved = reader._REMEMBER_MAX_BYTES
    reader._REMEMBER_MAX_BYTES = -1  # every part is larger: nothing remembered
    try:
        return outcome(data, limits)
    finally:
        reader._REMEMBER_MAX_BYTES = saved


@pytest.fixture
def tail_hits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    hits = [0]
    apply = reader._TailEffect.apply

    def counted(self: Any, handler: Any) -> None:
        hits[0] += 1
        apply(self, handler)

    monkeypatch.setattr(reader._TailEffect, "apply", counted)
    return hits


def with_part(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """``data`` (an .xlsx) with part ``name`` changed."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info.filename, change(content) if info.filename == name else content)
    return out.getvalue()


def test_returns_read_the_same_with_and_without_memory(
    returns: tuple[bytes, bytes], tail_hits: list[int]
) -> None:
    first, second = returns
    expected = [without_memory(first), without_memory(second)]
    assert expected[0] != expected[1]
    assert [outcome(first), outcome(second)] == expected  # cold, then warm
    # the second return's tails (form, lists, metadata sheets) came from memory
    assert tail_hits[0] >= 3
    assert [outcome(second), outcome(first)] == expected[::-1]
    assert isinstance(expected[0], tuple) and expected[0][7][1][3]  # the form is protected


def _insert_after(marker: bytes, extra: bytes) -> Callable[[bytes], bytes]:
    def change(xml: bytes) -> bytes:
        assert marker in xml
        return xml.replace(marker, marker + extra, 1)

    return change


def _replace(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def change(xml: bytes) -> bytes:
        assert old in xml
        return xml.replace(old, new, 1)

    return change


# Each variant keeps the tail of the real form byte for byte, or nearly, and changes what the
# tail's meaning depends on — or hides a false "</sheetData>" before the real one.
VARIANTS: dict[str, Callable[[bytes], bytes]] = {
    "end tag in a comment": _insert_after(b"<sheetData>", b"<!-- </sheetData> -->"),
    "protection switched off": _replace(b' sheet="1"', b' sheet="0"'),
    "'>' inside a protection attribute": _replace(
        b"<sheetProtection ", b'<sheetProtection algorithmName="a>b" '
    ),
    "protection removed": lambda xml: xml.replace(
        xml[xml.index(b"<sheetProtection") : xml.index(b"/>", xml.index(b"<sheetProtection")) + 2],
        b"",
    ),
    "a row of cells after the cells": _replace(
        b"<mergeCells", b'<row r="99"><c r="Z99"><v>7</v></c></row><mergeCells'
    ),
    "a second protection in the tail": _replace(
        b"<mergeCells", b'<sheetProtection sheet="0"/><mergeCells'
    ),
    "a second sheetData in the tail": _replace(b"<mergeCells", b"<sheetData/><mergeCells"),
    "a merge inside sheetData": _insert_after(b"<sheetData>", b'<mergeCell ref="X1:Y2"/>'),
    "validation opened around the cells": lambda xml: xml.replace(
        b"<sheetData>", b"<dataValidation sqref='Q1'><sheetData>", 1
    ).replace(b"</sheetData>", b"</sheetData></dataValidation>", 1),
    "another root attribute": _replace(b"<worksheet ", b'<worksheet xmlns:q="urn:x" '),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_variant_reads_as_without_memory(returns: tuple[bytes, bytes], variant: str) -> None:
    first, _ = returns
    changed = with_part(first, FORM_PART, VARIANTS[variant])
    expected = without_memory(changed)
    outcome(first)  # the real tail is remembered
    assert outcome(changed) == expected
    assert outcome(changed) == expected  # and with the variant's own tail remembered
    assert outcome(first) == without_memory(first)


def test_a_false_end_tag_cannot_lend_its_tail(returns: tuple[bytes, bytes]) -> None:
    """Two files whose bytes before ``<sheetData`` and after the first ``</sheetData>`` are the
    same: in the first that end tag sits in a comment (the file is fine), in the second it is
    real and the rest is one end tag too many (the file is broken). The second must not be
    read with the first's tail."""
    first, _ = returns
    commented = with_part(
        first, FORM_PART, _replace(b"</sheetData>", b"<!-- </sheetData> --></sheetData>")
    )
    broken = with_part(first, FORM_PART, _replace(b"</sheetData>", b"</sheetData> --></sheetData>"))
    assert outcome(commented) == without_memory(commented)
    assert outcome(broken) == without_memory(broken)
    assert outcome(broken)[0] == "read-xml-malformed"


def _without_protection(xml: bytes) -> bytes:
    start = xml.index(b"<sheetProtection")
    return xml[:start] + xml[xml.index(b"/>", start) + 2 :]


def test_the_bytes_before_the_cells_are_part_of_the_key(returns: tuple[bytes, bytes]) -> None:
    """The same tail means something else under another default namespace: in the second
    file only the cells are spreadsheet elements, its merges and validations are not."""
    first, _ = returns
    main = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"

    def other_namespace(xml: bytes) -> bytes:
        xml = _without_protection(xml).replace(b'xmlns="' + main + b'"', b'xmlns="urn:other"', 1)
        return xml.replace(b"<sheetData>", b'<sheetData xmlns="' + main + b'">', 1)

    plain = with_part(first, FORM_PART, _without_protection)
    foreign = with_part(first, FORM_PART, other_namespace)
    assert outcome(plain) == without_memory(plain)
    assert outcome(foreign) == without_memory(foreign)
    assert outcome(foreign)[7][1][4] == []  # no validations


def test_range_limit_counts_the_cells_and_the_remembered_tail(
    returns: tuple[bytes, bytes], tail_hits: list[int]
) -> None:
    first, second = returns
    form = next(s for s in reader.read_workbook(first).sheets if s.part == FORM_PART)
    ranges = len(form.merged) + sum(len(sqref.split()) for sqref, _, _ in form.validations)
    limits = dataclasses.replace(DEFAULT_LIMITS, max_ranges_per_sheet=ranges)
    merge_in_cells = with_part(
        second, FORM_PART, _insert_after(b"<sheetData>", b'<mergeCell ref="X1:Y2"/>')
    )
    assert isinstance(outcome(first, limits), tuple) and len(outcome(first, limits)) == 8
    assert outcome(second, limits) == without_memory(second, limits)
    hits = tail_hits[0]
    refused = outcome(merge_in_cells, limits)
    assert refused == without_memory(merge_in_cells, limits)
    assert refused[0] == "read-too-large"
    assert tail_hits[0] > hits  # the refusal came from the remembered tail's count
    tight = dataclasses.replace(limits, max_ranges_per_sheet=ranges - 1)
    assert outcome(first, tight) == without_memory(first, tight)
    assert outcome(first, tight)[0] == "read-too-large"


def test_a_changed_small_part_is_parsed_again(returns: tuple[bytes, bytes]) -> None:
    first, _ = returns
    unlocked = with_part(
        first,
        "xl/workbook.xml",
        _replace(b'lockStructure="1"', b'lockStructure="0"'),
    )
    assert read_workbook(first).structure_locked
    assert not read_workbook(unlocked).structure_locked
    assert read_workbook(first).structure_locked


# --------------------------------------------------------------------------------------------
# Shared strings
# --------------------------------------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"


def _sst(
    items: str, ns: str = MAIN, declaration: str = '<?xml version="1.0" encoding="UTF-8"?>'
) -> bytes:
    return f'{declaration}\n<sst xmlns="{ns}">{items}</sst>'.encode()


# name -> (shared-string part, whether the C parser takes it)
STRING_TABLES: dict[str, tuple[bytes, bool]] = {
    "plain, rich, phonetic, escaped": (hand_parts()["xl/sharedStrings.xml"].encode(), True),  # type: ignore[union-attr]
    "entities, character references, CRLF": (
        _sst("<si><t>a &amp; b &#x4E2D; &lt;c&gt;\r\nd</t></si><si><t/></si><si/>"),
        True,
    ),
    "no declaration, strict namespace": (_sst("<si><t>严格</t></si>", STRICT, ""), True),
    "text outside <t>": (_sst("<si>outside<t>in</t>after</si>"), True),
    "UTF-16": (
        '<?xml version="1.0" encoding="UTF-16"?><sst xmlns="'.encode("utf-16")
        + f'{MAIN}"><si><t>宽</t></si></sst>'.encode("utf-16-le"),
        False,
    ),
    "Latin-1": (
        _sst("<si><t>caf\u00e9</t></si>", declaration='<?xml version="1.0" encoding="ISO-8859-1"?>')
        .decode()
        .encode("latin-1"),
        False,
    ),
    "entity declared in a DOCTYPE": (
        b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY x "boom">]>'
        + f'<sst xmlns="{MAIN}"><si><t>&x;</t></si></sst>'.encode(),
        False,
    ),
    "an element inside <t>": (_sst("<si><t>a<b/>c</t></si>"), False),
    "a <t> inside run properties": (_sst("<si><r><rPr><t>x</t></rPr><t>y</t></r></si>"), False),
    "a reading holding an item": (_sst("<si><t>z</t><rPh><si><t>q</t></si></rPh></si>"), False),
    "an unknown element": (_sst("<si><t>a</t></si><extLst/>"), False),
    "malformed": (_sst("<si><t>a</si>"), False),
}


# Shapes for the regular-expression path (xltools/xlsx/plain_strings.py): LibreOffice's rich
# runs and character references, and every way out of its narrow grammar.
_LO_TITLE = (
    '<si><r><rPr><b val="true"/><sz val="16"/><rFont val="宋体"/><family val="2"/>'
    '<charset val="1"/></rPr><t xml:space="preserve">2023</t></r><r><rPr><sz val="16"/>'
    '</rPr><t xml:space="preserve">年度自评表</t></r></si>'
)
PLAIN_TABLES: dict[str, tuple[bytes, bool]] = {
    "LibreOffice: rich title, &#10;, attributes on sst": (
        (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN}" '
            f'count="3" uniqueCount="3">{_LO_TITLE}<si><t xml:space="preserve">一&#10;二</t></si>'
            "<si><t>&#x4E2D;&amp;&lt;&gt;&quot;&apos;_x000D_</t></si></sst>"
        ).encode(),
        True,
    ),
    "XlsxWriter: literal newline and tab": (_sst("<si><t>一\n二\t三</t></si><si><t/></si>"), True),
    "count before xmlns": (
        f'<?xml version="1.0"?><sst count="1" xmlns="{MAIN}"><si><t>甲</t></si></sst>'.encode(),
        True,
    ),
    "strict namespace": (_sst("<si><t>严格</t></si>", STRICT, ""), True),
    "references resolved once, escaped references kept": (
        _sst("<si><t>&amp;quot;&quot;&amp;#10;&#10;&apos;&amp;apos;&gt;&amp;gt;&amp;amp;</t></si>"),
        True,
    ),
    "a run property with a repeated attribute": (
        _sst('<si><r><rPr><b val="1" val="0"/></rPr><t>x</t></r></si>'),
        False,
    ),
    "an attribute with an unbound prefix": (
        _sst('<si><r><rPr><b v:al="1"/></rPr><t>x</t></r></si>'),
        False,
    ),
    "a name character XML does not allow": (
        _sst('<si><r><rPr><b v\u00b2l="1"/></rPr><t>x</t></r></si>'),
        False,
    ),
    "sst naming an attribute twice": (
        f'<sst xmlns="{MAIN}" count="1" count="2"><si><t>x</t></si></sst>'.encode(),
        False,
    ),
    "reference to a forbidden character": (_sst("<si><t>a&#0;b</t></si>"), False),
    "reference to a carriage return": (_sst("<si><t>a&#13;b</t></si>"), True),
    "comment between items": (_sst("<si><t>a</t></si><!-- x --><si><t>b</t></si>"), False),
    "CDATA": (_sst("<si><t><![CDATA[<b>]]></t></si>"), False),
    "whitespace between items": (_sst("<si><t>a</t></si>\n  <si><t>b</t></si>"), False),
    "single quotes": (_sst("<si><t xml:space='preserve'> a</t></si>"), False),
    "prefixed namespace": (
        f'<x:sst xmlns:x="{MAIN}"><x:si><x:t>p</x:t></x:si></x:sst>'.encode(),
        False,
    ),
    "a second default namespace": (
        f'<sst xmlns="{MAIN}" xmlns="{MAIN}"><si><t>d</t></si></sst>'.encode(),
        False,
    ),
    "other namespace": (_sst("<si><t>o</t></si>", "urn:other"), False),
    "unknown entity": (_sst("<si><t>&nbsp;</t></si>"), False),
    "a run of two texts": (_sst("<si><r><t>a</t><t>b</t></r></si>"), False),
    "a text outside any item": (_sst("<t>loose</t><si><t>a</t></si>"), False),
    "run properties holding text": (_sst("<si><r><rPr><b>x</b></rPr><t>y</t></r></si>"), False),
    "raw control character": (_sst("<si><t>a\x01b</t></si>"), False),
    "carriage return as such": (_sst("<si><t>a\r\nb</t></si>"), False),
    "not UTF-8": (_sst("<si><t>é</t></si>").replace("é".encode(), b"\xe9"), False),
    "unclosed": (_sst("<si><t>a</t>"), False),
}


@pytest.mark.parametrize("table", list(PLAIN_TABLES))
def test_plain_strings_read_as_streamed(table: str) -> None:
    """Where the regular expressions take a part they read what expat reads; where they do
    not, the part still reads as streamed (or is refused as streamed)."""
    content, taken = PLAIN_TABLES[table]
    assert (plain_strings(content) is not None) == taken
    parts = hand_parts()
    parts["xl/sharedStrings.xml"] = content
    data = package(parts)
    assert outcome(data) == without_memory(data)


def test_plain_strings_take_the_application_shapes() -> None:
    for content, fast in STRING_TABLES.values():
        if fast and plain_strings(content) is not None:
            assert plain_strings(content) == reader._simple_strings(content)


@pytest.mark.parametrize("table", list(STRING_TABLES))
def test_shared_strings_read_as_streamed(table: str) -> None:
    content, fast = STRING_TABLES[table]
    assert (reader._simple_strings(content) is not None) == fast
    parts = hand_parts()
    parts["xl/sharedStrings.xml"] = content
    data = package(parts)
    assert outcome(data) == without_memory(data)


def test_shared_string_limit_on_the_fast_path() -> None:
    data = package(hand_parts())
    limits = dataclasses.replace(DEFAULT_LIMITS, max_shared_strings=3)
    refused = outcome(data, limits)
    assert refused == without_memory(data, limits)
    assert refused[0] == "read-too-large"
