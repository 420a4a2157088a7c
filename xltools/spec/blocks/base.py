"""What the block builders share: the builder they are mixed into (:class:`BlockBuilder`, what
they may use of :class:`xltools.spec.build._Builder`), the columns of a table or list, the
fields of one repeating row, and the small readers of optional settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...yaml_errors import full_width_hint
from ..model import Check, Field
from ..problems import ProblemList

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# What a cell that does not apply to its row keeps of its column: how it is shown, no rule.
_KEPT_WHEN_BLANK = ("label", "type", "unit", "lines")


class BlockBuilder:
    """The builder's state and core methods the blocks use; :class:`xltools.spec.build._Builder`
    defines them (declared here for the type checker only, so no block module imports build)."""

    path: Path
    problems: ProblemList
    fields: dict[str, Field]
    sheet: str
    auto_checks: list[Check]
    current_row_checks: list[Any]
    current_held: dict[str, str]  # typed-score column -> the rule's score column it is held to
    current_totalled: list[str]  # indicator columns summed in every 小计 and 合计
    current_subtotal_levels: set[int] | None  # levels given a 小计 row; None: the default
    column_ranges: dict[str, tuple[str, ...]]  # ind_all_<key> -> that column's cells
    row_members: dict[str, tuple[str, ...]]

    if TYPE_CHECKING:

        def problem(self, code: str, message: str, where: Any = None, key: Any = None) -> None: ...

        def add_field(self, field: Field, where: Any) -> None: ...

        def make_field(
            self,
            definition: Mapping[str, Any],
            field_id: str,
            path: tuple[str, ...],
            local_names: Mapping[str, str],
            where: Any,
            value_key: str = "value",
        ) -> Field: ...

        def row_checks(self, raw: Any, row: Mapping[str, str], prefix: str) -> None: ...

    def block_id(self, raw: Any, what: str) -> str:
        """A block's id as field ids can use it: a bad one is reported, then made safe, so that
        one typo gives one problem and not a crash further on."""
        text = str(raw.get("id", ""))
        if ID_PATTERN.match(text):
            return text
        self.problem(
            "spec-bad-id", f"{what}的 id “{text}” 不合规：只能用小写字母、数字和下划线，并以字母开头",
            raw, "id",
        )  # fmt: skip
        return safe_id(text)

    def _columns(self, raw: Any, where: Any) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or not raw:
            self.problem("spec-schema", "需要 columns 列表（每列 key 与 label）", where)
            return []
        columns = []
        for item in raw:
            if isinstance(item, dict) and "key" in item:
                columns.append(item)
            else:
                self.problem("spec-schema", "每一列都需要 key", item if item else where)
        return columns

    def _row_fields(
        self,
        prefix: str,
        columns: list[dict[str, Any]],
        preset: Mapping[str, Any],
        path: tuple[str, ...],
        where: Any,
    ) -> dict[str, str]:
        """The fields of one repeating row; ``preset`` fixes values or overrides column settings,
        and a column set to nothing (``actual: ~``) does not apply to the row: a blank, locked
        cell. A preset row is the spec's (fixed): its required inputs are required outright;
        the others are free rows, required only once used (``row_members``)."""
        col_keys = [str(c["key"]) for c in columns]
        local_names = {k: f"{prefix}_{k}" for k in col_keys}
        unknown = set(preset) - set(col_keys)
        if unknown:
            self.problem(
                "spec-unknown-key",
                f"行 {prefix} 有不存在的列：{', '.join(sorted(unknown))}"
                + full_width_hint("".join(unknown)),
                where,
            )
        row: dict[str, str] = {}
        for column in columns:
            key = str(column["key"])
            definition = {k: v for k, v in column.items() if k != "key"}
            override = preset.get(key)
            if key in preset and override is None:
                definition = {k: v for k, v in definition.items() if k in _KEPT_WHEN_BLANK}
                definition["input"] = False
            elif isinstance(override, dict):
                definition.update(override)
            elif override is not None:
                definition["value"] = override
            field = self.make_field(
                definition,
                f"{prefix}_{key}",
                (*path, str(column.get("label", key))),
                local_names,
                where,
                value_key=key,
            )
            self.add_field(field, where)
            row[key] = field.id
        members = tuple(f for f in row.values() if self.fields[f].input)
        if not preset:
            for field_id in members:
                self.row_members[field_id] = members
        return row


def safe_id(text: str) -> str:
    """``text`` made into an id (after its problem is reported): expressions can name it."""
    return "x" + re.sub(r"[^a-z0-9_]", "_", text.lower())


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _opt_int(value: Any) -> int | None:
    number = _opt_float(value)
    return None if number is None else int(number)


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)
