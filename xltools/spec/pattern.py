"""A field's ``pattern:`` as a rule-language expression, so the template's 自检 panel and the
checker test it with the same tree (a regular expression cannot run inside a spreadsheet).

The supported subset is what the forms need (phones, 邮编, 身份证号):

* literal characters (``\\`` escapes a metacharacter: ``\\-``, ``\\.``, ``\\(`` …);
* ``\\d`` (the ASCII digits 0–9, as ``re.ASCII``; a full-width ``１`` is not a digit);
* small character classes ``[0-9Xx]``, ``[ab-]``, with ranges and ``\\d`` inside, no negation;
* groups ``( … )`` (also ``(?: … )``) and alternation ``|``;
* quantifiers ``?``, ``{m}`` and ``{m,n}`` (no ``*``, ``+`` or open ``{m,}``: the language
  must be finite).

The pattern is expanded into every sequence of character sets it can match (at most
:data:`MAX_SEQUENCES`); each becomes ``AND(LEN(x)=n, ISNUMBER(FIND(MID(x,1,1),"set1")+…))``:
a FIND that misses is #VALUE!, so the sum is a number only when every character is in its set.
MID beyond the text is "" but the length is checked first, inside the same AND. A number in the
cell is read as the text it shows, as MID and LEN do in Excel (13812345678 passes the phone
pattern; 731123456 — a 0731 number whose leading zero was eaten — does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..expr import Node, parse

DIGITS: Final = "0123456789"
MAX_SEQUENCES: Final = 64  # expanded alternatives; beyond that the formula would be huge
MAX_CLASS: Final = 64  # characters in one class
MAX_REPEAT: Final = 32
_META: Final = set("()[]{}|?*+.^$\\")


class PatternUnsupported(ValueError):
    """The pattern uses something outside the subset; the message is Chinese, for the spec's
    author."""


@dataclass(frozen=True)
class _Chars:
    chars: str  # the characters allowed at one position, in a stable order


# A parsed pattern: alternatives of sequences of items, each item with its repeat range.
_Item = tuple["_Chars | _Alt", int, int]


@dataclass(frozen=True)
class _Alt:
    options: tuple[tuple[_Item, ...], ...]


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def fail(self, what: str) -> PatternUnsupported:
        return PatternUnsupported(f"格式 “{self.text}” 第 {self.pos + 1} 个字符处{what}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> _Alt:
        alt = self.alternatives()
        if self.pos != len(self.text):
            raise self.fail("有多余的 “)”")
        return alt

    def alternatives(self) -> _Alt:
        options = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            options.append(self.sequence())
        return _Alt(tuple(options))

    def sequence(self) -> tuple[_Item, ...]:
        items: list[_Item] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            low, high = self.quantifier()
            items.append((atom, low, high))
        return tuple(items)

    def atom(self) -> _Chars | _Alt:
        char = self.peek()
        if char == "(":
            self.pos += 1
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self.peek() == "?":
                raise self.fail("不支持 (? 扩展语法")
            inner = self.alternatives()
            if self.peek() != ")":
                raise self.fail("缺少 “)”")
            self.pos += 1
            return inner
        if char == "[":
            return self.char_class()
        if char == "\\":
            return _Chars(self.escape(in_class=False))
        if char in "*+":
            raise self.fail(f"不支持 “{char}”（重复次数须有上限，请写 {{m,n}}）")
        if char in ".^$":
            raise self.fail(
                f"不支持 “{char}”（只支持字面字符、\\d、[…]、(…|…)、?、{{m}}、{{m,n}}）"
            )
        if char in "{}]":
            raise self.fail(f"的 “{char}” 前面缺少要重复的内容或 “[”")
        self.pos += 1
        return _Chars(char)

    def escape(self, in_class: bool) -> str:
        self.pos += 1
        char = self.peek()
        if char == "":
            raise self.fail("以 “\\” 结尾")
        self.pos += 1
        if char == "d":
            return DIGITS
        if char in _META or char in "-/" or (in_class and char == "]"):
            return char
        raise self.fail(f"不支持 “\\{char}”（只支持 \\d 和转义的符号）")

    def char_class(self) -> _Chars:
        self.pos += 1
        if self.peek() == "^":
            raise self.fail("不支持取反的字符类 [^…]")
        chars: list[str] = []
        while True:
            char = self.peek()
            if char == "":
                raise self.fail("缺少 “]”")
            if char == "]" and chars:
                self.pos += 1
                break
            if char == "\\":
                chars.extend(self.escape(in_class=True))
                continue
            if char == "[":
                raise self.fail("字符类中不能再有 “[”")
            self.pos += 1
            end = self.text[self.pos + 1] if self.pos + 1 < len(self.text) else ""
            if self.peek() == "-" and end not in ("", "]"):
                self.pos += 2
                if ord(end) < ord(char):
                    raise self.fail(f"的范围 {char}-{end} 倒序")
                if ord(end) - ord(char) >= MAX_CLASS:
                    raise self.fail(f"的范围 {char}-{end} 太大（最多 {MAX_CLASS} 个字符）")
                chars.extend(chr(c) for c in range(ord(char), ord(end) + 1))
            else:
                chars.append(char)
        unique = "".join(dict.fromkeys(chars))
        if len(unique) > MAX_CLASS:
            raise self.fail(f"的字符类太大（最多 {MAX_CLASS} 个字符）")
        return _Chars(unique)

    def quantifier(self) -> tuple[int, int]:
        char = self.peek()
        if char == "?":
            self.pos += 1
            low, high = 0, 1
        elif char == "{":
            end = self.text.find("}", self.pos)
            body = self.text[self.pos + 1 : end] if end > 0 else ""
            parts = body.split(",")
            if end < 0 or len(parts) > 2 or not all(p.strip().isdigit() for p in parts):
                raise self.fail("的 {…} 应写成 {m} 或 {m,n}")
            self.pos = end + 1
            low, high = int(parts[0]), int(parts[-1])
            if high < low:
                raise self.fail(f"的 {{{body}}} 上限小于下限")
            if high > MAX_REPEAT:
                raise self.fail(f"的重复次数 {high} 太大（最多 {MAX_REPEAT}）")
        else:
            return 1, 1
        if self.peek() in ("?", "+", "*", "{"):
            raise self.fail("有连续的重复符号（不支持非贪婪或嵌套重复）")
        return low, high


def _expand(alt: _Alt) -> set[tuple[str, ...]]:
    """Every sequence of character sets the pattern matches, each set as a string."""
    out: set[tuple[str, ...]] = set()
    for option in alt.options:
        partial: set[tuple[str, ...]] = {()}
        for atom, low, high in option:
            pieces = {(atom.chars,)} if isinstance(atom, _Chars) else _expand(atom)
            repeated: set[tuple[str, ...]] = set()
            for count in range(low, high + 1):
                runs: set[tuple[str, ...]] = {()}
                for _ in range(count):
                    runs = {r + p for r in runs for p in pieces}
                    _limit(runs)
                repeated |= runs
            partial = {a + b for a in partial for b in repeated}
            _limit(partial)
        out |= partial
        _limit(out)
    return out


def _limit(sequences: set[tuple[str, ...]]) -> None:
    if len(sequences) > MAX_SEQUENCES:
        raise PatternUnsupported(
            f"格式可能的写法超过 {MAX_SEQUENCES} 种（? 与 {{m,n}} 太多），无法写成表格公式；请简化"
        )


def sequences(pattern: str) -> list[tuple[str, ...]]:
    """The pattern's character-set sequences, shortest first (PatternUnsupported if outside
    the subset)."""
    return sorted(_expand(_Parser(pattern).parse()), key=lambda s: (len(s), s))


def _text(chars: str) -> str:
    return '"' + chars.replace('"', '""') + '"'


def pattern_source(pattern: str, name: str) -> str:
    """The expression text: TRUE when ``name`` is blank or its whole text matches."""
    options = []
    for seq in sequences(pattern):
        if not seq:
            continue  # the empty match is the blank case below
        finds = "+".join(
            f"FIND(MID({name},{i},1),{_text(chars)})" for i, chars in enumerate(seq, 1)
        )
        options.append(f"AND(LEN({name})={len(seq)},ISNUMBER({finds}))")
    return f"OR(LEN({name})=0,{','.join(options)})" if options else f"LEN({name})=0"


def pattern_node(pattern: str, name: str) -> Node:
    return parse(pattern_source(pattern, name))
