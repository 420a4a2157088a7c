"""Recompute every derived field of a spec from its inputs, in dependency order.

This is the checker's source of truth and the generator's source of cached values: the same
expression trees the template's formulas were compiled from, evaluated in Python.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from graphlib import CycleError, TopologicalSorter

from .expr import BLANK, ExcelError, Name, Value, evaluate, top_level
from .expr.ast import walk
from .spec.model import Spec

_ORDERS: dict[tuple[str, int, str], list[str]] = {}


def evaluation_order(spec: Spec) -> list[str]:
    """Computed and range fields, each after everything it depends on (once per spec version:
    a merge evaluates thousands of files of the same spec)."""
    key = (spec.template, spec.version, spec.sha256)
    if key not in _ORDERS or not spec.sha256:
        _ORDERS[key] = _order(spec)
    return _ORDERS[key]


def _order(spec: Spec) -> list[str]:
    graph: dict[str, set[str]] = {}
    for field in spec.fields.values():
        if field.formula is not None:
            graph[field.id] = {n.name for n in walk(field.formula) if isinstance(n, Name)}
        elif field.members is not None:
            graph[field.id] = set(field.members)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:  # lint refuses such specs; this guards direct callers
        raise ValueError(f"spec {spec.template} has a cycle: {error.args[1]}") from error
    return [f for f in order if f in graph]


def recompute(spec: Spec, inputs: Mapping[str, Value]) -> dict[str, Value]:
    """Values of every field: inputs as given (missing = blank), fixed values, and computed."""
    values: dict[str, Value] = {}
    for field in spec.fields.values():
        if field.formula is None and field.members is None:
            if field.id in inputs:
                values[field.id] = as_cell_value(inputs[field.id])
            elif field.value is not None:
                values[field.id] = as_cell_value(field.value)
            else:
                values[field.id] = BLANK
    for field_id in evaluation_order(spec):
        field = spec.fields[field_id]
        if field.members is not None:
            members = tuple(values.get(m, BLANK) for m in field.members)
            values[field_id] = tuple(v for v in members if not isinstance(v, tuple))
        else:
            assert field.formula is not None
            values[field_id] = top_level(evaluate(field.formula, values))
    return values


EXCEL_EPOCH = dt.date(1899, 12, 30)


def excel_serial(value: dt.date) -> float:
    """A date as the serial number a spreadsheet stores (1900 date system)."""
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400
    return float((value - EXCEL_EPOCH).days)


def from_serial(serial: float) -> dt.date:
    """The date of a serial number (1900 date system; the time of day is dropped)."""
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def as_cell_value(value: object) -> Value:
    """A Python value as a cell value: ints become floats, dates serials, None a blank."""
    if value is None:
        return BLANK
    if isinstance(value, dt.date):
        return excel_serial(value)
    if isinstance(value, bool | str | tuple | ExcelError) or value is BLANK:
        return value
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def agrees(expected: Value, found: object, *, abs_tol: float = 1e-9) -> bool:
    """Whether a value read from a workbook is what the recomputation says: numbers within
    1e-9 relative (spreadsheets store 15 significant digits), text and errors exactly, and a
    blank or empty text result as either."""
    if isinstance(expected, ExcelError):
        return found == expected.code
    if expected is BLANK or expected == "":
        return found in (None, "")
    if isinstance(expected, bool) or isinstance(found, bool):
        return expected == found
    if isinstance(expected, float):
        return isinstance(found, int | float) and math.isclose(
            expected, float(found), rel_tol=1e-9, abs_tol=abs_tol
        )
    return str(expected) == str(found)
