"""A return sent back without being filled in: said in one line, never scored.

A blank template scores 0 分 不合格 and lists every required field as missing; taken at face
value it pulls a summary's average down and buries the one thing to tell the unit: 未填写.
A return is blank when nothing but what was pre-filled at distribution holds a value, and
near-blank when none of the inputs its total score reads was filled (a unit name and a phone
number typed, nothing else).
"""

from __future__ import annotations

from ..expr import BLANK, Name
from ..expr.ast import walk
from ..identity import IdentityCache
from ..spec.model import Spec
from .context import CheckContext
from .report import Finding
from .rules import result_fields
from .structure import prefill_values

BLANK_CODE = "return-blank"


def _scored_inputs(spec: Spec) -> frozenset[str]:
    """The inputs the total score reads, directly or not (none for a form without a score)."""
    total_id, _ = result_fields(spec)
    if total_id is None:
        return frozenset()
    seen: set[str] = set()
    todo = [total_id]
    while todo:
        field = spec.fields.get(todo.pop())
        if field is None or field.id in seen:
            continue
        seen.add(field.id)
        if field.formula is not None:
            todo.extend(n.name for n in walk(field.formula) if isinstance(n, Name))
        elif field.members is not None:
            todo.extend(field.members)
    return frozenset(f for f in seen if spec.fields[f].input)


_scored: IdentityCache[Spec, frozenset[str]] = IdentityCache(_scored_inputs, limit=64)


def _filled(value: object) -> bool:
    return value is not BLANK and value is not None and value != ""


def mark_blank(ctx: CheckContext) -> None:
    """After the checks: a blank or near-blank return is marked so (one line in the console, a
    note first in the report) and gets no score. Blank means something required is still missing and the
    unit typed nothing (or, on a scored form, nothing the total reads) beyond what was
    pre-filled at distribution; a copy distributed with every figure pre-filled is complete."""
    findings = ctx.report.findings
    if not any(f.code == "value-required" for f in findings):
        return
    if any(f.code.startswith("tamper-") and f.severity == "error" for f in findings):
        return  # a deleted or altered form is news of its own, never hidden behind 未填写
    prefill = prefill_values(ctx)
    typed = [
        f.id
        for f in ctx.spec.inputs()
        if f.id not in prefill and f.id in ctx.where and _filled(ctx.values.get(f.id))
    ]
    scored = _scored(ctx.spec)
    if any(f in scored for f in typed) if scored else typed:
        return
    report = ctx.report
    what = (
        "除下发时预填的内容外，没有填写任何内容"
        if not typed
        else "填写了个别栏目，但评分所需的内容都没有填写"
    )
    missing = sum(1 for f in report.findings if f.code == "value-required")
    # A note, not one more error: the per-field findings stay (the template's 自检 panel counts
    # them too, and must say what the checker says); the console shows this one line instead.
    report.findings.insert(
        0,
        Finding(
            "info",
            BLANK_CODE,
            f"此表未填写：{what}（可能误交了空白模板），另有 {missing} 个必填项未填。"
            "请填写后重新提交。",
            found=f"已填写 {len(typed)} 项",
        ),
    )
    report.blank = True
    report.total, report.grade = None, ""
