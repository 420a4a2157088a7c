"""A YAML syntax error as a person typing Chinese needs it: in Chinese, at the line of the slip.

The YAML library reports where it gave up, often a line after the slip: a full-width colon
"：" makes ``title： 项目`` a plain text, and the parser only stops at the next line. So the
lines between where the library started the construct it could not finish (its context mark)
and where it gave up are searched for the usual slips — a tab, a full-width colon in a key, a
full-width comma or bracket in a ``[…]``/``{…}``, a curly quote closing a quoted text — and the
slip's own line and column are reported, with a hint. Otherwise the library's place is kept and
its words are said in Chinese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# How far back to look when the library gives no context mark: a plain text swallows the
# following more-indented lines, so a slip can stand a few lines above the reported one.
_LOOKBACK = 3

# The library's problem texts (libyaml's and the pure-Python parser's words) → Chinese.
_PROBLEMS: tuple[tuple[str, str], ...] = (
    (r"could not find expected ':'", "找不到应有的冒号“:”"),
    (r"mapping values are not allowed", "这里不能出现“键: 值”（冒号加空格）"),
    (r"(did not find )?expected ',' or '\}'", "花括号 {…} 里缺少半角逗号“,”或右花括号“}”"),
    (r"(did not find )?expected ',' or '\]'", "方括号 […] 里缺少半角逗号“,”或右方括号“]”"),
    (r"found a tab character", "这里有制表符（Tab）"),
    (r"found character '\\t'", "这里有制表符（Tab）"),
    (r"found character .*cannot start any token", "这个字符不能出现在这里（如 @ ` %）"),
    (r"found unexpected end of stream", "文件意外结束：引号或括号没有闭合"),
    (r"found unknown escape character", "双引号里有无法识别的反斜杠转义；含 \\ 的文字请用单引号"),
    (r"(did not find )?expected <block end>", "缩进不一致：同一层的各行应对齐"),
    (r"(did not find )?expected key", "缩进不一致：找不到应有的键"),
    (r"block sequence entries are not allowed", "这里不能出现列表项“- ”：缩进不对？"),
    (r"(did not find )?expected node content", "缺少内容"),
    (r"found undefined alias", "引用了未定义的锚点（*名称 之前应有 &名称）"),
    (r"found unexpected ':'", "这里不能出现冒号“:”：含冒号的文字请加引号"),
    (r"found duplicate anchor", "锚点（&名称）重复"),
    (r"(did not find )?expected <document start>", "这一行不属于任何键：缩进或冒号有误？"),
)

_FULL_WIDTH_COLON = "："
_FLOW_SLIPS = "，（）［］｛｝"
_CURLY_QUOTES = "“”‘’"
_NAMES = {
    "，": "全角逗号“，”（应为半角“,”）",
    "（": "全角括号“（”（应为半角“(”）",
    "）": "全角括号“）”（应为半角“)”）",
    "［": "全角方括号“［”（应为半角“[”）",
    "］": "全角方括号“］”（应为半角“]”）",
    "｛": "全角花括号“｛”（应为半角“{”）",
    "｝": "全角花括号“｝”（应为半角“}”）",
    "“": '中文引号“（应为半角 "）',
    "”": '中文引号”（应为半角 "）',
    "‘": "中文引号‘（应为半角 '）",
    "’": "中文引号’（应为半角 '）",
}


@dataclass(frozen=True)
class YamlSlip:
    line: int  # 1-based; 0 when unknown
    column: int  # 1-based; 0 when unknown
    message: str  # Chinese: what is wrong and what to type instead

    def where(self) -> str:
        """``:line:column`` to follow a file name ('' when the place is unknown)."""
        if not self.line:
            return ""
        return f":{self.line}:{self.column}" if self.column else f":{self.line}"


def explain(error: Exception, text: str) -> YamlSlip:
    """The slip behind ``error`` (raised by ``yaml.load`` on ``text``)."""
    if isinstance(error, UnicodeDecodeError):
        return YamlSlip(0, 0, "文件不是 UTF-8 编码：请在编辑器中另存为 UTF-8")
    problem_mark = getattr(error, "problem_mark", None)
    if problem_mark is None:  # a reader error: a character YAML does not allow at all
        position = getattr(error, "position", None)
        if position is None:
            return YamlSlip(0, 0, f"YAML 语法错误：{error}")
        line, column = _line_column(text, position)
        return YamlSlip(line, column, "YAML 语法错误：文件中有不允许的控制字符，请删除")
    lines = text.removeprefix("\ufeff").splitlines()  # columns as the editor shows them
    end = problem_mark.line  # 0-based
    context_mark = getattr(error, "context_mark", None)
    context = str(getattr(error, "context", "") or "")
    start = context_mark.line if context_mark is not None else max(0, end - _LOOKBACK)
    found = _slip(lines, min(start, end), end, context, problem_mark)
    said = _say(str(getattr(error, "problem", "") or error))
    if found is not None:
        line, column, hint = found
        where_said = "" if line == end + 1 else f"（解析器在第 {end + 1} 行报告：{said}）"
        return YamlSlip(line, column, f"YAML 语法错误：{hint}{where_said}")
    if context_mark is not None and context_mark.line < end:
        said += f"（问题从第 {context_mark.line + 1} 行开始）"
    return YamlSlip(end + 1, problem_mark.column + 1, f"YAML 语法错误：{said}")


def full_width_hint(text: str) -> str:
    """A hint when ``text`` (a key YAML read without complaint) holds a full-width colon: in
    ``{type： text}`` the colon was meant, and the key became ``type： text``."""
    if _FULL_WIDTH_COLON in text:
        return "（其中“：”是全角冒号：键和值之间应是半角冒号加空格“: ”）"
    return ""


def _slip(
    lines: list[str], start: int, end: int, context: str, mark: Any
) -> tuple[int, int, str] | None:
    """(line, column, hint) of the first slip in lines ``start..end`` (0-based, inclusive)."""
    window = [(n, lines[n]) for n in range(start, min(end, len(lines) - 1) + 1)]
    at_mark = lines[end][mark.column : mark.column + 1] if end < len(lines) else ""
    for n, line in [(end, lines[end])] if at_mark == "\t" else window:
        tab = line.find("\t")
        if tab >= 0 and (at_mark == "\t" or not line[:tab].strip()):
            return n + 1, tab + 1, "这里有制表符（Tab）：YAML 的缩进只能用空格，请把 Tab 换成空格"
    for n, line in window:
        column = _key_colon(line)
        if column is not None:
            return (
                n + 1,
                column + 1,
                "这一行用了全角冒号“：”：键和值之间应是半角冒号加空格“: ”（切换到英文输入法）",
            )
    if "flow" in context or "quoted" in context:
        wanted = _FLOW_SLIPS if "flow" in context else _CURLY_QUOTES
        for n, line in window:
            for column, char in enumerate(line):
                if char in wanted and not _in_comment(line, column):
                    hint = f"这里用了{_NAMES[char]}，YAML 的标点应是半角（切换到英文输入法）"
                    return n + 1, column + 1, hint
    return None


_KEY = re.compile(r"^\s*(?:-\s+)*([^\s#\"'\[\]{}:,-][^:#]*?)：")


def _key_colon(line: str) -> int | None:
    """Column of a full-width colon where a key's colon belongs: before any half-width one."""
    match = _KEY.match(line)
    if match is None or ": " in line[: match.end()] or line[: match.end()].endswith(":"):
        return None
    return match.end() - 1


def _in_comment(line: str, column: int) -> bool:
    hash_at = line.find(" #")
    return (hash_at >= 0 and hash_at < column) or line.lstrip().startswith("#")


def _say(problem: str) -> str:
    for pattern, chinese in _PROBLEMS:
        if re.search(pattern, problem):
            return chinese
    return f"无法解析（{problem}）"


def _line_column(text: str, position: int) -> tuple[int, int]:
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1
