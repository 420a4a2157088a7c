"""The rule language: one expression, parsed once, compiled to Excel and evaluated in Python."""

from .ast import Binary, Boolean, Call, Name, Node, Number, Percent, Text, Unary, names, substitute
from .evaluate import Env, evaluate
from .excel import Resolver, number_literal, to_formula
from .functions import FUNCTIONS
from .parser import ExpressionError, parse
from .values import BLANK, ERROR_CODES, ExcelError, Scalar, Value, top_level

__all__ = [
    "BLANK",
    "ERROR_CODES",
    "FUNCTIONS",
    "Binary",
    "Boolean",
    "Call",
    "Env",
    "ExcelError",
    "ExpressionError",
    "Name",
    "Node",
    "Number",
    "Percent",
    "Resolver",
    "Scalar",
    "Text",
    "Unary",
    "Value",
    "evaluate",
    "names",
    "number_literal",
    "parse",
    "substitute",
    "to_formula",
    "top_level",
]
