"""The expression tree: what a parsed rule is, independent of Excel or Python."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    """Base of every node; nodes are immutable and compare by value."""


@dataclass(frozen=True)
class Number(Node):
    value: float


@dataclass(frozen=True)
class Percent(Node):
    """``operand%``: kept as its own node so the Excel formula reads like the spec."""

    operand: Node


@dataclass(frozen=True)
class Text(Node):
    value: str


@dataclass(frozen=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True)
class Name(Node):
    """A reference to a field (or, inside a rule kind, to one of its parameters)."""

    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "+"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / ^ & = <> < > <= >=
    left: Node
    right: Node


@dataclass(frozen=True)
class Call(Node):
    function: str  # upper case
    args: tuple[Node, ...]


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    yield node
    if isinstance(node, Percent | Unary):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg)


def names(node: Node) -> list[str]:
    """Field names referred to, in order of first appearance."""
    seen: dict[str, None] = {}
    for sub in walk(node):
        if isinstance(sub, Name):
            seen.setdefault(sub.name, None)
    return list(seen)


def substitute(node: Node, mapping: dict[str, Node]) -> Node:
    """Replace names by trees: how a rule kind's template receives its parameters."""
    if isinstance(node, Name):
        return mapping.get(node.name, node)
    if isinstance(node, Percent):
        return Percent(substitute(node.operand, mapping))
    if isinstance(node, Unary):
        return Unary(node.op, substitute(node.operand, mapping))
    if isinstance(node, Binary):
        return Binary(node.op, substitute(node.left, mapping), substitute(node.right, mapping))
    if isinstance(node, Call):
        return Call(node.function, tuple(substitute(a, mapping) for a in node.args))
    return node
