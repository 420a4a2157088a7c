"""Parse the rule language (Excel formula syntax, fields referred to by id) into a tree.

Precedence follows Excel, loosest first: comparisons, ``&``, ``+ -``, ``* /``, ``^``,
unary minus, postfix ``%``. The compiler parenthesises every compound operand, so the formula
means the same in Excel and LibreOffice whatever their own precedence quirks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .ast import Binary, Boolean, Call, Name, Node, Number, Percent, Text, Unary


class ExpressionError(ValueError):
    """A syntax error, with the offset in the source where it was found."""

    def __init__(self, message: str, source: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.offset = offset

    def __str__(self) -> str:
        return f"{self.message}（第 {self.offset + 1} 个字符）：{self.source}"


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, op, lparen, rparen, comma, end
    text: str
    offset: int


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)
  | (?P<string>"([^"]|"")*")
  | (?P<name>[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*)
  | (?P<op><=|>=|<>|[-+*/^&=<>%≥≤≠＜＞＝])
  | (?P<lparen>[(（])
  | (?P<rparen>[)）])
  | (?P<comma>[,，])
  """,
    re.VERBOSE,
)

# Operators as people type them with a Chinese input method, outside string literals.
_FULL_WIDTH_OPS = {"≥": ">=", "≤": "<=", "≠": "<>", "＜": "<", "＞": ">", "＝": "="}


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if not match:
            raise ExpressionError(f"无法识别的字符 “{source[pos]}”", source, pos)
        kind = match.lastgroup or ""
        if kind != "space":
            text = match.group()
            tokens.append(Token(kind, _FULL_WIDTH_OPS.get(text, text), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


_COMPARISON = ("=", "<>", "<", ">", "<=", ">=")


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, message: str, token: Token | None = None) -> ExpressionError:
        token = token or self.current
        return ExpressionError(message, self.source, token.offset)

    def expect(self, kind: str, what: str) -> Token:
        if self.current.kind != kind:
            found = self.current.text or "结尾"
            raise self.error(f"此处应为{what}，却是 “{found}”")
        return self.advance()

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise self.error("表达式为空")
        node = self.comparison()
        if self.current.kind != "end":
            raise self.error(f"多余的内容 “{self.current.text}”")
        return node

    def _binary_level(self, ops: tuple[str, ...], operand: Callable[[], Node]) -> Node:
        node = operand()
        while self.current.kind == "op" and self.current.text in ops:
            op = self.advance().text
            node = Binary(op, node, operand())
        return node

    def comparison(self) -> Node:
        return self._binary_level(_COMPARISON, self.concat)

    def concat(self) -> Node:
        return self._binary_level(("&",), self.additive)

    def additive(self) -> Node:
        return self._binary_level(("+", "-"), self.term)

    def term(self) -> Node:
        return self._binary_level(("*", "/"), self.power)

    def power(self) -> Node:
        return self._binary_level(("^",), self.unary)

    def unary(self) -> Node:
        if self.current.kind == "op" and self.current.text in ("-", "+"):
            op = self.advance().text
            return Unary(op, self.unary())
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while self.current.kind == "op" and self.current.text == "%":
            self.advance()
            node = Percent(node)
        return node

    def primary(self) -> Node:
        token = self.current
        if token.kind == "number":
            self.advance()
            return Number(float(token.text))
        if token.kind == "string":
            self.advance()
            return Text(token.text[1:-1].replace('""', '"'))
        if token.kind == "lparen":
            self.advance()
            node = self.comparison()
            self.expect("rparen", "右括号 “)”")
            return node
        if token.kind == "name":
            self.advance()
            upper = token.text.upper()
            if self.current.kind == "lparen":
                self.advance()
                args: list[Node] = []
                if self.current.kind != "rparen":
                    args.append(self.comparison())
                    while self.current.kind == "comma":
                        self.advance()
                        args.append(self.comparison())
                self.expect("rparen", "右括号 “)” 或逗号")
                return Call(upper, tuple(args))
            if upper in ("TRUE", "FALSE"):
                return Boolean(upper == "TRUE")
            return Name(token.text)
        found = token.text or "结尾"
        raise self.error(f"此处应为数值、文本、字段或函数，却是 “{found}”")


def parse(source: str) -> Node:
    """Parse one expression; raises ExpressionError with the offending offset."""
    text = source.strip()
    if text.startswith("="):
        text = text[1:]
    return _Parser(text).parse()
