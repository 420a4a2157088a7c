"""Hypothesis strategies that fill a spec's input fields the way bureaus do: valid values,
boundaries, blanks, and targets met exactly, missed and exceeded."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from xltools.spec.constraints import bounds, text_limit
from xltools.spec.model import Field, Spec

_WORDS = ["达成", "全覆盖", "按要求完成", "有效缓解", "显著提升", "无", "x"]
_TEXTS = [
    "某某县医疗保障局",
    "测试项目",
    "张三",
    "A",
    "=1+1",
    "说明：\n第二行",
    "0",
    "很长的说明" * 20,
]


def _number(field: Field) -> st.SearchStrategy[Any]:
    low, high = bounds(field)
    low, high = max(low, -1e6), min(high, 1e6)
    edges = sorted({low, high, 0.0, 1.0} & {x for x in (low, high, 0.0, 1.0) if low <= x <= high})
    # A spreadsheet keeps 15 significant digits: draw only what a cell can hold.
    drawn: st.SearchStrategy[float] = (
        st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)
        .map(lambda x: float(f"{x:.15g}"))
        # Nor subnormal magnitudes, which no spreadsheet stores.
        .filter(lambda x: low <= x <= high and (x == 0 or abs(x) >= 1e-300))
    )
    if field.type == "integer":
        return st.integers(int(low), int(high)).map(float)
    # Two decimals, as money is typed, most of the time; full precision sometimes.
    cents = drawn.map(lambda x: round(x, 2)).filter(lambda x: low <= x <= high)
    return st.one_of(st.sampled_from(edges), cents, drawn)


def value_for(field: Field) -> st.SearchStrategy[Any]:
    if field.type in ("integer", "number", "money", "percent"):
        return _number(field)
    if field.type in ("choice", "bool"):
        return st.sampled_from(list(field.choices or ("",)))
    if field.type == "date":
        return st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31))
    if field.type == "any":
        return st.one_of(
            st.sampled_from([0.0, 1.0, 0.9, 0.95, 100.0, 60.0]),
            st.floats(0, 1000, allow_nan=False).map(lambda x: round(x, 2)),
            st.sampled_from(_WORDS),
        )
    if field.pattern:
        return st.from_regex(field.pattern, fullmatch=True, alphabet="0123456789-")
    limit = text_limit(field)
    return st.sampled_from([t for t in _TEXTS if len(t) <= limit] or ["x"])


def inputs_for(spec: Spec, blank_share: float = 0.25) -> st.SearchStrategy[dict[str, Any]]:
    """A filled form: each input field either left blank or given a drawn value."""
    fields = spec.inputs()

    @st.composite
    def draw(data: st.DrawFn) -> dict[str, Any]:
        values: dict[str, Any] = {}
        blank = st.integers(0, 99).map(lambda n: n < blank_share * 100)
        for field in fields:
            if data(blank):
                continue
            values[field.id] = data(value_for(field))
        return values

    return draw()
