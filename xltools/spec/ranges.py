"""Column ranges of an indicator table (``ind_all_score``: every row's 得分): a name that an
aggregate (SUM, COUNT, MAX …) reads as the list of that column's cells.

The rows of an indicator table are not one block of cells (小计 rows stand between the groups),
so the range is not a defined name over a rectangle: the builder writes its cells out, one
argument each, and Excel, LibreOffice and the checker all read the same list.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..expr import Call, Name, Node
from ..expr.ast import Binary, Percent, Unary
from ..expr.functions import FUNCTIONS

# Excel takes at most 255 arguments; longer lists nest, each function the way it still adds up.
MAX_ARGS = 255
_NESTS_AS = {"SUM": "SUM", "MIN": "MIN", "MAX": "MAX", "AND": "AND", "OR": "OR",
             "COUNT": "SUM", "COUNTA": "SUM"}  # fmt: skip


class RangeMisuse(Exception):
    """A column range outside an aggregate, or too long for the function that reads it."""


def expand_ranges(node: Node, ranges: Mapping[str, tuple[str, ...]]) -> Node:
    """``node`` with every column range inside an aggregate written out as its cells."""
    if isinstance(node, Name):
        if node.name in ranges:
            raise RangeMisuse(
                f"指标列区域 {node.name} 只能用在 SUM、COUNT、COUNTA、MAX、MIN、AVERAGE、AND、OR 中"
            )
        return node
    if isinstance(node, Percent):
        return Percent(expand_ranges(node.operand, ranges))
    if isinstance(node, Unary):
        return Unary(node.op, expand_ranges(node.operand, ranges))
    if isinstance(node, Binary):
        return Binary(node.op, expand_ranges(node.left, ranges), expand_ranges(node.right, ranges))
    if isinstance(node, Call):
        function = FUNCTIONS.get(node.function)
        if function is None or not function.aggregate:
            return Call(node.function, tuple(expand_ranges(a, ranges) for a in node.args))
        args: list[Node] = []
        for arg in node.args:
            if isinstance(arg, Name) and arg.name in ranges:
                args.extend(Name(member) for member in ranges[arg.name])
            else:
                args.append(expand_ranges(arg, ranges))
        return _call(node.function, args)
    return node


def _call(function: str, args: list[Node]) -> Call:
    if len(args) <= MAX_ARGS:
        return Call(function, tuple(args))
    outer = _NESTS_AS.get(function)
    if outer is None:
        raise RangeMisuse(f"{function} 最多读 {MAX_ARGS} 个单元格，这一列有 {len(args)} 个")
    parts = [Call(function, tuple(args[i : i + MAX_ARGS])) for i in range(0, len(args), MAX_ARGS)]
    return _call(outer, list(parts))
