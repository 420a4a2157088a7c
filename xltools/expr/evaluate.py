"""Evaluate an expression tree in Python with Excel's semantics."""

from __future__ import annotations

import math
from collections.abc import Mapping

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


def evaluate(node: Node, env: Env) -> Value:
    """The value of ``node`` where each field name takes its value from ``env``.

    A name missing from ``env`` evaluates to #NAME?, as an undefined name does in Excel.
    """
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Text):
        return node.value
    if isinstance(node, Boolean):
        return node.value
    if isinstance(node, Name):
        return env.get(node.name, NAME)
    if isinstance(node, Percent):
        number = to_number(_scalar(evaluate(node.operand, env)))
        return number if isinstance(number, ExcelError) else number / 100
    if isinstance(node, Unary):
        value = evaluate(node.operand, env)
        if node.op == "+":
            return value
        number = to_number(_scalar(value))
        return number if isinstance(number, ExcelError) else -number
    if isinstance(node, Binary):
        return _binary(
            node.op, _scalar(evaluate(node.left, env)), _scalar(evaluate(node.right, env))
        )
    if isinstance(node, Call):
        function = FUNCTIONS.get(node.function)
        if function is None:
            return NAME
        args = [_argument(a, env) for a in node.args]
        return function.impl(args)
    raise TypeError(f"unknown node {node!r}")


def _argument(node: Node, env: Env) -> Arg:
    """A function argument, and whether it is a reference (aggregates skip text and booleans
    met through a reference but convert them when given as values)."""
    if isinstance(node, Name):
        return Arg(evaluate(node, env), True)
    branch = _passed_through(node, env)
    if branch is not None:
        return _argument(branch, env)
    return Arg(evaluate(node, env), False)


def _passed_through(node: Node, env: Env) -> Node | None:
    """The argument that IF / IFERROR hand back as is, reference and all.

    IF returns the reference of the branch it picks, not just its value, so in
    SUM(IF(c, A1, B1)) a text "12" in A1 is skipped like in SUM(A1) (Excel documents IF
    returning references; LibreOffice does the same). IFERROR behaves the same way in
    LibreOffice; Excel documents nothing either way, so we follow LibreOffice.
    """
    if not isinstance(node, Call) or node.function not in ("IF", "IFERROR"):
        return None
    function = FUNCTIONS[node.function]
    if len(node.args) < function.min_args or (
        function.max_args is not None and len(node.args) > function.max_args
    ):
        return None
    if node.function == "IFERROR":
        first = _scalar(evaluate(node.args[0], env))
        return node.args[1] if isinstance(first, ExcelError) else node.args[0]
    condition = to_bool(_scalar(evaluate(node.args[0], env)))
    if isinstance(condition, ExcelError):
        return None
    if condition:
        return node.args[1]
    return node.args[2] if len(node.args) > 2 else None


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
