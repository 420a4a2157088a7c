"""Reading a written report back with python-docx: tables as text, the body in order, and
cells as numbers, for the report tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph


def body(path: Path) -> list[Paragraph | Table]:
    """Paragraphs and tables of the body, in document order."""
    document = docx.Document(str(path))
    items: list[Paragraph | Table] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            items.append(Paragraph(element, document))
        elif tag == "tbl":
            items.append(Table(element, document))
    return items


def rows(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def tables(path: Path) -> list[list[list[str]]]:
    return [rows(t) for t in docx.Document(str(path)).tables]


def full_text(path: Path) -> str:
    parts = []
    for item in body(path):
        parts.append(
            item.text if isinstance(item, Paragraph) else "\n".join("|".join(r) for r in rows(item))
        )
    return "\n".join(parts)


def headings(path: Path) -> list[str]:
    return [
        p.text
        for p in body(path)
        if isinstance(p, Paragraph) and p.style is not None and p.style.name.startswith("Heading")
    ]


def first_page(path: Path) -> tuple[list[Paragraph | Table], bool]:
    """What stands before the first heading, and whether a page break ends it."""
    before: list[Paragraph | Table] = []
    for item in body(path):
        if (
            isinstance(item, Paragraph)
            and item.style is not None
            and item.style.name.startswith("Heading")
        ):
            break
        before.append(item)
    broken = any(
        isinstance(p, Paragraph)
        and 'w:br w:type="page"' in p._p.xml.replace("w:type='page'", 'w:type="page"')
        for p in before
    )
    return before, broken


_NUMBER = re.compile(r"-?[\d,]*\.?\d+")


def as_number(text: str) -> float | None:
    """A cell's number: ``1,234.50`` 1234.5, ``95.00%`` 0.95, ``≥95.00%`` 0.95; None if none."""
    found = _NUMBER.search(text)
    if found is None:
        return None
    value = float(found.group().replace(",", ""))
    return value / 100 if text.strip().endswith("%") else value


def cent(value: Any) -> float:
    return round(float(value) + 0.0, 2)
