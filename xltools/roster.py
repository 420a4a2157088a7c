"""Per-bureau distribution: one pre-filled, stamped workbook per roster row, and a manifest.

A roster is a table (.xlsx, .csv or .yaml/.json) with a ``bureau_id`` column, an optional
``bureau_name`` and one column per field id to pre-fill (indicator and list rows as
``ind_output_quantity_1_name`` …; YAML rosters may nest them as lists of rows, as ``fill``
data does). Pre-filled cells are locked in that bureau's workbook. A bad row (missing or
duplicate id, a value its field refuses) is reported by row and column, and nothing is
written for it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import atomic_path
from .fill import flatten, prepare
from .spec.model import Spec

ID_COLUMN = "bureau_id"
NAME_COLUMN = "bureau_name"
MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = (
    "file",
    "bureau_id",
    "bureau_name",
    "template",
    "version",
    "issued_at",
    "fingerprint",
    "sha256",
)


@dataclass(frozen=True)
class RosterProblem:
    row: int  # as the bureau sees it: the spreadsheet row (header = 1), or the list position
    column: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行，{self.column or '-'} 列: [{self.code}] {self.message}"


@dataclass(frozen=True)
class RosterRow:
    row: int
    values: dict[str, Any]


class RosterError(ValueError):
    """The roster file as a whole cannot be read; ``where`` is ``:line:column`` when known."""

    def __init__(self, message: str, code: str = "roster-unreadable", where: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.where = where


def read_roster(path: Path) -> list[RosterRow]:
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml", ".json"):
            import yaml

            text = path.read_text(encoding="utf-8")
            try:
                content = yaml.safe_load(text)
            except yaml.YAMLError as error:
                from .yaml_errors import explain

                slip = explain(error, text)
                raise RosterError(slip.message, "roster-yaml-syntax", slip.where()) from None
            if isinstance(content, dict) and "bureaus" in content:
                content = content["bureaus"]
            if not isinstance(content, list):
                raise RosterError("YAML/JSON 名册应是一个列表（或 bureaus: 列表），每项一个单位")
            return [
                RosterRow(n, dict(flatten(item)) if isinstance(item, dict) else {})
                for n, item in enumerate(content, start=1)
            ]
        if suffix == ".csv":
            text = path.read_text(encoding="utf-8-sig")
            rows = list(csv.reader(io.StringIO(text)))
        elif suffix in (".xlsx", ".xlsm"):
            rows = _xlsx_rows(path)
        else:
            raise RosterError(f"不支持的名册格式 “{suffix}”：请用 .xlsx、.csv 或 .yaml")
    except (OSError, UnicodeDecodeError) as error:
        raise RosterError(f"无法读取名册：{error}") from error
    if not rows:
        raise RosterError("名册是空的")
    header = [str(h or "").strip() for h in rows[0]]
    result = []
    for number, cells in enumerate(rows[1:], start=2):
        if all(c in (None, "") for c in cells):
            continue
        values = {h: c for h, c in zip(header, cells, strict=False) if h and c not in (None, "")}
        result.append(RosterRow(number, values))
    return result


def _xlsx_rows(path: Path) -> list[list[Any]]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def typed_values(
    spec: Spec, values: dict[str, Any], row: int
) -> tuple[dict[str, Any], list[RosterProblem]]:
    """Roster cells as typed values: a CSV gives text, so "95%" or "124.01" are read as a
    careful reviewer would; anything not unambiguous is refused."""
    from .check.parse import parse_value

    typed: dict[str, Any] = {}
    problems: list[RosterProblem] = []
    for column, raw in values.items():
        field = spec.fields.get(column)
        if field is None or not isinstance(raw, str):
            typed[column] = raw
            continue
        parsed = parse_value(raw, field.type, unit=field.unit, choices=field.choices)
        if parsed.status in ("ok", "converted"):
            typed[column] = parsed.value
        elif parsed.status != "blank":
            problems.append(
                RosterProblem(
                    row,
                    column,
                    parsed.code or "roster-bad-value",
                    parsed.message or f"无法识别的值 “{raw}”",
                )
            )
    return typed, problems


def validate_roster(
    spec: Spec, rows: Iterable[RosterRow]
) -> tuple[list[RosterRow], list[RosterProblem]]:
    """The rows that can be distributed (values typed), and every problem of the others."""
    good: list[RosterRow] = []
    problems: list[RosterProblem] = []
    seen: dict[str, int] = {}
    for roster_row in rows:
        values = dict(roster_row.values)
        bureau = str(values.pop(ID_COLUMN, "") or "").strip()
        name = str(values.pop(NAME_COLUMN, "") or "").strip()
        row_problems: list[RosterProblem] = []
        if not bureau:
            row_problems.append(
                RosterProblem(
                    roster_row.row, ID_COLUMN, "roster-missing-id", "缺少单位编号 bureau_id"
                )
            )
        elif bureau in seen:
            row_problems.append(
                RosterProblem(
                    roster_row.row,
                    ID_COLUMN,
                    "roster-duplicate-id",
                    f"单位编号 “{bureau}” 与第 {seen[bureau]} 行重复",
                )
            )
        else:
            seen[bureau] = roster_row.row
        typed, parse_problems = typed_values(spec, values, roster_row.row)
        row_problems.extend(parse_problems)
        _, refusals = prepare(
            spec, {k: v for k, v in typed.items() if k not in {p.column for p in parse_problems}}
        )
        row_problems.extend(
            RosterProblem(roster_row.row, r.field, r.code, r.message) for r in refusals
        )
        if row_problems:
            problems.extend(row_problems)
        else:
            good.append(RosterRow(roster_row.row, {ID_COLUMN: bureau, NAME_COLUMN: name, **typed}))
    return good, problems


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def file_name(bureau_id: str, spec: Spec) -> str:
    return f"{_UNSAFE.sub('_', bureau_id)}_{spec.template}_v{spec.version}.xlsx"


def distribute(
    spec: Spec,
    rows: list[RosterRow],
    out_dir: Path,
    *,
    progress: Callable[[Iterable[RosterRow]], Iterable[RosterRow]] = lambda rows: rows,
) -> Path:
    """Write one workbook per row and the manifest; returns the manifest's path."""
    from .generate import generate_template
    from .generate.plan import build_plan

    out_dir.mkdir(parents=True, exist_ok=True)
    plan = build_plan(spec)  # what every bureau's copy shares: worked out once
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    entries = []
    for roster_row in progress(rows):
        values = dict(roster_row.values)
        bureau, name = values.pop(ID_COLUMN), values.pop(NAME_COLUMN)
        target = out_dir / file_name(bureau, spec)
        stamp = generate_template(
            spec,
            target,
            prefill=values,
            bureau_id=bureau,
            bureau_name=name,
            issued_at=issued,
            plan=plan,
        )
        entries.append(
            {
                "file": target.name,
                "bureau_id": bureau,
                "bureau_name": name,
                "template": spec.template,
                "version": spec.version,
                "issued_at": issued.isoformat(),
                "fingerprint": stamp,
                "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
            }
        )
    manifest = out_dir / MANIFEST
    with (
        atomic_path(manifest) as temporary,
        temporary.open("w", encoding="utf-8-sig", newline="") as stream,
    ):
        writer = csv.DictWriter(stream, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(entries)
    return manifest
