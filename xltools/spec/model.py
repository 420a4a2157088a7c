"""What a spec is once read: fields, checks, grade bands and the layout blocks that hold them.

Every cell the unit can type into or that the template computes is a ``Field`` with a stable
id. Layout blocks (header fields, fixed tables, repeating lists, indicator tables) only say where
fields stand; the checker and the merge work on fields alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from ..expr import Node

FIELD_TYPES: Final = (
    "text",
    "integer",
    "number",
    "money",
    "percent",
    "date",
    "choice",
    "bool",
    "any",
)
NUMERIC_TYPES: Final = frozenset({"integer", "number", "money", "percent"})
SEVERITIES: Final = ("error", "warning", "info")
YES_NO: Final = ("是", "否")

Severity = Literal["error", "warning", "info"]


@dataclass
class Field:
    id: str
    label: str
    path: tuple[
        str, ...
    ]  # label path, e.g. ("绩效指标", "产出指标", "数量指标", "1", "实际完成值")
    type: str = "text"
    unit: str | None = None
    choices: tuple[str, ...] | None = None
    choice_list: str | None = None  # name of the spec's shared list the choices come from
    required: bool = False
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    pattern: str | None = None
    formula: Node | None = None  # set for computed fields
    formula_source: str | None = None  # the text the author wrote, or the rule kind
    value: Any = None  # value fixed by the spec (a locked label-like cell, e.g. a weight)
    input: bool = True  # the unit types it
    prompt: str | None = None
    lines: int = 1  # height of a long text cell, in lines
    members: tuple[str, ...] | None = None  # for a range field: the cells it spans, in order
    sheet: str = ""
    line: int = 0

    @property
    def computed(self) -> bool:
        return self.formula is not None

    @property
    def is_range(self) -> bool:
        return self.members is not None


@dataclass
class Check:
    """A cross-field rule: ``expr`` is TRUE when the form is right."""

    id: str
    severity: Severity
    message: str
    expr: Node
    source: str
    cells: tuple[str, ...] = ()
    line: int = 0
    code: str = ""  # stable finding code: "check-<id as written>", the same on every row
    expected: Node | None = None  # what the cell should hold (its finding's 应为), when known

    def __post_init__(self) -> None:
        if not self.code:
            self.code = f"check-{self.id}"


@dataclass(frozen=True)
class GradeBand:
    grade: str
    min: float | None  # inclusive lower bound; None catches everything below


# ---- layout -------------------------------------------------------------------------------


@dataclass
class FieldsBlock:
    """Label / value pairs, ``columns`` pairs to a row; long texts take a whole row."""

    fields: list[str]
    columns: int = 2
    title: str | None = None
    kind: str = "fields"


@dataclass
class Column:
    key: str
    label: str


@dataclass
class TableBlock:
    """A fixed matrix: each (row, column) is a field or nothing."""

    id: str
    columns: list[Column]
    rows: list[Column]
    cells: dict[tuple[str, str], str]  # (row key, column key) -> field id
    title: str | None = None
    corner: str | None = None  # label of the top-left cell
    kind: str = "table"


@dataclass
class ListBlock:
    """Repeating rows of the same columns; ``totals`` holds a field per totalled column."""

    id: str
    columns: list[Column]
    rows: list[dict[str, str]]  # per row: column key -> field id
    totals: dict[str, str]  # column key -> field id of its total
    total_label: str = "合计"
    title: str | None = None
    kind: str = "list"


@dataclass
class IndicatorGroup:
    key: str
    label: str
    weight: float | None
    children: list[IndicatorGroup]
    rows: list[dict[str, str]]  # leaf groups: per row, column key -> field id
    score_field: str = ""  # sum of the scores in the group
    weight_field: str = ""  # sum of the row weights in the group
    line: int = 0  # where its weight (or the group) is declared
    totals: dict[str, str] = field(default_factory=dict)  # column key -> its 小计 field

    def leaf_rows(self) -> list[dict[str, str]]:
        rows = list(self.rows)
        for child in self.children:
            rows.extend(child.leaf_rows())
        return rows

    def labelled_rows(
        self, labels: tuple[str, ...] = ()
    ) -> Iterator[tuple[tuple[str, ...], dict[str, str]]]:
        """Each indicator row with the labels of the groups above it, 一级 first."""
        chain = (*labels, self.label)
        for row in self.rows:
            yield chain, row
        for child in self.children:
            yield from child.labelled_rows(chain)


@dataclass
class IndicatorBlock:
    """Indicators grouped by 一级 / 二级 (or more) levels, a variable number of rows per group."""

    id: str
    levels: list[str]
    columns: list[Column]
    groups: list[IndicatorGroup]
    score_field: str
    weight_field: str
    title: str | None = None
    kind: str = "indicators"
    totals: dict[str, str] = field(default_factory=dict)  # column key -> its 合计 field
    subtotal_label: str = "小计"
    total_label: str = "合计"
    subtotal_position: str = "after"  # the 小计 row after a group's rows, or "before" them
    total_position: str = "after"  # the 合计 row after the table, or "before" (under the header)


@dataclass
class NoteBlock:
    text: str
    kind: str = "note"


Block = FieldsBlock | TableBlock | ListBlock | IndicatorBlock | NoteBlock


@dataclass
class Sheet:
    name: str
    title: str | None
    blocks: list[Block]
    landscape: bool = False


@dataclass(frozen=True)
class Previous:
    """The version a spec replaces and what changed since: fields renamed (old id -> new id)
    and removed (old ids). A field of the old version not named here keeps its id."""

    version: int
    renamed: dict[str, str] = field(default_factory=dict)
    removed: tuple[str, ...] = ()


#: What a bureau does with returns on an older version than its newest spec.
OLD_VERSION_POLICIES = ("accept", "migrate", "refuse")


@dataclass
class Spec:
    template: str
    version: int
    title: str
    year: int | None
    sheets: list[Sheet]
    fields: dict[str, Field]
    checks: list[Check]
    grade_bands: list[GradeBand]
    choice_lists: dict[str, tuple[str, ...]]
    source: Path | None = None
    sha256: str = ""
    accepts: tuple[int, ...] = ()  # earlier versions the checker still accepts
    previous: Previous | None = None  # the version this one replaces, for `xltools migrate`
    old_versions: str = "accept"  # one of OLD_VERSION_POLICIES
    obtain: str = ""  # where units get the current template, for the old-version messages
    extras: dict[str, Any] = field(default_factory=dict)

    def inputs(self) -> list[Field]:
        return [f for f in self.fields.values() if f.input and not f.is_range]

    def computed(self) -> list[Field]:
        return [f for f in self.fields.values() if f.computed]
