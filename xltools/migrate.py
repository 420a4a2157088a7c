"""Carry a return filled on an older version of a template to the current version.

FAC's users' worst pain is outdated templates still in circulation: a unit fills last
year's version, and the bureau either retypes it or sends it back. A spec declares what changed
since the version it replaces (``previous: {version, renamed, removed}``); :func:`migrate`
reads the old return with *its own* spec (the same check as ``xltools check``: only input
cells are trusted), maps every input through the declared changes — over several versions when
needed — and fills the current template with what the current rules allow, through
:func:`xltools.fill.fill_workbook` (so cached results are right and nothing half-written is
left). Everything it could not carry is listed with its reason: a field the new version
removed, a value the new rules refuse, a field the new version adds and the unit must fill.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engine import from_serial
from .registry import Registry
from .spec.model import Previous, Spec


class MigrationError(Exception):
    """Why a return cannot be migrated: ``code`` stable, ``message`` Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Migration:
    """What :func:`migrate` did with each input of the old return."""

    source: str
    template: str
    from_version: int
    to_version: int
    output: str = ""
    old_verdict: str = ""  # the old return's own check, one line
    carried: list[tuple[str, str, Any]] = field(default_factory=list)  # old id, new id, value
    removed: list[tuple[str, str, Any]] = field(default_factory=list)  # old id, label, value
    refused: list[tuple[str, str, Any, str]] = field(default_factory=list)  # new id, label, …
    kept: list[tuple[str, str]] = field(default_factory=list)  # locked in the given template
    added: list[tuple[str, str, bool]] = field(default_factory=list)  # new id, label, required

    @property
    def renamed(self) -> list[tuple[str, str]]:
        return [(old, new) for old, new, _ in self.carried if old != new]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "output": self.output,
            "template": self.template,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "old_verdict": self.old_verdict,
            "carried": [{"from": o, "to": n, "value": _json(v)} for o, n, v in self.carried],
            "removed": [{"field": o, "label": la, "value": _json(v)} for o, la, v in self.removed],
            "refused": [
                {"field": n, "label": la, "value": _json(v), "reason": r}
                for n, la, v, r in self.refused
            ],
            "kept": [{"field": n, "label": la} for n, la in self.kept],
            "added": [{"field": n, "label": la, "required": r} for n, la, r in self.added],
        }


def changes_between(registry: Registry, spec: Spec, old_version: int) -> list[Previous]:
    """The declared changes from ``old_version`` up to ``spec``, oldest first."""
    steps: list[Previous] = []
    current = spec
    while current.version > old_version:
        previous = current.previous
        if previous is None or previous.version < old_version:
            raise MigrationError(
                "migrate-no-path",
                f"第 {current.version} 版的规范没有写明它替代哪一版、改了什么（previous），"
                f"无法从第 {old_version} 版迁移。请在规范中补上 previous: {{version: …, "
                "renamed: …, removed: …}}。",
            )
        steps.append(previous)
        if previous.version == old_version:
            break
        found = registry.find(spec.template, previous.version)
        if found is None:
            raise MigrationError(
                "migrate-missing-spec",
                f"找不到模板 {spec.template} 第 {previous.version} 版的规范（迁移要经过这一版）。"
                "请把各版规范都留在规范文件夹中。",
            )
        current = found
    return steps[::-1]


def carry(steps: list[Previous], old_id: str) -> str | None:
    """The id ``old_id`` has in the newest version, None when a version removed it."""
    current = old_id
    for step in steps:
        if current in step.removed:
            return None
        current = step.renamed.get(current, current)
    return current


def carry_inputs(
    old_spec: Spec, steps: list[Previous], new_spec: Spec, values: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str, Any]], list[tuple[str, str, Any]]]:
    """The old return's filled inputs under their new ids, the (old id, new id, value) of each,
    and the (old id, label, value) of those the new version has no input for."""
    data: dict[str, Any] = {}
    carried: list[tuple[str, str, Any]] = []
    removed: list[tuple[str, str, Any]] = []
    for old_field in old_spec.inputs():
        value = values.get(old_field.id)
        if value is None or value == "":
            continue
        new_id = carry(steps, old_field.id)
        target = new_spec.fields.get(new_id) if new_id is not None else None
        if new_id is None or target is None or not target.input:
            removed.append((old_field.id, old_field.label, value))
            continue
        data[new_id] = value
        carried.append((old_field.id, new_id, value))
    return data, carried, removed


def migrated_values(
    registry: Registry, template: str, version: int, values: dict[str, Any]
) -> tuple[Spec, dict[str, Any]] | None:
    """The newest spec of ``template`` and every value of its fields recomputed from the
    inputs of a return on ``version`` (as a check reports them) — what merge sums when the
    bureau's policy is to migrate old returns; None when there is no declared way there."""
    from .engine import recompute

    newest = max(registry.versions(template), default=version)
    old_spec, new_spec = registry.find(template, version), registry.find(template, newest)
    if old_spec is None or new_spec is None or newest <= version:
        return None
    try:
        steps = changes_between(registry, new_spec, version)
    except MigrationError:
        return None
    data, _, _ = carry_inputs(old_spec, steps, new_spec, values)
    return new_spec, recompute(new_spec, data)


def migrate(
    source: Path,
    output: Path,
    registry: Registry,
    *,
    template: Path | None = None,
) -> Migration:
    """Migrate the return ``source`` to the newest version its template has in ``registry``
    and write it to ``output`` (into a copy of ``template`` when given — a bureau's stamped
    workbook of the new version — else a template generated from the newest spec, keeping the
    old return's bureau stamp and pre-filled values). Raises :class:`MigrationError`."""
    from .check.run import check_file

    report, workbook = check_file(source, registry)
    if workbook is None or not report.template:
        first = next((f for f in report.findings if f.severity == "error"), None)
        raise MigrationError(
            first.code if first else "not-a-template",
            first.message if first else "这不是 xltools 下发的自评表模板，无法迁移。",
        )
    old_spec = registry.find(report.template, report.version)
    if old_spec is None:
        raise MigrationError(
            "migrate-missing-spec",
            f"找不到模板 {report.template} 第 {report.version} 版的规范，无法读出旧版的内容。"
            "请把旧版规范留在规范文件夹中（可用 --specs 指定）。",
        )
    newest = max(registry.versions(report.template))
    new_spec = registry.find(report.template, newest)
    if new_spec is None:
        raise MigrationError(
            "migrate-missing-spec", f"模板 {report.template} 第 {newest} 版的规范无法使用。"
        )
    result = Migration(str(source), report.template, report.version, newest)
    result.old_verdict = report.summary_line()
    if newest == report.version:
        raise MigrationError(
            "migrate-already-current",
            f"此表已是模板 {report.template} 的现行第 {newest} 版，无需迁移。",
        )
    steps = changes_between(registry, new_spec, report.version)

    data, result.carried, result.removed = carry_inputs(old_spec, steps, new_spec, report.values)
    for new_id, value in list(data.items()):
        if new_spec.fields[new_id].type == "date" and isinstance(value, int | float):
            data[new_id] = from_serial(float(value))  # fill takes dates, the check gives serials

    prefill = _old_prefill(workbook)
    with tempfile.TemporaryDirectory(prefix="xltools-migrate-") as scratch:
        if template is None:
            from .generate import generate_template

            # the old return's stamp and pre-filled values stay the distributing bureau's
            carried_prefill = {
                n: data.pop(n) for o, n, _ in result.carried if o in prefill and n in data
            }
            template = Path(scratch) / "template.xlsx"
            generate_template(
                new_spec,
                template,
                prefill=carried_prefill,
                bureau_id=report.bureau_id,
                bureau_name=report.bureau_name,
            )
        else:
            for new_id in sorted(_locked_fields(template, new_spec, list(data))):
                data.pop(new_id)
                result.kept.append((new_id, new_spec.fields[new_id].label))
        _refuse_invalid(new_spec, data, result)
        # new in this version: no field of the old one becomes it
        images = {carry(steps, f.id) for f in old_spec.fields.values()}
        result.added = [
            (f.id, f.label, f.required) for f in new_spec.inputs() if f.id not in images
        ]
        from .fill import fill_workbook

        problems = fill_workbook(template, new_spec, data, output)
    if problems:
        raise MigrationError(
            problems[0].code,
            "新版模板无法写入：" + "；".join(str(p) for p in problems[:5]),
        )
    result.output = str(output)
    return result


def _refuse_invalid(spec: Spec, data: dict[str, Any], result: Migration) -> None:
    """Drop (and list) the values the new version's rules refuse: the rest is still written."""
    from .fill import prepare

    _, errors = prepare(spec, data)
    for error in errors:
        if error.field in data:
            value = data.pop(error.field)
            label = spec.fields[error.field].label if error.field in spec.fields else error.field
            result.refused.append((error.field, label, value, error.message))
            result.carried = [c for c in result.carried if c[1] != error.field]


def _old_prefill(workbook: Any) -> dict[str, Any]:
    """The values the old return's distribution pre-filled, by old field id."""
    import json

    from .check.identify import read_meta

    meta = read_meta(workbook) or {}
    try:
        values = json.loads(meta.get("prefill") or "{}")
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def _locked_fields(template: Path, spec: Spec, field_ids: list[str]) -> set[str]:
    """The fields among ``field_ids`` that the given workbook locks (pre-filled for its unit)."""
    from .xlsx.reader import WorkbookReadError, read_workbook

    try:
        workbook = read_workbook(template)
    except WorkbookReadError as error:
        raise MigrationError(error.code, f"{template}：{error.message}") from error
    locked = set()
    for field_id in field_ids:
        place = workbook.resolve(field_id)
        if place is not None and ":" not in place[1] and workbook.is_locked(workbook.cell(*place)):
            locked.add(field_id)
    return locked


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
