"""Which part of a spec goes into which section of a 自评报告.

The six bundled forms differ (a project form, a department form, a data sheet, a scoring
sheet, a Hunan transfer-fund form), so the report reads the spec's blocks by what they hold,
not by form: header fields become 项目概况, fund tables and money lists 资金, goal texts 绩效目标,
indicator tables and indicator lists the indicator table, the total and grade the scores, and
what is left (who filled it, opinions, signatures) an appendix."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..check.rules import result_fields
from ..spec.model import (
    NUMERIC_TYPES,
    Field,
    FieldsBlock,
    IndicatorBlock,
    ListBlock,
    Spec,
    TableBlock,
)

#: Indicator columns that feed the score rather than show a result: not in the report's table.
HIDDEN_COLUMNS = frozenset({"reason", "level", "self_score"})


@dataclass
class FieldGroup:
    title: str
    fields: list[Field]


@dataclass
class ReportLayout:
    header: list[Field] = field(default_factory=list)
    #: fund tables, money lists and numeric field groups, in the spec's order
    funds: list[TableBlock | ListBlock | FieldGroup] = field(default_factory=list)
    goal_expected: list[Field] = field(default_factory=list)
    goal_actual: list[Field] = field(default_factory=list)
    indicators: list[IndicatorBlock | ListBlock] = field(default_factory=list)
    results: list[Field] = field(default_factory=list)  # total weight, total score, grade …
    total_id: str | None = None
    grade_id: str | None = None
    long_texts: list[Field] = field(default_factory=list)  # opinions, measures …
    signoff: list[Field] = field(default_factory=list)  # filler, date, phone, signatures
    people: list[ListBlock] = field(default_factory=list)  # 评价人员 and other free lists

    @property
    def scored(self) -> bool:
        return self.total_id is not None


def _is_long(spec_field: Field) -> bool:
    return spec_field.type == "text" and (
        spec_field.lines > 1 or (spec_field.max_length or 0) > 200
    )


def _is_indicator_list(block: ListBlock) -> bool:
    return any("指标" in column.label for column in block.columns)


def _is_money_list(spec: Spec, block: ListBlock) -> bool:
    if block.totals:
        return True
    return any(spec.fields[fid].type == "money" for row in block.rows[:1] for fid in row.values())


def layout_report(spec: Spec) -> ReportLayout:
    result = ReportLayout()
    result.total_id, result.grade_id = result_fields(spec)
    seen_content = False  # a table, list or indicator block came before
    for sheet in spec.sheets:
        for block in sheet.blocks:
            if isinstance(block, TableBlock):
                result.funds.append(block)
                seen_content = True
            elif isinstance(block, IndicatorBlock):
                result.indicators.append(block)
                seen_content = True
            elif isinstance(block, ListBlock):
                if _is_indicator_list(block):
                    result.indicators.append(block)
                elif _is_money_list(spec, block):
                    result.funds.append(block)
                else:
                    result.people.append(block)
                seen_content = True
            elif isinstance(block, FieldsBlock):
                _fields_block(spec, block, result, header=not seen_content)
    return result


def _fields_block(spec: Spec, block: FieldsBlock, result: ReportLayout, *, header: bool) -> None:
    fields = [spec.fields[fid] for fid in block.fields if fid in spec.fields]
    ids = {f.id for f in fields}
    if result.total_id in ids or result.grade_id in ids:
        result.results.extend(fields)
        return
    goals = [f for f in fields if f.id.startswith("goal_")]
    if goals:
        for goal in goals:
            (result.goal_actual if "actual" in goal.id else result.goal_expected).append(goal)
        return
    if fields and all(f.type in NUMERIC_TYPES for f in fields):
        result.funds.append(FieldGroup(block.title or "", fields))
        return
    for spec_field in fields:
        if _is_long(spec_field):
            result.long_texts.append(spec_field)
        elif header:
            result.header.append(spec_field)
        else:
            result.signoff.append(spec_field)
