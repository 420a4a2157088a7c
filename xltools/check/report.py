"""What a check finds, and the report of one file: in the spirit of Frictionless.

Every finding carries a stable key back to its source — file, sheet, cell, field id — a stable
English code for machines and a Chinese message for the clerk who must fix it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER: Final = {"error": 0, "warning": 1, "info": 2}
SEVERITY_LABEL: Final = {"error": "错误", "warning": "警告", "info": "提示"}

# C0 controls but tab and line feed, DEL, C1 controls, bidi embeddings, overrides and isolates;
# and UTF-16 halves, which no terminal or UTF-8 file can take (a file name read from a GBK
# USB stick holds them as surrogate escapes).
_UNSAFE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


_SURROGATES: Final = re.compile("[\ud800-\udfff]")


def _drop(match: re.Match[str]) -> str:
    return "\ufffd" if "\ud800" <= match.group() <= "\udfff" else ""


def visible(text: str) -> str:
    """A file name as a terminal can show it: without the characters a terminal would act on,
    and U+FFFD for each UTF-16 half (see Finding)."""
    return _UNSAFE.sub(_drop, text)


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str  # stable, kebab-case: "value-out-of-range", "tamper-label-changed", …
    message: str  # Chinese: what is wrong and what to do
    sheet: str = ""
    cell: str = ""  # "C5"; empty for file-level findings
    field: str = ""  # field id, when the finding is about one
    label: str = ""  # the field's label path, for people
    expected: str = ""
    found: str = ""

    def __post_init__(self) -> None:
        # Findings quote what the file holds; a returned file can hold terminal escape
        # sequences (ESC [2J clears the reviewer's screen and can print a fake "全部通过"),
        # bidi overrides that reorder what the reviewer reads, and characters that cannot be
        # printed at all. They are removed from every text field, as the checked copy does.
        for name in ("message", "sheet", "cell", "field", "label", "expected", "found"):
            value = getattr(self, name)
            if isinstance(value, str) and _UNSAFE.search(value):
                object.__setattr__(self, name, _UNSAFE.sub("", value))

    def where(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.sheet and self.cell else self.sheet


@dataclass
class Report:
    file: str
    sha256: str = ""
    bytes: int = 0
    template: str = ""
    version: int = 0
    title: str = ""
    bureau_id: str = ""
    bureau_name: str = ""
    stamp: str = ""  # the fingerprint the workbook carries (xltools.check.manifest compares it)
    unit: str = ""  # the unit's name as typed in the form, when the spec has one
    total: float | None = None  # recomputed total score
    grade: str = ""  # recomputed grade
    findings: list[Finding] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # recomputed field values (for merge)
    seconds: float = 0.0
    blank: bool = False  # sent back unfilled (see check/blank.py): 未填写, never scored

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def valid(self) -> bool:
        return self.count("error") == 0

    @property
    def readable(self) -> bool:
        """False when the file could not be identified as one of our templates at all."""
        return bool(self.template)

    def sorted_findings(self) -> list[Finding]:
        return sorted(
            self.findings,
            key=lambda f: (SEVERITY_ORDER[f.severity], f.sheet, _cell_order(f.cell), f.code),
        )

    def to_dict(self, *, with_values: bool = False) -> dict[str, Any]:
        """The JSON shape: ``{valid, stats{errors, warnings, infos, seconds, sha256, bytes},
        template…, findings[…]}``."""
        result: dict[str, Any] = {
            "valid": self.valid,
            # a file name in GBK bytes holds surrogate escapes, which JSON text cannot carry
            "file": _SURROGATES.sub("\ufffd", self.file),
            "stats": {
                "errors": self.count("error"),
                "warnings": self.count("warning"),
                "infos": self.count("info"),
                "seconds": round(self.seconds, 4),
                "sha256": self.sha256,
                "bytes": self.bytes,
            },
            "template": self.template,
            "version": self.version,
            "title": self.title,
            "bureau_id": self.bureau_id,
            "bureau_name": self.bureau_name,
            "unit": self.unit,
            "total": self.total,
            "grade": self.grade,
            "blank": self.blank,
            "findings": [asdict(f) for f in self.sorted_findings()],
        }
        if with_values:
            result["values"] = self.values
        return result

    def summary_line(self) -> str:
        status = "未填写" if self.blank else "通过" if self.valid else "不通过"
        parts = [
            f"{visible(self.file)}: {status}",
            f"错误 {self.count('error')}",
            f"警告 {self.count('warning')}",
            f"提示 {self.count('info')}",
        ]
        if self.total is not None:
            parts.append(f"总分 {self.total:g}")
        if self.grade:
            parts.append(f"等次 {self.grade}")
        return "，".join(parts)


def _cell_order(cell: str) -> tuple[int, str]:
    digits = "".join(ch for ch in cell if ch.isdigit())
    letters = "".join(ch for ch in cell if ch.isalpha())
    return (int(digits) if digits else 0, letters.rjust(3))
