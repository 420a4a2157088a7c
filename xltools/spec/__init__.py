"""Specs: read a YAML description of a 自评表 into fields, rules, checks and layout."""

from __future__ import annotations

from pathlib import Path

from .model import Check, Field, GradeBand, Spec
from .problems import Problem, ProblemList, SpecError


def load_spec(path: Path | str) -> Spec:
    """A usable spec, or SpecError listing every problem (lint-clean specs only)."""
    from .lint import lint_file

    spec, problems = lint_file(Path(path))
    if problems or spec is None:
        raise SpecError(problems)
    return spec


__all__ = [
    "Check",
    "Field",
    "GradeBand",
    "Problem",
    "ProblemList",
    "Spec",
    "SpecError",
    "load_spec",
]
