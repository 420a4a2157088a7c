"""The per-file work of a merge: check one file and keep only what the outputs need.

:func:`check_one` is a plain top-level function of plain arguments returning a plain,
picklable :class:`FileResult`, so that any executor can run it — the local process pool, the
calling process, or (later) a Dask cluster. It never returns the workbook: a result is a few
kilobytes however large the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ..check.manifest import Manifest
    from ..registry import Registry
    from ..spec.model import Spec

#: Funds figures the 汇总 sheet shows when a spec has them (field id -> column key).
FUND_FIELDS: Final = {
    "funds_total_initial": "funds_initial",
    "funds_total_budget": "funds_budget",
    "funds_total_spent": "funds_spent",
}
RATE_FIELD: Final = "funds_total_rate"
PROJECT_FIELD: Final = "project_name"

# Reasons, by the code of the finding that rejects a file.
NOT_A_WORKBOOK: Final = frozenset({"read-not-a-zip", "read-empty-file"})
REJECTING_CODES: Final = {
    "not-a-template": "不是自评表模板",
    "unknown-template": "未知模板",
    "superseded-version": "模板版本已停用",
    "read-legacy-xls": "旧版 .xls 工作簿",
    # refused on purpose, not unreadable: say why, so the bureau knows what to change
    "read-macros": "含宏，未打开",
    "read-external-links": "含外部链接，未打开",
    "read-encrypted": "设置了打开密码",
    "read-zip-bomb": "疑似压缩炸弹，未解压",
    "read-xml-unsafe": "含不安全的 XML（实体声明），未解析",
    "read-too-large": "超出读取上限",
    # held to the distribution manifest (merge --manifest, status with a manifest)
    "manifest-fingerprint-mismatch": "不是下发给该单位的那一份",
    "manifest-not-issued": "不是按名册下发的工作簿",
}


@dataclass
class GroupScore:
    key: str
    label: str
    score: Any
    weight: Any


@dataclass
class FileResult:
    """What the merge keeps of one checked file."""

    path: str
    sha256: str = ""
    bytes: int = 0
    mtime: float = 0.0
    saved: str = ""  # the workbook's own save time (docProps/core.xml), as written
    seconds: float = 0.0
    template: str = ""
    version: int = 0
    title: str = ""
    bureau_id: str = ""
    stamp: str = ""  # the fingerprint the workbook carries
    unit: str = ""
    project: str = ""
    has_project_field: bool = False
    total: float | None = None
    grade: str = ""
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    # "" when the file may be accepted; else why it is rejected (code + Chinese reason)
    reject_code: str = ""
    reject_reason: str = ""
    funds: dict[str, Any] = field(default_factory=dict)  # funds_initial/budget/spent, rate
    groups: list[GroupScore] = field(default_factory=list)
    # (level1, level2, level3, op, target, actual, unit, weight, score, reason)
    indicators: list[tuple[Any, ...]] = field(default_factory=list)
    # (severity, code, sheet, cell, field, message, expected, found)
    #: (severity, code, sheet, cell, field id, message, expected, found, field label)
    findings: list[tuple[str, ...]] = field(default_factory=list)
    # the values summed when an old version was migrated to the newest (else report.values)
    migrated: dict[str, Any] = field(default_factory=dict)

    @property
    def candidate(self) -> bool:
        """Identified, readable and not tampered with: it may be accepted."""
        return not self.reject_code


_REGISTRIES: dict[str | None, Registry] = {}


def _registry(specs_dir: str | None) -> Registry:
    """One registry per process and specs folder: each spec is built once per worker."""
    from ..registry import Registry

    if specs_dir not in _REGISTRIES:
        _REGISTRIES[specs_dir] = Registry.load(Path(specs_dir) if specs_dir else None)
    return _REGISTRIES[specs_dir]


def check_one(path_str: str, specs_dir: str | None) -> FileResult:
    """Check one file with the same :func:`~xltools.check.run.check_file` as ``xltools check``
    and reduce the report to a :class:`FileResult`. Never raises for any file."""
    result = FileResult(path_str)
    with contextlib.suppress(OSError):
        result.mtime = os.stat(path_str).st_mtime
    try:
        _check(result, Path(path_str), _registry(specs_dir))
    except Exception as error:  # a bug of ours: the file is rejected, the merge goes on
        result.reject_code = "internal-error"
        result.reject_reason = (
            f"检查时发生内部错误（{type(error).__name__}: {error}）；"
            "请把此文件和这条信息反馈给开发人员"
        )
        result.findings.append(
            ("error", "internal-error", "", "", "", result.reject_reason, "", "", "")
        )
        if os.environ.get("XLTOOLS_DEBUG"):
            traceback.print_exc()
    return result


def check_chunk(paths: Sequence[str], specs_dir: str | None) -> list[FileResult]:
    """:func:`check_one` over a chunk of paths: one task per chunk keeps pickling cheap."""
    return [check_one(path, specs_dir) for path in paths]


def _check(result: FileResult, path: Path, registry: Registry) -> None:
    from ..check.run import check_file

    report, workbook = check_file(path, registry)
    result.saved = workbook.saved if workbook is not None else ""
    del workbook
    result.sha256, result.bytes, result.seconds = report.sha256, report.bytes, report.seconds
    result.template, result.version, result.title = report.template, report.version, report.title
    result.bureau_id, result.unit = report.bureau_id.strip(), report.unit.strip()
    result.stamp = report.stamp
    result.total, result.grade = report.total, report.grade
    result.errors = report.count("error")
    result.warnings = report.count("warning")
    result.infos = report.count("info")
    result.findings = [
        (f.severity, f.code, f.sheet, f.cell, f.field, f.message, f.expected, f.found, f.label)
        for f in report.sorted_findings()
    ]
    spec = registry.accepted(report.template, report.version) if report.template else None
    rejected = rejection(report.findings, spec is not None)
    if rejected:
        result.reject_code, result.reject_reason = rejected
        return
    assert spec is not None
    values = report.values
    if any(f.code == "old-version-migrate" for f in report.findings):
        _migrate(result, registry, report)
        spec = registry.find(result.template, result.version) or spec
        values = result.migrated or values
    result.has_project_field = PROJECT_FIELD in spec.fields
    result.project = _text(values.get(PROJECT_FIELD)).strip() if result.has_project_field else ""
    for field_id, key in FUND_FIELDS.items():
        if field_id in spec.fields:
            result.funds[key] = _number(values.get(field_id))
    result.funds["execution_rate"] = _rate(spec, values)
    result.groups, result.indicators = _indicators(spec, values)


def _migrate(result: FileResult, registry: Registry, report: Any) -> None:
    """The bureau migrates old versions: sum this return as the newest version would hold it
    (its inputs carried by the spec's declared changes, everything else recomputed)."""
    from ..check.rules import plain_value, result_fields
    from ..migrate import migrated_values

    moved = migrated_values(registry, report.template, report.version, report.values)
    if moved is None:
        return
    spec, values = moved
    plain = {k: plain_value(v) for k, v in values.items() if not isinstance(v, tuple)}
    total_id, grade_id = result_fields(spec)
    total = plain.get(total_id) if total_id else None
    result.total = float(total) if isinstance(total, int | float) else None
    result.grade = str(plain.get(grade_id) or "") if grade_id else ""
    result.version, result.migrated = spec.version, plain
    result.findings.append(
        (
            "info",
            "old-version-migrated",
            "",
            "",
            "",
            f"第 {report.version} 版的填报已按规范写明的改动迁移到第 {spec.version} 版后汇总。",
            str(spec.version),
            str(report.version),
            "",
        )
    )
    result.infos += 1


def hold_to_manifest(result: FileResult, manifest: Manifest) -> None:
    """A checked file that is not the copy the manifest says was sent to its bureau: an
    error, and rejected (unless already rejected for a graver reason). Done where the results
    arrive, so that every executor (a process pool, a Dask cluster) gets it alike."""
    from ..check.manifest import mismatch

    if not result.template or result.reject_code in NOT_A_WORKBOOK:
        return
    wrong = mismatch(result.bureau_id, result.template, result.stamp, manifest)
    if wrong is None:
        return
    result.findings.insert(
        0, ("error", wrong.code, "", "", "", wrong.message, wrong.expected, wrong.found, "")
    )
    result.errors += 1
    if not result.reject_code:
        result.reject_code = wrong.code
        result.reject_reason = f"{REJECTING_CODES[wrong.code]}：{wrong.message}"


def rejection(findings: Sequence[Any], identified: bool) -> tuple[str, str] | None:
    """(code, reason) when the file cannot be accepted whatever the merge options."""
    for finding in findings:
        if finding.code == "return-blank":  # never accepted, scored or averaged
            return finding.code, finding.message
    errors = [f for f in findings if f.severity == "error"]
    for finding in errors:
        if finding.code in NOT_A_WORKBOOK:
            return finding.code, f"不是工作簿：{finding.message}"
        if finding.code in REJECTING_CODES:
            return finding.code, f"{REJECTING_CODES[finding.code]}：{finding.message}"
        if finding.code.startswith("read-") or finding.code == "internal-error":
            return finding.code, f"无法读取：{finding.message}"
    if not identified:
        first = errors[0] if errors else None
        return (first.code, first.message) if first else ("not-a-template", "不是自评表模板")
    tampered = [f for f in errors if f.code.startswith("tamper-")]
    if tampered:
        where = "、".join(dict.fromkeys(f.where() or f.code for f in tampered))
        return (
            tampered[0].code,
            f"被篡改：{len(tampered)} 处锁定内容被改动（{where}）；{tampered[0].message}",
        )
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _plain(value: Any) -> Any:
    """A value as the spool stores it: numbers, text or None."""
    if value is None or isinstance(value, int | float | str) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _rate(spec: Spec, values: dict[str, Any]) -> float | None:
    if RATE_FIELD in spec.fields:
        return _number(values.get(RATE_FIELD))
    budget = _number(values.get("funds_total_budget"))
    spent = _number(values.get("funds_total_spent"))
    if budget and spent is not None:
        return spent / budget
    return None


# The indicator columns of the 指标明细 sheet and the spec column keys that feed them.
_COLUMN_KEYS: Final = {
    "op": ("op",),
    "target": ("target", "standard"),
    "actual": ("actual",),
    "unit": ("unit",),
    "weight": ("weight",),
    "score": ("score",),
    "reason": ("reason",),
}


def _indicators(
    spec: Spec, values: dict[str, Any]
) -> tuple[list[GroupScore], list[tuple[Any, ...]]]:
    from ..spec.model import IndicatorBlock

    groups: list[GroupScore] = []
    rows: list[tuple[Any, ...]] = []
    for sheet in spec.sheets:
        for block in sheet.blocks:
            if not isinstance(block, IndicatorBlock):
                continue
            for group in block.groups:
                groups.append(
                    GroupScore(
                        group.key,
                        group.label,
                        _number(values.get(group.score_field)) if group.score_field else None,
                        _number(values.get(group.weight_field)) if group.weight_field else None,
                    )
                )
                for labels, row in group.labelled_rows():
                    name = _text(values.get(row["name"])).strip() if "name" in row else ""
                    # 三级 and below: a four-level sheet's rows differ by their 四级 label
                    level3 = name or " / ".join(labels[2:])
                    if not level3:
                        continue  # an unused row
                    cells = {
                        column: next((_plain(values.get(row[k])) for k in keys if k in row), None)
                        for column, keys in _COLUMN_KEYS.items()
                    }
                    rows.append(
                        (
                            labels[0],
                            labels[1] if len(labels) > 1 else "",
                            level3,
                            *cells.values(),
                        )
                    )
    return groups, rows
