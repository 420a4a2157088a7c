"""Turn a spec's YAML into the model: expand layout blocks into fields, rules into expressions.

Reading never stops at the first problem: each is recorded with its line, and the caller (lint,
or anything that needs a usable spec) decides what to do with them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..expr import ExpressionError, Name, Node, parse, substitute
from ..yaml_errors import explain as explain_yaml_error
from ..yaml_errors import full_width_hint
from .blocks.base import ID_PATTERN, _fmt, _opt_float, _opt_int, _opt_str
from .blocks.fields import FieldsBlocks
from .blocks.indicators import STANDARD_INDICATOR_COLUMNS as STANDARD_INDICATOR_COLUMNS
from .blocks.indicators import STANDARD_ROW_CHECKS as STANDARD_ROW_CHECKS
from .blocks.indicators import IndicatorBlocks
from .blocks.lists import ListBlocks
from .blocks.notes import NoteBlocks
from .blocks.table import TableBlocks
from .limits import PendingLimit, resolve_limits
from .model import (
    FIELD_TYPES,
    NUMERIC_TYPES,
    SEVERITIES,
    YES_NO,
    Block,
    Check,
    Field,
    GradeBand,
    Previous,
    Sheet,
    Spec,
)
from .pattern import PatternUnsupported, pattern_source
from .presets import preset_problems
from .problems import ProblemList
from .ranges import RangeMisuse, expand_ranges
from .rules import BUILTIN_KINDS, RuleError, RuleKind, custom_kind
from .source import LocatedDict, line_of, load_yaml

STANDARD_CHOICES: dict[str, tuple[str, ...]] = {
    "target_op": ("≥", "≤", "=", "定性"),
    "level": ("达成", "部分达成", "未达成"),
    "yes_no": YES_NO,
}

_FIELD_KEYS = {
    "id", "key", "label", "type", "unit", "choices", "required", "min", "max", "max_length",
    "pattern", "formula", "rule", "value", "input", "prompt", "lines",
}  # fmt: skip


class _Builder(FieldsBlocks, TableBlocks, ListBlocks, IndicatorBlocks, NoteBlocks):
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
        self.current_held: dict[str, str] = {}
        self.current_totalled: list[str] = []
        self.current_subtotal_levels: set[int] | None = None
        self.column_ranges: dict[str, tuple[str, ...]] = {}
        self.pending_limits: list[PendingLimit] = []
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
        value_key: str = "value",
    ) -> Field:
        """One field from its YAML definition; ``local_names`` maps sibling keys to field ids;
        ``value_key`` is where in ``where`` a preset value was written (for its line)."""
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
            min=self._limit(definition, "min", field_id, local_names, where),
            max=self._limit(definition, "max", field_id, local_names, where),
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
            for code, message in preset_problems(field, field.value):
                self.problem(code, message, where, value_key)
        field.input = bool(
            definition.get("input", field.formula is None and "value" not in definition)
        )
        return field

    def _limit(
        self,
        definition: Mapping[str, Any],
        side: str,
        field_id: str,
        local_names: Mapping[str, str],
        where: Any,
    ) -> float | None:
        """A number limit as it is; one written as an expression (``max: weight``) is resolved
        once every field exists (xltools/spec/limits.py)."""
        value = definition.get(side)
        if not isinstance(value, str):
            return _opt_float(value)
        node = self.expression(value, local_names, where, side)
        if node is not None:
            self.pending_limits.append(
                PendingLimit(field_id, side, node, value, line_of(where, side))
            )
        return None

    def expand_column_ranges(self, checks: list[Check]) -> None:
        """Column ranges (``ind_all_score``) written out inside every formula and check."""
        if not self.column_ranges:
            return
        for field in self.fields.values():
            if field.formula is not None:
                field.formula = self._expanded(field.formula, field.line)
        for check in checks:
            check.expr = self._expanded(check.expr, check.line)

    def _expanded(self, node: Node, line: int) -> Node:
        try:
            return expand_ranges(node, self.column_ranges)
        except RangeMisuse as error:
            self.problems.add("spec-range-misuse", str(error), line)
            return node

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
    raw: Mapping[str, Any],
    path: Path,
    problems: ProblemList,
    *,
    schema: bool = True,
    sha256: str | None = None,
) -> Spec | None:
    """The spec of ``raw`` (read from ``path``); ``sha256`` stands for the file's when the
    spec was not read from YAML (an authoring workbook: the digest of its YAML text)."""
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
    limit_checks = resolve_limits(builder.pending_limits, builder.fields, problems)
    checks = (
        builder.field_checks()
        + limit_checks
        + builder.auto_checks
        + builder.checks(raw.get("checks"))
    )
    builder.expand_column_ranges(checks)
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
        sha256=sha256 or hashlib.sha256(path.read_bytes()).hexdigest(),
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


def _did_you_mean(name: str, candidates: Any) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"（是否想写 “{close[0]}”？）" if close else ""


def did_you_mean(name: str, candidates: Any) -> str:
    return _did_you_mean(name, candidates)


__all__ = ["NUMERIC_TYPES", "build", "build_from", "did_you_mean"]
