"""Turn a spec's YAML into the model: expand layout blocks into fields, rules into expressions.

Reading never stops at the first problem: each is recorded with its line, and the caller (lint,
or anything that needs a usable spec) decides what to do with them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..expr import ExpressionError, Name, Node, parse, substitute
from ..yaml_errors import explain as explain_yaml_error
from ..yaml_errors import full_width_hint
from .model import (
    FIELD_TYPES,
    NUMERIC_TYPES,
    SEVERITIES,
    YES_NO,
    Block,
    Check,
    Column,
    Field,
    FieldsBlock,
    GradeBand,
    IndicatorBlock,
    IndicatorGroup,
    ListBlock,
    NoteBlock,
    Previous,
    Sheet,
    Spec,
    TableBlock,
)
from .pattern import PatternUnsupported, pattern_source
from .problems import ProblemList
from .rules import BUILTIN_KINDS, RuleError, RuleKind, custom_kind
from .source import LocatedDict, line_of, load_yaml

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

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

STANDARD_CHOICES: dict[str, tuple[str, ...]] = {
    "target_op": ("≥", "≤", "=", "定性"),
    "level": ("达成", "部分达成", "未达成"),
    "yes_no": YES_NO,
}

_FIELD_KEYS = {
    "id", "key", "label", "type", "unit", "choices", "required", "min", "max", "max_length",
    "pattern", "formula", "rule", "value", "input", "prompt", "lines",
}  # fmt: skip


class _Builder:
    def __init__(self, path: Path, problems: ProblemList) -> None:
        self.path = path
        self.problems = problems
        self.fields: dict[str, Field] = {}
        self.rule_kinds: dict[str, RuleKind] = dict(BUILTIN_KINDS)
        self.choice_lists: dict[str, tuple[str, ...]] = dict(STANDARD_CHOICES)
        self.bands: list[GradeBand] = []
        self.sheet = ""
        self.auto_checks: list[Check] = []  # checks the blocks imply (weights, row checks)
        self.current_row_checks: list[Any] = []
        self.row_members: dict[str, tuple[str, ...]] = {}  # input field -> its row's inputs

    # ---- problems --------------------------------------------------------------------------

    def problem(self, code: str, message: str, where: Any = None, key: Any = None) -> None:
        self.problems.add(code, message, line_of(where, key) if where is not None else 0)

    # ---- fields ----------------------------------------------------------------------------

    def add_field(self, field: Field, where: Any) -> None:
        if not ID_PATTERN.match(field.id):
            self.problem(
                "spec-bad-id",
                f"字段 id “{field.id}” 不合规：只能用小写字母、数字和下划线，并以字母开头",
                where,
            )
        if field.id in self.fields:
            first = self.fields[field.id].line
            self.problem(
                "spec-duplicate-id",
                f"字段 id “{field.id}” 重复（第 {first} 行已定义）：每个字段需要唯一的 id",
                where,
            )
            return
        self.fields[field.id] = field

    def make_field(
        self,
        definition: Mapping[str, Any],
        field_id: str,
        path: tuple[str, ...],
        local_names: Mapping[str, str],
        where: Any,
    ) -> Field:
        """One field from its YAML definition; ``local_names`` maps sibling keys to field ids."""
        unknown = set(definition) - _FIELD_KEYS
        if unknown:
            self.problem(
                "spec-unknown-key",
                f"字段 {field_id} 有未知的设置：{', '.join(sorted(unknown))}"
                + full_width_hint("".join(unknown)),
                where,
            )
        ftype = str(definition.get("type", "text"))
        if ftype not in FIELD_TYPES:
            self.problem(
                "spec-bad-type",
                f"字段 {field_id} 的类型 “{ftype}” 无效，可选：{', '.join(FIELD_TYPES)}",
                where,
                "type",
            )
            ftype = "text"
        field = Field(
            id=field_id,
            label=str(definition.get("label", path[-1] if path else field_id)),
            path=path,
            type=ftype,
            unit=_opt_str(definition.get("unit")),
            required=bool(definition.get("required", False)),
            min=_opt_float(definition.get("min")),
            max=_opt_float(definition.get("max")),
            max_length=_opt_int(definition.get("max_length")),
            pattern=_opt_str(definition.get("pattern")),
            prompt=_opt_str(definition.get("prompt")),
            lines=int(definition.get("lines", 1) or 1),
            sheet=self.sheet,
            line=line_of(where),
        )
        if ftype == "percent" and field.unit is None:
            field.unit = "%"
        self._choices(field, definition, where)
        if "formula" in definition and "rule" in definition:
            self.problem(
                "spec-formula-and-rule", f"字段 {field_id} 不能同时有 formula 和 rule", where
            )
        if "formula" in definition:
            field.formula = self.expression(definition["formula"], local_names, where, "formula")
            field.formula_source = str(definition["formula"])
        elif "rule" in definition:
            field.formula = self.rule(definition["rule"], local_names, where)
            rule = definition["rule"]
            field.formula_source = "rule:" + str(
                rule.get("kind") if isinstance(rule, dict) else rule
            )
        if "value" in definition:
            field.value = definition["value"]
        field.input = bool(
            definition.get("input", field.formula is None and "value" not in definition)
        )
        return field

    def _choices(self, field: Field, definition: Mapping[str, Any], where: Any) -> None:
        choices = definition.get("choices")
        if field.type == "bool":
            field.choices = YES_NO
        if choices is None:
            if field.type == "choice":
                self.problem("spec-missing-choices", f"选择字段 {field.id} 需要 choices", where)
            return
        if isinstance(choices, str):
            if choices not in self.choice_lists:
                self.problem(
                    "spec-unknown-choice-list",
                    f"字段 {field.id} 引用的选项表 “{choices}” 不存在；在 choices: 中定义它",
                    where,
                    "choices",
                )
                return
            field.choice_list = choices
            field.choices = self.choice_lists[choices]
        elif isinstance(choices, list):
            field.choices = tuple(str(c) for c in choices)
        if field.type not in ("choice", "bool"):
            field.type = "choice"

    def expression(
        self, source: Any, local_names: Mapping[str, str], where: Any, key: str
    ) -> Node | None:
        if isinstance(source, bool):
            source = "TRUE" if source else "FALSE"
        try:
            node = parse(str(source))
        except ExpressionError as error:
            self.problems.add(
                "spec-expression-syntax",
                f"表达式语法错误：{error}",
                line_of(where, key),
                error.offset + 1,
            )
            return None
        return self.localize(node, local_names)

    @staticmethod
    def localize(node: Node, local_names: Mapping[str, str]) -> Node:
        return substitute(node, {k: Name(v) for k, v in local_names.items()})

    def rule(self, rule: Any, local_names: Mapping[str, str], where: Any) -> Node | None:
        if isinstance(rule, str):
            rule = {"kind": rule}
        if not isinstance(rule, dict) or "kind" not in rule:
            self.problem("spec-rule-bad-setting", "rule 需要 kind（规则种类）", where, "rule")
            return None
        kind_name = str(rule["kind"])
        kind = self.rule_kinds.get(kind_name)
        rule_where = rule if isinstance(rule, LocatedDict) else where
        if kind is None:
            hint = _did_you_mean(kind_name, self.rule_kinds)
            self.problem(
                "spec-rule-unknown-kind",
                f"未知的规则种类 “{kind_name}”{hint}；可选：{', '.join(sorted(self.rule_kinds))}",
                rule_where,
                "kind",
            )
            return None
        settings = {k: v for k, v in rule.items() if k in kind.extra}
        if kind_name == "grade":
            settings["bands"] = [(b.grade, b.min) for b in self.bands]
        unknown = set(rule) - {"kind"} - set(kind.params) - set(kind.extra)
        for name in sorted(unknown):
            hint = _did_you_mean(name, list(kind.params) + list(kind.extra))
            self.problem(
                "spec-rule-unknown-param",
                f"规则 {kind_name} 没有参数 “{name}”{hint}；它的参数：{', '.join(kind.params)}",
                rule_where,
                name,
            )
        params: dict[str, Node] = {}
        for name, default in kind.params.items():
            source = rule.get(name, default)
            if source is None:
                self.problem(
                    "spec-rule-missing-param", f"规则 {kind_name} 缺少必填参数 “{name}”", rule_where
                )
                return None
            node = self.expression(source, {}, rule_where, name)
            if node is None:
                return None
            params[name] = node
        try:
            expanded = kind.expand(params, settings)
        except RuleError as error:
            self.problem(error.code, f"规则 {kind_name}：{error.message}", rule_where)
            return None
        except ExpressionError as error:
            self.problem(
                "spec-expression-syntax",
                f"规则 {kind_name} 中的表达式语法错误：{error}",
                rule_where,
            )
            return None
        return self.localize(expanded, local_names)

    # ---- blocks ----------------------------------------------------------------------------

    def block(self, raw: Any) -> Block | None:
        if not isinstance(raw, dict):
            self.problem("spec-schema", "每个 block 应是一个映射（含 kind）", raw)
            return None
        kind = raw.get("kind")
        builder = {
            "fields": self.fields_block,
            "table": self.table_block,
            "list": self.list_block,
            "indicators": self.indicator_block,
            "note": self.note_block,
        }.get(str(kind))
        if builder is None:
            self.problem(
                "spec-schema",
                f"未知的 block 种类 “{kind}”；可选：fields、table、list、indicators、note",
                raw,
            )
            return None
        return builder(raw)

    def note_block(self, raw: Mapping[str, Any]) -> Block:
        return NoteBlock(text=str(raw.get("text", "")))

    def fields_block(self, raw: Mapping[str, Any]) -> Block:
        ids: list[str] = []
        for item in raw.get("fields") or []:
            if not isinstance(item, dict) or "id" not in item:
                self.problem("spec-schema", "fields 中的每一项都需要 id", item if item else raw)
                continue
            field_id = str(item["id"])
            label = str(item.get("label", field_id))
            field = self.make_field(item, field_id, (label,), {}, item)
            self.add_field(field, item)
            ids.append(field_id)
        return FieldsBlock(
            fields=ids, columns=int(raw.get("columns", 2)), title=_opt_str(raw.get("title"))
        )

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

    def table_block(self, raw: Mapping[str, Any]) -> Block:
        table_id = str(raw.get("id", ""))
        title = _opt_str(raw.get("title"))
        columns = self._columns(raw.get("columns"), raw)
        rows = [r for r in raw.get("rows") or [] if isinstance(r, dict) and "key" in r]
        col_keys = [str(c["key"]) for c in columns]
        row_keys = [str(r["key"]) for r in rows]
        for clash in sorted(set(col_keys) & set(row_keys)):
            self.problem("spec-duplicate-id", f"表 {table_id} 的行与列都用了 key “{clash}”", raw)
        cells: dict[tuple[str, str], str] = {}
        for row in rows:
            overrides = row.get("cells") or {}
            for column in columns:
                ckey = str(column["key"])
                only = column.get("only")
                override = overrides.get(ckey, {})
                if override is None or (
                    only is not None and str(row["key"]) not in only and not override
                ):
                    continue
                definition = {k: v for k, v in column.items() if k not in ("key", "only")}
                definition.pop("label", None)
                if isinstance(override, dict):
                    definition.update(override)
                else:
                    definition["value"] = override
                field_id = str(definition.pop("id", f"{table_id}_{row['key']}_{ckey}"))
                local_names = {k: f"{table_id}_{row['key']}_{k}" for k in col_keys}
                local_names.update({k: f"{table_id}_{k}_{ckey}" for k in row_keys})
                path = tuple(
                    p
                    for p in (
                        title,
                        str(row.get("label", row["key"])),
                        str(column.get("label", ckey)),
                    )
                    if p
                )
                field = self.make_field(definition, field_id, path, local_names, override or row)
                field.label = f"{row.get('label', row['key'])}·{column.get('label', ckey)}"
                self.add_field(field, override or row)
                cells[(str(row["key"]), ckey)] = field_id
        return TableBlock(
            id=table_id,
            columns=[Column(str(c["key"]), str(c.get("label", c["key"]))) for c in columns],
            rows=[Column(str(r["key"]), str(r.get("label", r["key"]))) for r in rows],
            cells=cells,
            title=title,
            corner=_opt_str(raw.get("corner")),
        )

    def _row_fields(
        self,
        prefix: str,
        columns: list[dict[str, Any]],
        preset: Mapping[str, Any],
        path: tuple[str, ...],
        where: Any,
    ) -> dict[str, str]:
        """The fields of one repeating row; ``preset`` fixes values or overrides column settings.
        A preset row is the spec's (fixed): its required inputs are required outright; the
        others are free rows, required only once used (``row_members``)."""
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
            if isinstance(override, dict):
                definition.update(override)
            elif override is not None:
                definition["value"] = override
            field = self.make_field(
                definition,
                f"{prefix}_{key}",
                (*path, str(column.get("label", key))),
                local_names,
                where,
            )
            self.add_field(field, where)
            row[key] = field.id
        members = tuple(f for f in row.values() if self.fields[f].input)
        if not preset:
            for field_id in members:
                self.row_members[field_id] = members
        return row

    def list_block(self, raw: Mapping[str, Any]) -> Block:
        list_id = str(raw.get("id", ""))
        title = _opt_str(raw.get("title"))
        columns = self._columns(raw.get("columns"), raw)
        presets = raw.get("rows", 5)
        if isinstance(presets, int):
            presets = [{}] * presets
        rows: list[dict[str, str]] = []
        for n, preset in enumerate(presets, start=1):
            path = tuple(p for p in (title, str(n)) if p)
            row = self._row_fields(f"{list_id}_{n}", columns, preset or {}, path, preset or raw)
            self.row_checks(raw.get("row_checks"), row, f"{list_id}_{n}")
            rows.append(row)
        # One range field per column, so a rule can say SUM(detail_amount).
        for column in columns:
            key = str(column["key"])
            members = tuple(r[key] for r in rows)
            self.add_field(
                Field(id=f"{list_id}_{key}", label=str(column.get("label", key)),
                      path=tuple(p for p in (title, str(column.get("label", key))) if p),
                      type=str(column.get("type", "text")), unit=_opt_str(column.get("unit")),
                      input=False, members=members, sheet=self.sheet, line=line_of(column)),
                column,
            )  # fmt: skip
        totals: dict[str, str] = {}
        total_label = str(raw.get("total_label", "合计"))
        for key in raw.get("totals") or []:
            matching = [c for c in columns if str(c["key"]) == str(key)]
            if not matching:
                self.problem(
                    "spec-unknown-reference",
                    f"列表 {list_id} 的 totals 中没有列 “{key}”",
                    raw,
                    "totals",
                )
                continue
            column = matching[0]
            total = Field(
                id=f"{list_id}_total_{key}",
                label=f"{total_label}·{column.get('label', key)}",
                path=tuple(p for p in (title, total_label, str(column.get("label", key))) if p),
                type=str(column.get("type", "number")),
                unit=_opt_str(column.get("unit")),
                formula=parse(f"SUM({list_id}_{key})"),
                formula_source=f"SUM({list_id}_{key})",
                input=False,
                sheet=self.sheet,
                line=line_of(raw, "totals"),
            )
            self.add_field(total, raw)
            totals[str(key)] = total.id
        return ListBlock(
            id=list_id,
            columns=[Column(str(c["key"]), str(c.get("label", c["key"]))) for c in columns],
            rows=rows,
            totals=totals,
            total_label=total_label,
            title=title,
        )

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

    # ---- top level -------------------------------------------------------------------------

    def grade_bands(self, raw: Any) -> None:
        if raw is None:
            return
        bands = raw.get("bands") if isinstance(raw, dict) else raw
        if not isinstance(bands, list) or not bands:
            self.problem(
                "spec-bad-grade-bands", "grades 需要 bands 列表（从高到低，每档 grade 与 min）", raw
            )
            return
        previous: float | None = None
        seen: set[str] = set()
        for index, band in enumerate(bands):
            if not isinstance(band, dict) or "grade" not in band:
                self.problem("spec-bad-grade-bands", "每个等次都需要 grade", bands, index)
                continue
            grade, minimum = str(band["grade"]), _opt_float(band.get("min"))
            if grade in seen:
                self.problem("spec-bad-grade-bands", f"等次 “{grade}” 重复", band)
            seen.add(grade)
            if minimum is None and index != len(bands) - 1:
                self.problem(
                    "spec-bad-grade-bands", f"只有最后一个等次可以不设 min（“{grade}”）", band
                )
            if minimum is not None and previous is not None and minimum >= previous:
                self.problem(
                    "spec-bad-grade-bands",
                    f"等次须从高到低排列，下限严格递减：“{grade}” 的 min {_fmt(minimum)} 不小于上一档的 {_fmt(previous)}",
                    band,
                    "min",
                )
            previous = minimum if minimum is not None else previous
            self.bands.append(GradeBand(grade, minimum))

    def checks(
        self, raw: Any, local_names: Mapping[str, str] | None = None, prefix: str = ""
    ) -> list[Check]:
        """Cross-field checks; for a row check, ``local_names`` binds the row's columns and
        ``prefix`` makes its id unique to the row."""
        local_names = local_names or {}
        checks: list[Check] = []
        for item in raw or []:
            if not isinstance(item, dict) or "assert" not in item or "id" not in item:
                self.problem(
                    "spec-schema", "每条 check 需要 id、assert 和 message", item if item else raw
                )
                continue
            severity = str(item.get("severity", "error"))
            if severity not in SEVERITIES:
                self.problem(
                    "spec-schema", f"severity 只能是 {', '.join(SEVERITIES)}", item, "severity"
                )
                severity = "error"
            node = self.expression(item["assert"], local_names, item, "assert")
            if node is None:
                continue
            cells = tuple(local_names.get(str(c), str(c)) for c in item.get("cells") or ())
            checks.append(
                Check(id=f"{prefix}_{item['id']}" if prefix else str(item["id"]), severity=severity,  # type: ignore[arg-type]
                      message=str(item.get("message", item["id"])), expr=node,
                      source=str(item["assert"]), cells=cells, line=line_of(item),
                      code=f"check-{item['id']}")
            )  # fmt: skip
        return checks

    def field_checks(self) -> list[Check]:
        """Each input's own rules that data validation cannot enforce, as checks, so that the
        template's 自检 panel and the checker say the same: required, pattern, text pasted
        where a number belongs."""
        checks = []
        for field in self.fields.values():
            if not field.input or field.is_range:
                continue
            if field.required:
                checks.extend(self._required(field))
            if field.pattern and field.type == "text":
                checks.extend(self._pattern(field))
            if field.type in NUMERIC_TYPES:
                checks.append(self._text_in_number(field))
        return checks

    def _required(self, field: Field) -> list[Check]:
        """A required input must not be blank. In a free row (one the unit writes, e.g. an
        indicator row of its own) only once another input of that row is filled: counting
        the field itself would make the check unable to fail."""
        source = f"LEN({field.id})>0"
        members = self.row_members.get(field.id)
        if members is not None:
            others = [m for m in members if m != field.id]
            if not others:
                return []  # a one-input free row is optional as a whole
            source = f"OR(COUNTA({', '.join(others)})=0, {source})"
        return [
            Check(id=f"required_{field.id}", severity="error",
                  message=f"“{field.label}” 为必填项，请填写", expr=parse(source), source=source,
                  cells=(field.id,), line=field.line, code="value-required")
        ]  # fmt: skip

    def _pattern(self, field: Field) -> list[Check]:
        assert field.pattern is not None
        try:
            source = pattern_source(field.pattern, field.id)
        except PatternUnsupported as error:
            self.problems.add(
                "spec-pattern-unsupported",
                f"字段 {field.id} 的 pattern 无法写成表格公式：{error}",
                field.line,
            )
            return []
        return [
            Check(id=f"pattern_{field.id}", severity="error",
                  message=f"“{field.label}” 的格式不对（应符合 {field.pattern}）",
                  expr=parse(source), source=source, cells=(field.id,), line=field.line,
                  code="value-bad-pattern")
        ]  # fmt: skip

    def _text_in_number(self, field: Field) -> Check:
        """A pasted '１２４．０１', '96%' or '124.01万' bypasses data validation and lands as text."""
        source = f"NOT(ISTEXT({field.id}))"
        return Check(id=f"number_{field.id}", severity="error",
                     message=f"“{field.label}” 中是文字而不是数值（可能是粘贴进来的全角数字、"
                     "带 % 或 万 的文字），请删除后直接输入数值",
                     expr=parse(source), source=source, cells=(field.id,), line=field.line,
                     code="value-text-in-number-cell")  # fmt: skip

    def row_checks(self, raw: Any, row: Mapping[str, str], prefix: str) -> None:
        """A block's ``row_checks``, written once, checked on every row."""
        if raw:
            self.auto_checks.extend(self.checks(raw, row, prefix))


def build(
    path: Path, problems: ProblemList | None = None, *, schema: bool = True
) -> tuple[Spec | None, ProblemList]:
    """Read a spec file; returns the spec (None when unusable) and every problem found."""
    problems = problems or ProblemList(path)
    try:
        raw = load_yaml(path)
    except OSError as error:
        problems.add("spec-unreadable", f"无法读取规范文件：{error.strerror or error}")
        return None, problems
    except Exception as error:  # yaml.YAMLError and friends: report, never crash
        slip = explain_yaml_error(error, path.read_text(encoding="utf-8", errors="replace"))
        problems.add("spec-yaml-syntax", slip.message, slip.line, slip.column)
        return None, problems
    if not isinstance(raw, dict):
        problems.add("spec-schema", "规范文件的顶层应是一个映射（template、version、sheets …）", 1)
        return None, problems
    return build_from(raw, path, problems, schema=schema), problems


def build_from(
    raw: Mapping[str, Any], path: Path, problems: ProblemList, *, schema: bool = True
) -> Spec | None:
    from .schema import schema_problems  # the structural pass first, lines from the YAML

    for problem in schema_problems(raw) if schema else []:
        problems.items.append(
            problem.__class__(problem.code, problem.message, path, problem.line, 0)
        )
    builder = _Builder(path, problems)
    for name, choices in (raw.get("choices") or {}).items():
        builder.choice_lists[str(name)] = tuple(str(c) for c in choices or ())
    for name, definition in (raw.get("rules") or {}).items():
        try:
            builder.rule_kinds[str(name)] = custom_kind(str(name), definition or {})
        except (RuleError, ExpressionError) as error:
            builder.problem(
                "spec-rule-bad-setting", f"自定义规则 {name}：{error}", raw.get("rules"), str(name)
            )
    builder.grade_bands(raw.get("grades"))
    sheets: list[Sheet] = []
    for sheet_raw in raw.get("sheets") or []:
        if not isinstance(sheet_raw, dict):
            continue
        builder.sheet = str(sheet_raw.get("name", "Sheet1"))
        blocks = [
            b for b in (builder.block(x) for x in sheet_raw.get("blocks") or []) if b is not None
        ]
        sheets.append(
            Sheet(
                builder.sheet,
                _opt_str(sheet_raw.get("title")),
                blocks,
                bool(sheet_raw.get("landscape", False)),
            )
        )
    builder.sheet = ""
    checks = builder.field_checks() + builder.auto_checks + builder.checks(raw.get("checks"))
    if not all(k in raw for k in ("template", "version", "title")):
        return None
    return Spec(
        template=str(raw["template"]),
        version=int(raw["version"]),
        title=str(raw["title"]),
        year=_opt_int(raw.get("year")),
        sheets=sheets,
        fields=builder.fields,
        checks=checks,
        grade_bands=builder.bands,
        choice_lists=builder.choice_lists,
        source=path,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        accepts=tuple(int(v) for v in raw.get("accepts") or ()),
        previous=_previous(raw.get("previous")),
        old_versions=str(raw.get("old_versions") or "accept"),
        obtain=str(raw.get("obtain") or "").strip(),
    )


def _previous(raw: Any) -> Previous | None:
    """The ``previous:`` block (its shape is the schema's to check)."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("version"), int):
        return None
    renamed = raw.get("renamed")
    removed = raw.get("removed")
    renamed = renamed if isinstance(renamed, Mapping) else {}
    removed = removed if isinstance(removed, list) else []
    return Previous(
        int(raw["version"]),
        {str(k): str(v) for k, v in renamed.items()},
        tuple(str(r) for r in removed),
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


def _did_you_mean(name: str, candidates: Any) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"（是否想写 “{close[0]}”？）" if close else ""


def did_you_mean(name: str, candidates: Any) -> str:
    return _did_you_mean(name, candidates)


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


__all__ = ["NUMERIC_TYPES", "build", "build_from", "did_you_mean"]
