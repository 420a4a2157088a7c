"""Check one returned workbook: read, identify, verify structure, parse inputs, recompute,
evaluate checks. Trusts nothing but the input cells and the spec."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..registry import Registry
from .context import CheckContext
from .identify import identify
from .inputs import read_inputs
from .report import Finding, Report
from .rules import evaluate_checks, recompute_and_compare
from .structure import check_structure

if TYPE_CHECKING:
    from ..xlsx.limits import Limits
    from ..xlsx.reader import RawWorkbook

UNIT_FIELDS = ("unit_name", "department_name", "dept_name", "project_unit", "department")


def check_file(
    path: Path, registry: Registry, *, limits: Limits | None = None
) -> tuple[Report, RawWorkbook | None]:
    """The report of one file, and the workbook as read (None when unreadable)."""
    from ..xlsx.limits import DEFAULT_LIMITS
    from ..xlsx.reader import WorkbookReadError, read_workbook

    started = time.perf_counter()
    report = Report(file=str(path))
    try:
        data = path.read_bytes()
    except OSError as error:
        report.add(Finding("error", "read-unreadable", f"无法读取文件：{error.strerror or error}"))
        return report, None
    report.sha256 = hashlib.sha256(data).hexdigest()
    report.bytes = len(data)
    try:
        workbook = read_workbook(data, limits or DEFAULT_LIMITS)
    except WorkbookReadError as error:
        report.add(Finding("error", error.code, error.message))
        report.seconds = time.perf_counter() - started
        return report, None
    found = identify(workbook, registry, report)
    if found is not None:
        spec, meta = found
        ctx = CheckContext(spec, workbook, report, meta)
        check_structure(ctx)
        read_inputs(ctx)
        values = recompute_and_compare(ctx)
        evaluate_checks(ctx, values)
        report.unit = report.bureau_name or next(
            (str(values[f]) for f in UNIT_FIELDS if isinstance(values.get(f), str) and values[f]),
            "",
        )
    report.seconds = time.perf_counter() - started
    return report, workbook
