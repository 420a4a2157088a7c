"""Check results remembered by the values they read (xltools/check/rules.py): a warm cache
must give exactly what evaluating gives, and values that are equal in Python but not in a
spreadsheet (TRUE and 1, a range holding TRUE and one holding 1) must not share a result."""

from __future__ import annotations

from typing import Any

from xltools.check.rules import _CheckCache
from xltools.expr import BLANK, evaluate, top_level
from xltools.registry import Registry

SPEC = Registry.load(None).find("project_expense_2023", 1)
assert SPEC is not None
CHECK = next(i for i, c in enumerate(SPEC.checks) if c.code == "check-actual_is_number")
ROW = "ind_output_quantity_1"


def _values(actual: Any) -> dict[str, Any]:
    return {f"{ROW}_op": "≥", f"{ROW}_actual": actual}


def test_a_boolean_is_not_the_number_one() -> None:
    cache = _CheckCache(SPEC)
    expr = SPEC.checks[CHECK].expr
    assert cache.result(CHECK, expr, _values(1.0)) is True
    assert cache.result(CHECK, expr, _values(True)) is False  # ISNUMBER(TRUE) is FALSE
    assert cache.result(CHECK, expr, _values(1.0)) is True
    assert cache.result(CHECK, expr, _values("1")) is False  # text is not a number either


def test_a_warm_cache_agrees_with_evaluation_for_every_check() -> None:
    cache = _CheckCache(SPEC)
    samples: list[dict[str, Any]] = [
        {},
        {f: BLANK for f in SPEC.fields},
        {f: 1.0 for f in SPEC.fields},
        {f: True for f in SPEC.fields},
        {f: "达成" for f in SPEC.fields},
    ]
    for _ in range(2):  # cold, then warm
        for values in samples:
            for index, check in enumerate(SPEC.checks):
                expected = top_level(evaluate(check.expr, values))
                assert cache.result(index, check.expr, values) == expected, check.code
