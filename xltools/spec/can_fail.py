"""Prove that every check of a spec can fail: a check that is TRUE whatever the unit types
(``OR(COUNTA(x)=0, LEN(x)>0)``) guards nothing and shows 通过 on an empty form.

For each check, a small systematic search over the inputs it reads (directly or through
computed fields): all blank, each input alone at each of its candidate values, all inputs at
the same candidate, then seeded random mixes. Candidates are what a clerk can leave in a cell:
blank, 0, the bounds, a text, each choice. The first assignment that makes the check not TRUE
is the proof; a check with none is reported (``spec-check-cannot-fail``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Final

from ..engine import evaluation_order, recompute
from ..expr import BLANK, Name, Number, Text, Value, evaluate, top_level
from ..expr.ast import walk
from .constraints import bounds
from .model import NUMERIC_TYPES, Check, Field, Spec

RANDOM_TRIES: Final = 2000
LITERALS: Final = 24


def _candidates(field: Field, literals: list[Value]) -> list[Value]:
    """``literals``: the constants of the check and of the formulas it reads (the "万元" a
    condition compares with, a 1.5 it multiplies by), and numbers next to them."""
    values: list[Value] = [BLANK]
    if field.type not in ("choice", "bool"):
        values += [v for v in literals if field.type not in NUMERIC_TYPES or isinstance(v, float)]
    if field.type in NUMERIC_TYPES:
        low, high = bounds(field)
        values += [0.0, 1.0, low, high, (low + high) / 2, 0.5, 100.0, "x"]
    elif field.type in ("choice", "bool"):
        values += list(field.choices or ())
    elif field.type == "date":
        values += [45000.0, 32874.0, 73050.0]
    else:
        values += ["x", "0", 1.0, 0.0, 100.0, "x" * (field.max_length or 2000)]
    return _unique(values)


def _unique(values: list[Value]) -> list[Value]:
    seen: list[Value] = []
    for value in values:
        if not any(type(value) is type(s) and value == s for s in seen):
            seen.append(value)
    return seen


class _Search:
    """Evaluates one check on assignments of its inputs, recomputing only what it depends on."""

    def __init__(self, spec: Spec, check: Check, base: dict[str, Value]) -> None:
        self.spec, self.check, self.base = spec, check, base
        needed: set[str] = set()
        stack = [n.name for n in walk(check.expr) if isinstance(n, Name)]
        while stack:
            name = stack.pop()
            if name in needed or name not in spec.fields:
                continue
            needed.add(name)
            field = spec.fields[name]
            if field.formula is not None:
                stack.extend(n.name for n in walk(field.formula) if isinstance(n, Name))
            if field.members is not None:
                stack.extend(field.members)
        self.inputs = [f for f in spec.fields.values() if f.input and f.id in needed]
        literals: list[Value] = []
        trees = [check.expr] + [spec.fields[n].formula for n in needed if spec.fields[n].formula]
        for tree in trees:
            for node in walk(tree):  # type: ignore[arg-type]
                if isinstance(node, Text) and node.value:
                    literals.append(node.value)
                elif isinstance(node, Number):
                    literals += [node.value, node.value + 1, node.value * 2, -node.value]
        self.literals = _unique(literals)[:LITERALS]
        self.order = [f for f in evaluation_order(spec) if f in needed]

    def fails(self, assignment: dict[str, Value]) -> bool:
        values = dict(self.base)
        values.update(assignment)
        for field_id in self.order:
            field = self.spec.fields[field_id]
            if field.members is not None:
                members = tuple(values.get(m, BLANK) for m in field.members)
                values[field_id] = tuple(v for v in members if not isinstance(v, tuple))
            elif field.formula is not None:
                values[field_id] = top_level(evaluate(field.formula, values))
        return top_level(evaluate(self.check.expr, values)) is not True

    def assignments(self, rng: random.Random) -> Iterator[dict[str, Value]]:
        options = {f.id: _candidates(f, self.literals) for f in self.inputs}
        yield {}
        for field_id, values in options.items():
            for value in values:
                yield {field_id: value}
        width = max((len(v) for v in options.values()), default=0)
        for index in range(width):
            yield {k: v[min(index, len(v) - 1)] for k, v in options.items()}
        for _ in range(RANDOM_TRIES):
            yield {k: rng.choice(v) for k, v in options.items()}


_PROVEN: dict[str, frozenset[str]] = {}  # spec SHA-256 -> ids of the checks that cannot fail


def checks_that_cannot_fail(spec: Spec) -> list[Check]:
    """The checks no searched assignment makes fail. The search is deterministic (a fixed
    seed per check), so its answer is remembered by the spec file's digest: every load_spec
    lints, and a test session loads the same spec hundreds of times."""
    if spec.sha256 and spec.sha256 in _PROVEN:
        stuck_ids = _PROVEN[spec.sha256]
        return [c for c in spec.checks if c.id in stuck_ids]
    stuck = _search_all(spec)
    if spec.sha256:
        _PROVEN[spec.sha256] = frozenset(c.id for c in stuck)
    return stuck


def _search_all(spec: Spec) -> list[Check]:
    base = recompute(spec, {})
    stuck = []
    for check in spec.checks:
        search = _Search(spec, check, base)
        rng = random.Random(check.id)
        if not any(search.fails(a) for a in search.assignments(rng)):
            stuck.append(check)
    return stuck
