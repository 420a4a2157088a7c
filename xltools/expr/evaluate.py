"""Evaluate an expression tree in Python with Excel's semantics."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from ..identity import IdentityCache
from .ast import Binary, Boolean, Call, Name, Node, Number, Percent, Text, Unary
from .functions import FUNCTIONS, Arg
from .values import (
    DIV0,
    NAME,
    NUM,
    VALUE,
    ExcelError,
    Scalar,
    Value,
    approx_add,
    compare,
    finite,
    to_bool,
    to_number,
    to_text,
)

Env = Mapping[str, Value]
Evaluator = Callable[[Env], Value]
_ArgEvaluator = Callable[[Env], Arg]


def evaluate(node: Node, env: Env) -> Value:
    """The value of ``node`` where each field name takes its value from ``env``.

    A name missing from ``env`` evaluates to #NAME?, as an undefined name does in Excel.
    The tree is compiled once into Python closures (:func:`compile_node`) and reused: a merge
    evaluates the same few hundred rules for every file.
    """
    return _compiled(node)(env)


def compile_node(node: Node) -> Evaluator:
    """A function of the environment that evaluates ``node`` with Excel's semantics."""
    return _Compiler().node(node)


_compiled: IdentityCache[Node, Evaluator] = IdentityCache(compile_node, limit=20_000)


class _Compiler:
    """Compiles one tree, each subtree once: a node is compiled both for its value and, as an
    IF / IFERROR argument, for the branch it passes through, and without remembering them a
    chain of nested IFs (a grade rule) took time exponential in its depth."""

    def __init__(self) -> None:
        # by node identity: the tree being compiled keeps every node alive meanwhile
        self.nodes: dict[int, Evaluator] = {}
        self.arguments: dict[int, _ArgEvaluator] = {}

    def node(self, node: Node) -> Evaluator:
        compiled = self.nodes.get(id(node))
        if compiled is None:
            compiled = self.nodes[id(node)] = self._node(node)
        return compiled

    def _node(self, node: Node) -> Evaluator:
        if isinstance(node, Number | Text | Boolean):
            constant: Value = node.value
            return lambda env: constant
        if isinstance(node, Name):
            name = node.name
            return lambda env: env.get(name, NAME)
        if isinstance(node, Percent):
            return _percent(self.node(node.operand))
        if isinstance(node, Unary):
            operand = self.node(node.operand)
            return operand if node.op == "+" else _negate(operand)
        if isinstance(node, Binary):
            return _compile_binary(node.op, self.node(node.left), self.node(node.right))
        if isinstance(node, Call):
            function = FUNCTIONS.get(node.function)
            if function is None:
                return lambda env: NAME
            impl = function.impl
            arguments = [self.argument(a) for a in node.args]
            return lambda env: impl([argument(env) for argument in arguments])
        raise TypeError(f"unknown node {node!r}")

    def argument(self, node: Node) -> _ArgEvaluator:
        compiled = self.arguments.get(id(node))
        if compiled is None:
            compiled = self.arguments[id(node)] = self._argument(node)
        return compiled

    def _argument(self, node: Node) -> _ArgEvaluator:
        """A function argument, and whether it is a reference (aggregates skip text and
        booleans met through a reference but convert them when given as values)."""
        value = self.node(node)
        if isinstance(node, Name):
            return lambda env: Arg(value(env), True)
        pick = self._passed_through(node)
        if pick is None:
            return lambda env: Arg(value(env), False)

        def evaluate_argument(env: Env) -> Arg:
            branch = pick(env)
            return Arg(value(env), False) if branch is None else branch(env)

        return evaluate_argument

    def _passed_through(self, node: Node) -> Callable[[Env], _ArgEvaluator | None] | None:
        """For IF / IFERROR: the argument they hand back as is, reference and all.

        IF returns the reference of the branch it picks, not just its value, so in
        SUM(IF(c, A1, B1)) a text "12" in A1 is skipped like in SUM(A1) (Excel documents IF
        returning references; LibreOffice does the same). IFERROR behaves the same way in
        LibreOffice; Excel documents nothing either way, so we follow LibreOffice. The picker
        returns None where the call's own value is the argument (a wrong argument count, an
        error condition, a false IF without an else branch).
        """
        if not isinstance(node, Call) or node.function not in ("IF", "IFERROR"):
            return None
        function = FUNCTIONS[node.function]
        if len(node.args) < function.min_args or (
            function.max_args is not None and len(node.args) > function.max_args
        ):
            return None
        first = self.node(node.args[0])
        if node.function == "IFERROR":
            value, fallback = (self.argument(a) for a in node.args)
            return lambda env: fallback if isinstance(_scalar(first(env)), ExcelError) else value
        branches = [self.argument(a) for a in node.args[1:]]

        def pick(env: Env) -> _ArgEvaluator | None:
            condition = to_bool(_scalar(first(env)))
            if isinstance(condition, ExcelError):
                return None
            if condition:
                return branches[0]
            return branches[1] if len(branches) > 1 else None

        return pick


def _percent(operand: Evaluator) -> Evaluator:
    def evaluate_percent(env: Env) -> Value:
        number = to_number(_scalar(operand(env)))
        return number if isinstance(number, ExcelError) else number / 100

    return evaluate_percent


def _negate(operand: Evaluator) -> Evaluator:
    def evaluate_negation(env: Env) -> Value:
        number = to_number(_scalar(operand(env)))
        return number if isinstance(number, ExcelError) else -number

    return evaluate_negation


def _compile_binary(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    if op in _COMPARISONS:
        test = _COMPARISONS[op]

        def evaluate_comparison(env: Env) -> Value:
            order = compare(_scalar(left(env)), _scalar(right(env)))
            return order if isinstance(order, ExcelError) else test(order)

        return evaluate_comparison
    return lambda env: _binary(op, _scalar(left(env)), _scalar(right(env)))


def _scalar(value: Value) -> Scalar:
    # A multi-cell range outside an aggregate: Excel cannot pick one cell from it here.
    return VALUE if isinstance(value, tuple) else value


_COMPARISONS = {
    "=": lambda c: c == 0,
    "<>": lambda c: c != 0,
    "<": lambda c: c < 0,
    ">": lambda c: c > 0,
    "<=": lambda c: c <= 0,
    ">=": lambda c: c >= 0,
}


def _binary(op: str, left: Scalar, right: Scalar) -> Value:
    if op in _COMPARISONS:
        order = compare(left, right)
        return order if isinstance(order, ExcelError) else _COMPARISONS[op](order)
    if op == "&":
        a_text, b_text = to_text(left), to_text(right)
        if isinstance(a_text, ExcelError):
            return a_text
        if isinstance(b_text, ExcelError):
            return b_text
        return a_text + b_text
    a, b = to_number(left), to_number(right)
    if isinstance(a, ExcelError):
        return a
    if isinstance(b, ExcelError):
        return b
    if op == "+":
        return finite(approx_add(a, b))
    if op == "-":
        return finite(approx_add(a, -b))
    if op == "*":
        return finite(a * b)
    if op == "/":
        return DIV0 if b == 0 else finite(a / b)
    if op == "^":
        return _power(a, b)
    raise ValueError(f"unknown operator {op}")


def _power(base: float, exponent: float) -> Value:
    if base == 0 and exponent == 0:
        return NUM
    if base == 0 and exponent < 0:
        return DIV0
    if base < 0 and not float(exponent).is_integer():
        return NUM
    try:
        return finite(math.pow(base, exponent))
    except OverflowError:
        return NUM
