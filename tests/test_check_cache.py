"""Check results remembered by the values they read (xltools/check/rules.py): a warm cache
must give exactly what evaluating gives, and values that are equal in Python but not in a
spreadsheet (TRUE and 1, a range holding TRUE and one holding 1) must not share a result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from check_fixtures import SHEET, edit, filled, ref, registry

from xltools.check.rules import _CheckCache
from xltools.check.run import check_file
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


def test_a_cell_remembered_as_right_does_not_hide_a_changed_one(tmp_path: Path) -> None:
    """Labels, formulas and fixed values found right are remembered by the reader's shared
    cell objects (xltools/check/structure.py ``_passed``): a changed one in the next return
    of the same template is still found, and the clean one is clean again after it."""
    clean = filled(tmp_path)

    def tamper(workbook: Any) -> None:
        sheet = workbook[SHEET]
        sheet["A1"] = "改过的标题"
        total, coordinate = ref(workbook, "total_weight")
        total[coordinate] = "=100"

    tampered = edit(clean, tmp_path / "tampered.xlsx", tamper)

    def codes(path: Path) -> set[str]:
        return {f.code for f in check_file(path, registry())[0].findings}

    assert not {"tamper-label-changed", "tamper-formula-changed"} & codes(clean)
    assert {"tamper-label-changed", "tamper-formula-changed"} <= codes(tampered)
    assert not {"tamper-label-changed", "tamper-formula-changed"} & codes(clean)
