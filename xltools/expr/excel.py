"""Compile an expression tree to the text of an Excel formula.

Every compound operand is parenthesised, so the formula cannot be read differently by Excel,
LibreOffice or WPS (they disagree, for instance, on whether ``-2^2`` is 4 or -4).
"""

from __future__ import annotations

from collections.abc import Callable

from .ast import Binary, Boolean, Call, Name, Node, Number, Percent, Text, Unary

Resolver = Callable[[str], str]


def number_literal(value: float) -> str:
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value).upper()


def to_formula(node: Node, resolve: Resolver) -> str:
    """The formula text (without the leading ``=``); ``resolve`` maps a field name to a cell
    reference or a defined name."""

    def operand(sub: Node) -> str:
        text = emit(sub)
        return f"({text})" if isinstance(sub, Binary | Unary) else text

    def emit(sub: Node) -> str:
        if isinstance(sub, Number):
            return number_literal(sub.value)
        if isinstance(sub, Text):
            return '"' + sub.value.replace('"', '""') + '"'
        if isinstance(sub, Boolean):
            return "TRUE" if sub.value else "FALSE"
        if isinstance(sub, Name):
            return resolve(sub.name)
        if isinstance(sub, Percent):
            return operand(sub.operand) + "%"
        if isinstance(sub, Unary):
            return sub.op + operand(sub.operand)
        if isinstance(sub, Binary):
            return operand(sub.left) + sub.op + operand(sub.right)
        if isinstance(sub, Call):
            return sub.function + "(" + ",".join(emit(a) for a in sub.args) + ")"
        raise TypeError(f"unknown node {sub!r}")

    return emit(node)
