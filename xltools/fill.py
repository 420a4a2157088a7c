"""Fill a template's input cells from data keyed by field id, refusing what validation would.

Data is a mapping ``{field_id: value}``; a repeating table may be given as a list of rows under
its prefix, e.g. ``detail: [{content: 1-3月, amount: 910584.57}]`` for ``detail_1_content`` …
and ``ind_output_quantity: [{name: …, op: ≥, …}]`` for an indicator group.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import atomic_path
from .spec.build import did_you_mean
from .spec.constraints import pattern_violation, violation
from .spec.model import Spec

if TYPE_CHECKING:
    from .splice import Package
    from .xlsx.reader import RawWorkbook


@dataclass(frozen=True)
class FillError:
    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: [{self.code}] {self.message}"


def flatten(data: Mapping[str, Any]) -> dict[str, Any]:
    """``{prefix: [row, …]}`` becomes ``{prefix_1_col: …}``; plain keys stay as they are."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list) and all(isinstance(r, Mapping) for r in value):
            for n, row in enumerate(value, start=1):
                for column, cell in row.items():
                    flat[f"{key}_{n}_{column}"] = cell
        else:
            flat[str(key)] = value
    return flat


def normalise(value: Any) -> Any:
    """Values as a cell stores them: ints are numbers, ISO date strings stay text unless the
    field is a date (handled by the caller)."""
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0) else value
    return value


def prepare(
    spec: Spec, data: Mapping[str, Any], *, allow_locked: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], list[FillError]]:
    """Check every value against its field; returns the values to write and the refusals."""
    values: dict[str, Any] = {}
    errors: list[FillError] = []
    for field_id, raw in flatten(data).items():
        field = spec.fields.get(field_id)
        if field is None:
            errors.append(
                FillError(
                    field_id,
                    "fill-unknown-field",
                    f"模板中没有字段 “{field_id}”{did_you_mean(field_id, spec.fields)}",
                )
            )
            continue
        if not field.input and field_id not in allow_locked:
            errors.append(
                FillError(
                    field_id, "fill-locked-field", f"“{field.label}” 是计算或固定的单元格，不能填写"
                )
            )
            continue
        value = normalise(raw)
        if field.type == "date" and isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                errors.append(
                    FillError(
                        field_id,
                        "value-not-a-date",
                        f"“{field.label}” 应为日期（如 2024-03-15），却是 “{value}”",
                    )
                )
                continue
        problem = violation(field, value) or pattern_violation(field, value)
        if problem:
            errors.append(FillError(field_id, *problem))
            continue
        values[field_id] = value
    return values, errors


def fill_workbook(
    template: Path, spec: Spec, data: Mapping[str, Any], output: Path
) -> list[FillError]:
    """Write ``data`` into a copy of ``template`` at ``output``; nothing is written when any
    value is refused.

    Why the package is edited rather than regenerated or saved through openpyxl: openpyxl
    writes every formula without its cached result, so a viewer that does not recalculate
    (and the checker's comparison) would see blanks. Regenerating from the spec would give
    the right cached results but a different workbook: a new protection password, the
    current generator's layout and metadata instead of the template's, and a template that
    was changed would come out repaired. Editing the package keeps the template exactly —
    its metadata (template id, version, spec hash, issue time, bureau stamp, pre-fill and
    fingerprint), protection, validations, styles — and changes only the input cells and the
    cached result of every formula (:mod:`xltools.splice`), each the value
    :func:`xltools.engine.recompute` gives, the 自检 panel's statuses included.
    """
    values, errors = prepare(spec, data)
    loaded = LoadedTemplate.load(template, spec)
    if isinstance(loaded, FillError):
        return [*errors, loaded]
    return errors or loaded.write(values, output)


@dataclass
class LoadedTemplate:
    """A template read and parsed once, to be filled any number of times (``fill`` of a CSV
    or a folder of data files: the read is most of a single fill's cost after start-up)."""

    path: Path
    spec: Spec
    workbook: RawWorkbook
    package: Package

    @classmethod
    def load(cls, template: Path, spec: Spec) -> LoadedTemplate | FillError:
        from .generate.metadata import PANEL_SHEET
        from .splice import Package
        from .xlsx.reader import WorkbookReadError, read_workbook

        try:
            # the 自检 panel's cells are rewritten from the spec, never read: listed, not parsed
            workbook = read_workbook(template, skip_sheets=(PANEL_SHEET,))
            package = Package.read(template)
        except WorkbookReadError as error:
            return FillError("-", error.code, error.message)
        except (OSError, zipfile.BadZipFile, KeyError) as error:
            return FillError("-", "fill-template-unreadable", f"无法读取模板：{error}")
        return cls(template, spec, workbook, package)

    def fill(self, data: Mapping[str, Any], output: Path) -> list[FillError]:
        """``data`` checked against the spec and written at ``output``, or the refusals."""
        values, errors = prepare(self.spec, data)
        return errors or self.write(values, output)

    def write(self, values: Mapping[str, Any], output: Path) -> list[FillError]:
        """Prepared ``values`` written at ``output``; nothing is written when any is refused."""
        from .fill_cells import Abandon, filled_edits, template_changed
        from .splice import splice_package

        workbook, errors = self.workbook, []
        places: dict[str, tuple[str, str]] = {}
        for field_id in values:
            place = workbook.resolve(field_id)
            if place is None or ":" in place[1]:
                errors.append(
                    FillError(
                        field_id,
                        "fill-missing-name",
                        f"工作簿中找不到字段 “{field_id}” 的定义名称：模板可能被改动",
                    )
                )
                continue
            if workbook.is_locked(workbook.cell(*place)):
                errors.append(
                    FillError(
                        field_id,
                        "fill-locked-field",
                        f"“{self.spec.fields[field_id].label}” 已由下发单位预填并锁定，不能修改",
                    )
                )
                continue
            places[field_id] = place
        if errors:
            return errors
        edits = filled_edits(self.spec, workbook, values, places)
        try:
            with atomic_path(output) as temporary:
                result = splice_package(self.package, temporary, edits)
                if not result.ok:  # raised inside: the temporary file is removed, not renamed
                    raise Abandon(template_changed(result))
        except Abandon as abandon:
            return abandon.problems
        return []
