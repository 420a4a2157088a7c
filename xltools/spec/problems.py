"""Problems found in a spec: stable English code, Chinese message, file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    code: str  # stable, kebab-case, e.g. "spec-unknown-reference"
    message: str  # Chinese, says what is wrong and what to do
    file: Path | None = None
    line: int = 0
    column: int = 0

    def where(self) -> str:
        parts = [str(self.file) if self.file else "<spec>"]
        if self.line:
            parts.append(str(self.line))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        return f"{self.where()}: [{self.code}] {self.message}"


@dataclass
class ProblemList:
    """Collects problems while a spec is read, so that one run reports all of them."""

    file: Path | None = None
    items: list[Problem] = field(default_factory=list)

    def add(self, code: str, message: str, line: int = 0, column: int = 0) -> None:
        self.items.append(Problem(code, message, self.file, line, column))

    def __bool__(self) -> bool:
        return bool(self.items)


class SpecError(Exception):
    """A spec that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
