"""Limits that bound what reading one returned workbook may cost.

A returned workbook is untrusted input: it may be damaged, re-saved by an unknown program, or
built to exhaust the checker (a "zip bomb" whose few kilobytes inflate to gigabytes, a sheet
with millions of cells). :func:`xltools.xlsx.reader.read_workbook` checks every limit below
*before* it inflates a part (against the sizes the zip's central directory declares) and again
*while* it inflates (against the bytes actually produced, because declared sizes can lie), and
stops with a :class:`~xltools.xlsx.reader.WorkbookReadError` as soon as one is passed.

The defaults are generous for the forms xltools issues (a one-page form is ~30 KB on disk and
inflates to ~150 KB) and still keep the worst case of one file to a few hundred megabytes and a
few seconds. Adjust them per call — ``Limits(max_file_bytes=200 * MB)`` — or without code, through
the environment variable ``XLTOOLS_LIMITS`` (:func:`limits_from_env`), which ``xltools check``
and :func:`xltools.check.run.check_file` read when no limits are passed::

    XLTOOLS_LIMITS="max_file_bytes=200MB,max_cells_per_sheet=2000000" xltools check big.xlsx
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Final

__all__ = [
    "DEFAULT_LIMITS",
    "ENV_VAR",
    "KB",
    "MB",
    "Limits",
    "LimitsError",
    "limits_from_env",
    "parse_limits",
]

KB: Final = 1024
MB: Final = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Upper bounds for reading one workbook. All sizes are in bytes.

    Exceeding an inflated-size or ratio limit is reported as ``read-zip-bomb``; exceeding any
    other limit as ``read-too-large``.
    """

    #: Size of the .xlsx file itself (50 MB). Excel's own forms are far smaller.
    max_file_bytes: int = 50 * MB
    #: Number of entries in the zip's central directory (2,000). Counted from the
    #: end-of-central-directory record before the directory itself is parsed.
    max_parts: int = 2_000
    #: Inflated size of any one part (100 MB): as declared for every part (the checked copy
    #: copies them all), and as actually produced for the parts the checker reads.
    max_part_inflated_bytes: int = 100 * MB
    #: Inflated size of all parts together (300 MB): declared, and actual for those read.
    max_total_inflated_bytes: int = 300 * MB
    #: Inflated : compressed ratio of any one part (200 : 1) ...
    max_ratio: float = 200.0
    #: ... applied only to parts that inflate to more than this (1 MB): small XML parts
    #: (long runs of identical empty cells) legitimately compress better than 200 : 1.
    ratio_min_bytes: int = 1 * MB
    #: Cells (``<c>`` elements) in one sheet (1,000,000). A one-page form has a few hundred.
    max_cells_per_sheet: int = 1_000_000
    #: Sheets listed in the workbook (1,000).
    max_sheets: int = 1_000
    #: Cells in all sheets together (1,000,000): a cell costs the reader ~8 µs and up to
    #: ~350 bytes, and without a total, many sheets of a million cells each would pass.
    max_cells: int = 1_000_000
    #: Entries of the shared-string table (1,000,000); a form has a few hundred.
    max_shared_strings: int = 1_000_000
    #: Data-validation areas and merged ranges in one sheet (10,000); a form has a few hundred.
    max_ranges_per_sheet: int = 10_000
    #: Defined names in the workbook (10,000); a form has one per field, a few hundred.
    max_defined_names: int = 10_000
    #: Characters of formula text produced by translating shared formulas, all sheets
    #: together (500,000): each dependent cell costs as much as its master's text, so a long
    #: master shared by many cells is a CPU bomb (~1 µs a character). A form that Excel saved
    #: needs a few ten thousand.
    max_shared_formula_chars: int = 500_000

    def __post_init__(self) -> None:
        for name in (
            "max_file_bytes",
            "max_parts",
            "max_part_inflated_bytes",
            "max_total_inflated_bytes",
            "ratio_min_bytes",
            "max_cells_per_sheet",
            "max_sheets",
            "max_cells",
            "max_shared_strings",
            "max_ranges_per_sheet",
            "max_defined_names",
            "max_shared_formula_chars",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Limits.{name} must be a non-negative integer, not {value!r}")
        if not self.max_ratio > 0:
            raise ValueError(f"Limits.max_ratio must be positive, not {self.max_ratio!r}")


#: The limits :func:`~xltools.xlsx.reader.read_workbook` uses unless told otherwise.
DEFAULT_LIMITS: Final = Limits()


#: The environment variable :func:`limits_from_env` reads.
ENV_VAR: Final = "XLTOOLS_LIMITS"

_UNITS: Final = {
    "": 1,
    "K": KB,
    "KB": KB,
    "KIB": KB,
    "M": MB,
    "MB": MB,
    "MIB": MB,
    "G": 1024 * MB,
    "GB": 1024 * MB,
    "GIB": 1024 * MB,
}
_AMOUNT: Final = re.compile(r"([0-9][0-9_]*(?:\.[0-9]+)?)\s*([A-Za-z]*)")


class LimitsError(ValueError):
    """``XLTOOLS_LIMITS`` (or a text given to :func:`parse_limits`) cannot be used; the message
    is Chinese and names the setting."""


def parse_limits(text: str, base: Limits = DEFAULT_LIMITS) -> Limits:
    """``base`` with the settings of ``text`` — ``name=value`` pairs separated by commas (or
    semicolons, or white space): ``max_file_bytes=100000000,max_ratio=500``. Sizes may carry a
    unit (``100MB``, ``2G``, ``512k``; binary: 1 MB = 1,048,576 bytes) and underscores
    (``1_000_000``). An empty text gives ``base``. Raises :class:`LimitsError`."""
    known = {f.name: f for f in fields(Limits)}
    changes: dict[str, int | float] = {}
    for item in re.split(r"[,;\s]+", text.strip()):
        if not item:
            continue
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or name not in known:
            raise LimitsError(
                f"{ENV_VAR} 中的 “{item[:40]}” 无法识别：应为 名称=数值，用逗号分隔；"
                f"可用的名称：{'、'.join(known)}"
            )
        match = _AMOUNT.fullmatch(raw.strip())
        unit = match.group(2).upper() if match else ""
        if match is None or unit not in _UNITS:
            raise LimitsError(
                f"{ENV_VAR} 中 {name} 的值 “{raw[:40]}” 不是数值（可带单位 K、M、G，如 100MB）"
            )
        amount = float(match.group(1).replace("_", "")) * _UNITS[unit]
        if name == "max_ratio":
            changes[name] = amount
        elif amount.is_integer():
            changes[name] = int(amount)
        else:
            raise LimitsError(f"{ENV_VAR} 中 {name} 的值 “{raw[:40]}” 应为整数")
    try:
        return replace(base, **changes)  # type: ignore[arg-type]
    except ValueError as error:
        raise LimitsError(f"{ENV_VAR} 的设置无效：{error}") from error


def limits_from_env(environ: Mapping[str, str] | None = None) -> Limits:
    """The limits ``XLTOOLS_LIMITS`` sets (the defaults for every setting it does not name);
    :data:`DEFAULT_LIMITS` when it is unset or empty. Raises :class:`LimitsError`."""
    text = (os.environ if environ is None else environ).get(ENV_VAR, "")
    return parse_limits(text) if text.strip() else DEFAULT_LIMITS
