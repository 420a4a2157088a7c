"""Workbooks for checker tests: a filled 2023 project form, and ways to tamper with it."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import yaml

from xltools.fill import fill_workbook
from xltools.generate import generate_template
from xltools.registry import Registry
from xltools.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "specs" / "project_expense_2023.yaml"
SHEET = "项目支出绩效自评表"


def spec() -> Spec:
    return load_spec(SPEC_PATH)


def registry() -> Registry:
    return Registry.load(ROOT / "specs")


def example_data() -> dict[str, Any]:
    data = yaml.safe_load(
        (ROOT / "examples" / "project_expense_2023.yaml").read_text(encoding="utf-8")
    )
    assert isinstance(data, dict)
    return data


def filled(tmp: Path, data: dict[str, Any] | None = None, name: str = "filled.xlsx") -> Path:
    template = tmp / "template.xlsx"
    if not template.exists():
        generate_template(spec(), template)
    target = tmp / name
    assert fill_workbook(template, spec(), example_data() if data is None else data, target) == []
    return target


def ref(workbook: Any, field_id: str) -> tuple[Any, str]:
    """(worksheet, coordinate) of a field through its defined name."""
    definition = workbook.defined_names[field_id]
    sheet, coordinate = next(iter(definition.destinations))
    return workbook[sheet], coordinate.replace("$", "")


def edit(source: Path, target: Path, change: Callable[[Any], None]) -> Path:
    workbook = openpyxl.load_workbook(source)
    change(workbook)
    workbook.save(target)
    return target


def set_field(field_id: str, value: Any, unprotect: bool = False) -> Callable[[Any], None]:
    def change(workbook: Any) -> None:
        sheet, coordinate = ref(workbook, field_id)
        if unprotect:
            sheet.protection.sheet = False
        sheet[coordinate].value = value

    return change


def insert_row(at: int) -> Callable[[Any], None]:
    """Insert a row as Excel would: cells move down and the defined names follow them."""

    def change(workbook: Any) -> None:
        sheet = workbook[SHEET]
        sheet.protection.sheet = False
        sheet.insert_rows(at)

        def shift(match: re.Match[str]) -> str:
            row = int(match.group(2))
            return f"${match.group(1)}${row + 1 if row >= at else row}"

        for definition in workbook.defined_names.values():
            if SHEET in definition.attr_text:
                definition.attr_text = re.sub(r"\$([A-Z]+)\$(\d+)", shift, definition.attr_text)

    return change


def xml_part(path: Path, part: str) -> str:
    """One part of a workbook package, as text."""
    with zipfile.ZipFile(path) as archive:
        return archive.read(part).decode()


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> its worksheet part, in workbook order (whatever the attribute order)."""
    book = xml_part(path, "xl/workbook.xml")
    rels = xml_part(path, "xl/_rels/workbook.xml.rels")
    targets = {}
    for rel in re.findall(r"<Relationship [^>]*>", rels):
        rid = re.search(r'Id="([^"]+)"', rel)
        target = re.search(r'Target="([^"]+)"', rel)
        if rid and target:
            targets[rid.group(1)] = "xl/" + target.group(1).lstrip("/").removeprefix("xl/")
    sheets = re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', book)
    return {name: targets[rid] for name, rid in sheets}
