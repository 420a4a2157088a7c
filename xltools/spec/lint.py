"""Semantic checks of a built spec: references, functions, cycles, Excel's limits.

Structural problems (schema, duplicate ids, rule parameters, weights, grade bands) are found
while building; this pass looks at the expressions once every field is known.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..expr import FUNCTIONS, Call, Name, Node, Text
from ..expr.ast import walk
from ..expr.excel import to_formula
from .build import build, did_you_mean
from .can_fail import checks_that_cannot_fail
from .model import Spec
from .problems import Problem, ProblemList

INLINE_LIST_LIMIT = 255  # Excel's limit for a comma-separated dropdown list in a validation
TEXT_LITERAL_LIMIT = 255  # Excel's limit for a string constant inside a formula
FORMULA_LIMIT = 8192  # Excel's limit for a formula's text


def lint_file(path: Path) -> tuple[Spec | None, list[Problem]]:
    """The spec (None when it could not be built) and every problem, in file order."""
    spec, problems = build(path)
    if spec is not None:
        lint_spec(spec, problems)
    return spec, sorted(problems.items, key=lambda p: (p.line, p.column, p.code))


def lint_spec(spec: Spec, problems: ProblemList) -> None:
    for owner, line, node, scope in _expressions(spec):
        _references(spec, owner, line, node, problems, scope)
        _functions(spec, owner, line, node, problems)
        formula = to_formula(node, lambda name: "xt_" + name)
        if len(formula) > FORMULA_LIMIT:
            problems.add(
                "spec-formula-too-long",
                f"{owner} 的公式有 {len(formula)} 个字符，超过 Excel 上限 {FORMULA_LIMIT}",
                line,
            )
    for check in spec.checks:
        for cell in check.cells:
            if cell not in spec.fields:
                problems.add(
                    "spec-unknown-reference",
                    f"校验 {check.id} 的 cells 中引用了不存在的字段 “{cell}”{did_you_mean(cell, spec.fields)}",
                    check.line,
                )
    for field in spec.fields.values():
        if field.choices and field.choice_list is None:
            inline = ",".join(field.choices)
            if len(inline) > INLINE_LIST_LIMIT:
                problems.add(
                    "spec-choice-list-too-long",
                    f"字段 {field.id} 的下拉选项共 {len(inline)} 个字符，超过 Excel 内联列表上限 {INLINE_LIST_LIMIT}；"
                    "请把它移到顶层 choices: 中命名，再用 choices: 名称 引用（生成时放入隐藏的列表工作表）",
                    field.line,
                )
    _previous(spec, problems)
    _cycles(spec, problems)
    if not any(p.code == "spec-cycle" for p in problems.items):
        for check in checks_that_cannot_fail(spec):
            problems.add(
                "spec-check-cannot-fail",
                f"校验 {check.id}（{check.message}）无论怎样填写都成立，起不到检查作用；"
                f"请检查其表达式：{check.source}",
                check.line,
            )


def _previous(spec: Spec, problems: ProblemList) -> None:
    """``previous:`` names the fields of this version a rename leads to, and none it removed."""
    previous = spec.previous
    if previous is None:
        return
    if previous.version >= spec.version:
        problems.add(
            "spec-previous-version",
            f"previous 的版本 {previous.version} 应小于本版 {spec.version}",
        )
    for old, new in previous.renamed.items():
        if new not in spec.fields:
            problems.add(
                "spec-previous-unknown-field",
                f"previous.renamed 把 “{old}” 改名为 “{new}”，但本版没有字段 “{new}”"
                f"{did_you_mean(new, spec.fields)}",
            )
    for old in previous.removed:
        if old in spec.fields:
            problems.add(
                "spec-previous-removed-present",
                f"previous.removed 说 “{old}” 已删去，但本版仍有这个字段；"
                "若只是改了内容，请从 removed 中去掉它",
            )


def _expressions(spec: Spec) -> Iterator[tuple[str, int, Node, str]]:
    """Each expression with its owner's name, line, and the field whose row it is written in
    (the field itself, or a check's first cell)."""
    for field in spec.fields.values():
        if field.formula is not None:
            yield f"字段 {field.id}", field.line, field.formula, field.id
    for check in spec.checks:
        yield f"校验 {check.id}", check.line, check.expr, check.cells[0] if check.cells else ""


_ROW_PREFIX = re.compile(r"^(.*_\d+_)[a-z][a-z0-9_]*$")


def _row_names(spec: Spec, field_id: str) -> dict[str, str]:
    """The names an expression written on a repeating row may use for that row's own cells
    (column key -> field id): a row's fields are ``<prefix>_<n>_<key>``."""
    match = _ROW_PREFIX.match(field_id)
    owner = spec.fields.get(field_id)
    if match is None or owner is None:
        return {}
    prefix = match.group(1)
    return {
        f.id[len(prefix) :]: f.id
        for f in spec.fields.values()
        if f.id.startswith(prefix) and f.path[:-1] == owner.path[:-1]
    }


def _suggest(spec: Spec, name: str, scope: str) -> str:
    """A did-you-mean that prefers the row's own cells over fields elsewhere in the spec."""
    local = _row_names(spec, scope)
    if local:
        hint = did_you_mean(name, local)
        if hint:
            return hint.replace("是否想写", "是否想写本行的")
    return did_you_mean(name, spec.fields)


def _references(
    spec: Spec, owner: str, line: int, node: Node, problems: ProblemList, scope: str = ""
) -> None:
    for sub in walk(node):
        if isinstance(sub, Name) and sub.name not in spec.fields:
            problems.add(
                "spec-unknown-reference",
                f"{owner} 引用了不存在的字段 “{sub.name}”{_suggest(spec, sub.name, scope)}",
                line,
            )
        if isinstance(sub, Text) and len(sub.value) > TEXT_LITERAL_LIMIT:
            problems.add(
                "spec-text-too-long",
                f"{owner} 中的文本常量超过 {TEXT_LITERAL_LIMIT} 个字符（Excel 上限）",
                line,
            )


def _functions(spec: Spec, owner: str, line: int, node: Node, problems: ProblemList) -> None:
    aggregate_args: set[int] = set()
    for sub in walk(node):
        if not isinstance(sub, Call):
            continue
        function = FUNCTIONS.get(sub.function)
        if function is None:
            hint = did_you_mean(sub.function, FUNCTIONS)
            problems.add(
                "spec-unknown-function",
                f"{owner} 使用了不支持的函数 {sub.function}{hint}；支持：{', '.join(FUNCTIONS)}",
                line,
            )
            continue
        count = len(sub.args)
        if count < function.min_args or (
            function.max_args is not None and count > function.max_args
        ):
            most = "任意多" if function.max_args is None else str(function.max_args)
            problems.add(
                "spec-bad-arity",
                f"{owner} 中 {sub.function} 需要 {function.min_args}–{most} 个参数，却给了 {count} 个",
                line,
            )
        if function.aggregate:
            aggregate_args.update(id(a) for a in sub.args)
    for sub in walk(node):
        if isinstance(sub, Name) and id(sub) not in aggregate_args:
            field = spec.fields.get(sub.name)
            if field is not None and field.is_range:
                problems.add(
                    "spec-range-outside-aggregate",
                    f"{owner} 直接引用了整列 “{sub.name}”；整列只能作为 SUM、MIN、MAX、AVERAGE、COUNT、COUNTA、AND、OR 的参数",
                    line,
                )


def _cycles(spec: Spec, problems: ProblemList) -> None:
    """Computed fields that depend on themselves, through formulas or range members."""
    graph: dict[str, list[str]] = {}
    for field in spec.fields.values():
        deps: list[str] = []
        if field.formula is not None:
            deps.extend(s.name for s in walk(field.formula) if isinstance(s, Name))
        if field.members is not None:
            deps.extend(field.members)
        graph[field.id] = [d for d in deps if d in spec.fields]
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    reported: set[frozenset[str]] = set()

    def visit(start: str) -> None:
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(graph[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(child) == 1:
                cycle = path[path.index(child) :] + [child]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    problems.add(
                        "spec-cycle",
                        f"循环引用：{' → '.join(cycle)}；计算字段不能直接或间接引用自己",
                        spec.fields[child].line,
                    )
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(graph[child])))

    for field_id in graph:
        if field_id not in state:
            visit(field_id)
