"""An ``indicators`` block: the 绩效指标 table — grouped indicator rows, the standard row and its
checks, group subtotals and the weights that must add up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...expr import parse
from ..model import Block, Check, Column, Field, IndicatorBlock, IndicatorGroup
from ..source import line_of
from .base import ID_PATTERN, BlockBuilder, _fmt, _opt_float, _opt_str

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


class IndicatorBlocks(BlockBuilder):
    """``kind: indicators``."""

    def indicator_block(self, raw: Mapping[str, Any]) -> Block:
        block_id = str(raw.get("id", ""))
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
        )
        label = title or block_id
        self._sum_field(
            block.score_field, [g.score_field for g in groups], (label, "得分合计"), raw
        )
        self._sum_field(
            block.weight_field, [g.weight_field for g in groups], (label, "分值合计"), raw
        )
        declared = _opt_float(raw.get("weight"))
        self._check_weights(declared, groups, label, raw)
        return block

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
            if depth != len(levels):
                self.problem(
                    "spec-schema",
                    f"指标分组 “{label}” 在第 {depth} 级就有指标行，但表头有 {len(levels)} 级（levels）",
                    raw,
                )
            presets = raw.get("rows", 1)
            if isinstance(presets, int):
                presets = [{}] * presets
            for n, preset in enumerate(presets, start=1):
                row_where = preset if preset else raw
                row = self._row_fields(
                    f"{prefix}_{n}", columns, preset or {}, (*labels, str(n)), row_where
                )
                self.row_checks(self.current_row_checks, row, f"{prefix}_{n}")
                group.rows.append(row)
        # A top-level group, or one that declares its weight, gets its own 小计 (sum fields);
        # the others are summed straight from their rows by the group above.
        if depth == 1 or group.weight is not None:
            group.score_field = f"{prefix}_score"
            group.weight_field = f"{prefix}_weight"
            self._sum_field(group.score_field, _parts(group, "score"), (*labels, "得分"), raw)
            self._sum_field(group.weight_field, _parts(group, "weight"), (*labels, "分值"), raw)
            self._weight_check(group, labels)
        if group.children:
            self._check_weights(group.weight, group.children, label, raw)
        else:
            self._check_row_weights(group, raw)
        return group

    def _weight_check(self, group: IndicatorGroup, labels: tuple[str, ...]) -> None:
        """The unit spreads a group's weight over its rows: the rows must add up to it. When
        the spec fixes every row's weight, lint has compared them (spec-weights-mismatch) and
        the locked cells cannot change: such a check could never fail, so there is none."""
        if group.weight is None:
            return
        if not any(self.fields[w].input for w in _row_weights(group) if w in self.fields):
            return
        self.auto_checks.append(
            Check(
                id=f"weight_{group.weight_field}",
                severity="error",
                message=f"“{'/'.join(labels[1:])}” 各指标分值之和应为 {_fmt(group.weight)} 分",
                expr=parse(f"{group.weight_field}={_fmt(group.weight)}"),
                source=f"{group.weight_field}={_fmt(group.weight)}",
                cells=(group.weight_field,),
            )
        )

    def _sum_field(
        self, field_id: str, parts: list[str], path: tuple[str, ...], where: Any
    ) -> None:
        source = f"SUM({', '.join(parts)})" if parts else "0"
        self.add_field(
            Field(id=field_id, label=path[-1], path=path, type="number", formula=parse(source),
                  formula_source=source, input=False, sheet=self.sheet, line=line_of(where)),
            where,
        )  # fmt: skip

    def _check_weights(
        self, declared: float | None, parts: list[IndicatorGroup], label: str, where: Any
    ) -> None:
        """Declared weights of the parts must add up to the declared weight of the whole."""
        weights = [p.weight for p in parts]
        if declared is None or any(w is None for w in weights):
            return
        total = sum(w for w in weights if w is not None)
        if abs(total - declared) > 1e-9:
            detail = " + ".join(f"{p.label} {_fmt(p.weight)}（第 {p.line} 行）" for p in parts)
            self.problem(
                "spec-weights-mismatch",
                f"“{label}” 的分值为 {_fmt(declared)}，但其下各项相加为 {_fmt(total)}（{detail}）",
                where,
                "weight",
            )

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
        child_total = child.score_field if column == "score" else child.weight_field
        parts.extend([child_total] if child_total else _parts(child, column))
    return parts


def _row_weights(group: IndicatorGroup) -> list[str]:
    """The weight fields of every row under a group, at any depth."""
    found = [row["weight"] for row in group.rows if "weight" in row]
    for child in group.children:
        found.extend(_row_weights(child))
    return found
