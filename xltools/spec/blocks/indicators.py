"""An ``indicators`` block: the 绩效指标 table — grouped indicator rows, the standard row and its
checks, group subtotals and the weights that must add up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...expr import ExpressionError, Name, parse
from ..model import Block, Check, Column, Field, IndicatorBlock, IndicatorGroup
from ..source import line_of
from .base import ID_PATTERN, BlockBuilder, _fmt, _opt_float, _opt_str, safe_id

# The standard indicator row of 项目支出 / 部门整体 自评表 (domain.md, forms A and B).
STANDARD_INDICATOR_COLUMNS: list[dict[str, Any]] = [
    {"key": "name", "label": "三级指标", "type": "text", "required": True, "max_length": 200},
    {"key": "op", "label": "符号", "type": "choice", "choices": "target_op", "required": True},
    {"key": "target", "label": "年度指标值", "type": "any"},
    {"key": "unit", "label": "单位", "type": "text", "max_length": 20},
    {"key": "actual", "label": "实际完成值", "type": "any", "required": True},
    {"key": "level", "label": "完成等级（定性）", "type": "choice", "choices": "level"},
    {"key": "weight", "label": "分值", "type": "number", "min": 0, "max": 100, "required": True},
    {"key": "self_score", "label": "自评分（定性）", "type": "number", "min": 0, "max": 100},
    {"key": "score", "label": "得分", "type": "number", "rule": "indicator"},
    {"key": "reason", "label": "偏差原因分析及改进措施", "type": "text", "max_length": 500},
]

_QUANTITATIVE = '(op="≥", op="≤", op="=")'
# What a reviewer checks on every standard indicator row (domain.md); written once, here.
STANDARD_ROW_CHECKS: list[dict[str, Any]] = [
    {
        "id": "reason_needed",
        "severity": "error",
        "assert": 'OR(name="", score>=weight, LEN(reason)>0)',
        "message": "得分低于分值，须填写偏差原因分析及改进措施",
        "cells": ["reason"],
    },
    {
        "id": "actual_is_number",
        "severity": "error",
        "assert": f"OR(NOT(OR{_QUANTITATIVE}), ISBLANK(actual), ISNUMBER(actual))",
        "message": "定量指标（≥、≤、=）的实际完成值须为数值，如 100% 而不是“全覆盖”",
        "cells": ["actual"],
    },
    {
        "id": "target_is_number",
        "severity": "error",
        "assert": f"OR(NOT(OR{_QUANTITATIVE}), ISNUMBER(target))",
        "message": "定量指标的年度指标值须为数值，符号写在“符号”列",
        "cells": ["target"],
    },
    {
        "id": "level_needed",
        "severity": "error",
        "assert": 'OR(op<>"定性", level<>"")',
        "message": "定性指标须选择完成等级（达成 / 部分达成 / 未达成）",
        "cells": ["level"],
    },
    {
        "id": "score_in_band",
        "severity": "warning",
        "assert": 'OR(op<>"定性", ISBLANK(self_score), NOT(ISNUMBER(self_score)),'
        ' AND(level="达成", self_score>=80%*weight, self_score<=weight),'
        ' AND(level="部分达成", self_score>=60%*weight, self_score<=80%*weight),'
        ' AND(level="未达成", self_score>=0, self_score<=60%*weight))',
        "message": "自评分不在所选完成等级的区间内（达成 80–100%、部分达成 60–80%、未达成 0–60% 的分值），按区间边界计分",
        "cells": ["self_score"],
    },
    {
        "id": "target_may_be_low",
        "severity": "warning",
        "assert": 'IF(AND(op="≥", ISNUMBER(actual), ISNUMBER(target)), NOT(AND(target>0, actual>1.5*target)), TRUE)',
        "message": "实际完成值超过年度指标值的 1.5 倍：指标值可能定得过低，请核实",
        "cells": ["actual"],
    },
]


# Settings of an indicator column that are not field settings: the builder takes them off.
COLUMN_SETTINGS = ("held_to", "total")
POSITIONS = ("after", "before")
HELD_CODE = "score-not-by-rule"


class IndicatorBlocks(BlockBuilder):
    """``kind: indicators``."""

    def indicator_block(self, raw: Mapping[str, Any]) -> Block:
        block_id = self.block_id(raw, "指标表")
        title = _opt_str(raw.get("title"))
        levels = [str(x) for x in raw.get("levels") or ["一级指标", "二级指标"]]
        columns_raw = raw.get("columns", "standard")
        columns = (
            STANDARD_INDICATOR_COLUMNS
            if columns_raw == "standard"
            else self._columns(columns_raw, raw)
        )
        # The standard row brings its own checks; a spec may add (or, with columns, replace) them.
        standard = STANDARD_ROW_CHECKS if columns_raw == "standard" else []
        self.current_row_checks = standard + list(raw.get("row_checks") or [])
        col_keys = {str(c["key"]) for c in columns}
        if "score" not in col_keys or "weight" not in col_keys:
            self.problem(
                "spec-schema", f"指标表 {block_id} 的列中必须有 weight（分值）和 score（得分）", raw
            )
        columns, held, totalled = self._column_settings(columns, col_keys, block_id)
        self.current_held = held
        self.current_totalled = totalled
        self.current_subtotal_levels = self._subtotal_levels(raw, len(levels))
        groups = [
            self._group(g, block_id, (block_id,), (title or block_id,), columns, levels, 1)
            for g in raw.get("groups") or []
            if isinstance(g, dict)
        ]
        block = IndicatorBlock(
            id=block_id,
            levels=levels,
            columns=[Column(str(c["key"]), str(c.get("label", c["key"]))) for c in columns],
            groups=groups,
            score_field=f"{block_id}_score",
            weight_field=f"{block_id}_weight",
            title=title,
            subtotal_label=str(raw.get("subtotal_label", "小计")),
            total_label=str(raw.get("total_label", "合计")),
            subtotal_position=self._position(raw, "subtotal_position"),
            total_position=self._position(raw, "total_position"),
        )
        label = title or block_id
        labels = {str(c["key"]): str(c.get("label", c["key"])) for c in columns}
        for key in totalled:
            field_id = f"{block_id}_{key}"
            parts = [
                p for g in groups for p in ([g.totals[key]] if key in g.totals else _parts(g, key))
            ]
            self._sum_field(field_id, parts, (label, f"{labels[key]}合计"), raw)
            block.totals[key] = field_id
        block.score_field, block.weight_field = block.totals["score"], block.totals["weight"]
        for key in col_keys:
            members = tuple(row[key] for g in groups for row in g.leaf_rows() if key in row)
            self.column_ranges[f"{block_id}_all_{key}"] = members
        declared = _opt_float(raw.get("weight"))
        self._check_weights(declared, groups, label, raw)
        return block

    def _column_settings(
        self, columns: list[dict[str, Any]], keys: set[str], block_id: str
    ) -> tuple[list[dict[str, Any]], dict[str, str], list[str]]:
        """The columns as field definitions; the typed-score columns (``held_to``: the column
        of the rule's score it is held to) and the columns summed in every 小计 and 合计."""
        held: dict[str, str] = {}
        totalled = ["weight", "score"]
        cleaned = []
        for column in columns:
            key = str(column["key"])
            definition = {k: v for k, v in column.items() if k not in COLUMN_SETTINGS}
            target = column.get("held_to")
            if target is not None:
                if str(target) not in keys or str(target) == key:
                    self.problem(
                        "spec-unknown-reference",
                        f"指标表 {block_id} 的列 {key}：held_to 应是另一列（算出得分的列）的 key，"
                        f"没有列 “{target}”",
                        column,
                        "held_to",
                    )
                else:
                    held[key] = str(target)
                    # A typed score lies within the row's 分值 unless the spec says otherwise.
                    definition.setdefault("type", "number")
                    definition.setdefault("min", 0)
                    if "weight" in keys:
                        definition.setdefault("max", "weight")
            if (column.get("total", target is not None)) and key not in totalled:
                totalled.append(key)
            cleaned.append(definition)
        return cleaned, held, totalled

    def _subtotal_levels(self, raw: Mapping[str, Any], levels: int) -> set[int] | None:
        """The levels whose groups get a 小计 row (``subtotal_levels: [1, 2]``); None: the
        default, top-level groups and those that declare their weight."""
        wanted = raw.get("subtotal_levels")
        if wanted is None:
            return None
        if not isinstance(wanted, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= levels for n in wanted
        ):
            self.problem(
                "spec-schema",
                f"subtotal_levels 应是级次的列表，如 [1, 2]（1 到 {levels}）",
                raw,
                "subtotal_levels",
            )
            return None
        return set(wanted)

    def _position(self, raw: Mapping[str, Any], key: str) -> str:
        value = str(raw.get(key, "after"))
        if value not in POSITIONS:
            self.problem(
                "spec-schema",
                f"{key} 只能是 after（在后）或 before（在前），却是 “{value}”",
                raw,
                key,
            )
            return "after"
        return value

    def _group(
        self,
        raw: Mapping[str, Any],
        block_id: str,
        keys: tuple[str, ...],
        labels: tuple[str, ...],
        columns: list[dict[str, Any]],
        levels: list[str],
        depth: int,
    ) -> IndicatorGroup:
        key = str(raw.get("key", ""))
        label = str(raw.get("label", key))
        if not ID_PATTERN.match(key):
            self.problem(
                "spec-bad-id", f"指标分组 “{label}” 需要 key（小写字母、数字、下划线）", raw
            )
            key = safe_id(key)  # reported: build on with an id expressions can name
        if depth > len(levels):
            self.problem(
                "spec-schema",
                f"指标分组 “{label}” 在第 {depth} 级，但表头只有 {len(levels)} 级（levels）",
                raw,
            )
        keys, labels = (*keys, key), (*labels, label)
        prefix = "_".join(keys)
        group = IndicatorGroup(
            key=key,
            label=label,
            weight=_opt_float(raw.get("weight")),
            children=[],
            rows=[],
            line=line_of(raw, "weight"),
        )
        if "groups" in raw:
            group.children = [
                self._group(g, block_id, keys, labels, columns, levels, depth + 1)
                for g in raw["groups"] or []
                if isinstance(g, dict)
            ]
        else:
            # Rows may stand at any level: a branch that ends early needs no filler group.
            presets = raw.get("rows", 1)
            if isinstance(presets, int):
                presets = [{}] * presets
            for n, preset in enumerate(presets, start=1):
                row_where = preset if preset else raw
                row = self._row_fields(
                    f"{prefix}_{n}", columns, preset or {}, (*labels, str(n)), row_where
                )
                self.row_checks(self.current_row_checks, row, f"{prefix}_{n}")
                self._held_checks(row, f"{prefix}_{n}")
                group.rows.append(row)
        # A top-level group, or one that declares its weight, gets its own 小计 (sum fields)
        # unless it says ``subtotal: false``; the others are summed by the group above.
        wanted = raw.get("subtotal")
        if wanted is None and self.current_subtotal_levels is not None:
            wanted = depth in self.current_subtotal_levels
        elif wanted is None:
            wanted = depth == 1 or group.weight is not None
        if wanted:
            for column in self.current_totalled:
                group.totals[column] = f"{prefix}_{column}"
                path = (*labels, "得分" if column == "score" else "分值" if column == "weight"
                        else _label_of(columns, column))  # fmt: skip
                self._sum_field(group.totals[column], _parts(group, column), path, raw)
            group.score_field, group.weight_field = group.totals["score"], group.totals["weight"]
        self._weight_check(group, labels)
        if group.children:
            self._check_weights(group.weight, group.children, label, raw)
        else:
            self._check_row_weights(group, raw)
        return group

    def _held_checks(self, row: Mapping[str, str], prefix: str) -> None:
        """A typed score is held to the rule's: the difference is an error whose 应为 is the
        rule's score, so the evaluator sees what the rule gives beside what they typed."""
        for typed_key, rule_key in self.current_held.items():
            typed, rule = row.get(typed_key), row.get(rule_key)
            if typed is None or rule is None or not self.fields[typed].input:
                continue
            source = (
                f"OR(ISBLANK({typed}), NOT(ISNUMBER({typed})), ROUND({typed}, 2)=ROUND({rule}, 2))"
            )
            typed_label, rule_label = self.fields[typed].label, self.fields[rule].label
            self.auto_checks.append(
                Check(id=f"held_{typed}", severity="error",
                      message=f"“{typed_label}” 与按评分标准计算的 “{rule_label}” 不一致：请按评分标准打分，"
                      "或核对本行填写的依据",
                      expr=parse(source), source=source, cells=(typed,), line=self.fields[typed].line,
                      code=HELD_CODE, expected=Name(rule))
            )  # fmt: skip

    def _weight_check(self, group: IndicatorGroup, labels: tuple[str, ...]) -> None:
        """The unit spreads a group's weight over its rows: the rows must add up to it. When
        the spec fixes every row's weight, lint has compared them (spec-weights-mismatch) and
        the locked cells cannot change: such a check could never fail, so there is none."""
        if group.weight is None:
            return
        if not any(self.fields[w].input for w in _row_weights(group) if w in self.fields):
            return
        parts = _parts(group, "weight")
        total = group.weight_field or f"SUM({', '.join(parts)})"
        source = f"{total}={_fmt(group.weight)}"
        self.auto_checks.append(
            Check(
                id=f"weight_{group.weight_field or '_'.join(parts[:1])}",
                severity="error",
                message=f"“{'/'.join(labels[1:])}” 各指标分值之和应为 {_fmt(group.weight)} 分",
                expr=parse(source),
                source=source,
                cells=(group.weight_field or parts[0],),
            )
        )

    def _sum_field(
        self, field_id: str, parts: list[str], path: tuple[str, ...], where: Any
    ) -> None:
        source = f"SUM({', '.join(parts)})" if parts else "0"
        try:
            formula = parse(source)
        except ExpressionError:
            return  # a bad block or group id, reported where it is written
        self.add_field(
            Field(id=field_id, label=path[-1], path=path, type="number", formula=formula,
                  formula_source=source, input=False, sheet=self.sheet, line=line_of(where)),
            where,
        )  # fmt: skip

    def _check_weights(
        self, declared: float | None, parts: list[IndicatorGroup], label: str, where: Any
    ) -> None:
        """Declared weights of the parts must add up to the declared weight of the whole."""
        weights = [self._fixed_weight(p) for p in parts]
        if declared is None or any(w is None for w in weights):
            return
        total = sum(w for w in weights if w is not None)
        if abs(total - declared) > 1e-9:
            detail = " + ".join(
                f"{p.label} {_fmt(w)}（第 {p.line} 行）"
                for p, w in zip(parts, weights, strict=True)
            )
            self.problem(
                "spec-weights-mismatch",
                f"“{label}” 的分值为 {_fmt(declared)}，但其下各项相加为 {_fmt(total)}（{detail}）",
                where,
                "weight",
            )

    def _fixed_weight(self, group: IndicatorGroup) -> float | None:
        """A group's weight: declared, or the sum of its rows' and subgroups' fixed weights
        (None when the unit distributes some of it)."""
        if group.weight is not None:
            return group.weight
        total = 0.0
        for row in group.rows:
            value = self.fields[row["weight"]].value if row.get("weight") in self.fields else None
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            total += float(value)
        for child in group.children:
            weight = self._fixed_weight(child)
            if weight is None:
                return None
            total += weight
        return total

    def _check_row_weights(self, group: IndicatorGroup, where: Any) -> None:
        if group.weight is None or not group.rows:
            return
        values = [
            self.fields[r["weight"]].value for r in group.rows if r.get("weight") in self.fields
        ]
        if len(values) != len(group.rows) or any(not isinstance(v, int | float) for v in values):
            return  # the unit distributes the weight: checked in the workbook, not here
        total = float(sum(values))
        if abs(total - group.weight) > 1e-9:
            self.problem(
                "spec-weights-mismatch",
                f"“{group.label}” 的分值为 {_fmt(group.weight)}，但预设指标的分值相加为 {_fmt(total)}",
                where,
                "weight",
            )


def _parts(group: IndicatorGroup, column: str) -> list[str]:
    """Fields whose sum is the group's total of ``column``: child totals where a child has
    them, rows otherwise."""
    parts = [row[column] for row in group.rows if column in row]
    for child in group.children:
        child_total = child.totals.get(column)
        parts.extend([child_total] if child_total else _parts(child, column))
    return parts


def _label_of(columns: list[dict[str, Any]], key: str) -> str:
    return next((str(c.get("label", key)) for c in columns if str(c["key"]) == key), key)


def _row_weights(group: IndicatorGroup) -> list[str]:
    """The weight fields of every row under a group, at any depth."""
    found = [row["weight"] for row in group.rows if "weight" in row]
    for child in group.children:
        found.extend(_row_weights(child))
    return found
