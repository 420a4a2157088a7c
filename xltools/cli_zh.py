"""Click speaking Chinese: its usage lines, help headings and every usage error, whatever LANG says.

Click 8 passes each of its texts through ``gettext`` bound in each of its modules as ``_`` (and
``ngettext``), many of them when a command is declared (``click.Path``'s name, the version
option's help). So this module, imported before any command is declared, rebinds those names in
click's already-loaded modules to a lookup in :data:`CATALOGUE` (click's msgid → Chinese; an
unknown msgid stays as click wrote it). Usage errors get a stable English code in front, as the
other messages of xltools have: ``错误：[usage-file-not-found] …``. Help pages measure and wrap
text in terminal columns (click's ``term_len`` and ``wrap_text`` in ``click.formatting`` are
replaced), so Chinese lines up. The process-wide rebinding touches click only, and only its
texts: xltools is the one click program in its process. Nothing here is heavy: it is imported at
start-up by every command.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

import click
import click.exceptions
import click.formatting
from click._compat import strip_ansi

# click's msgid → Chinese. A leading ``[code] `` is the stable code of that usage error; it is
# moved to the front of the whole message (see _coded). The placeholders are click's, but a
# Chinese text may drop one (``str.format`` ignores unused names) or its ``!r``. Plural texts
# (``ngettext``) fall back to the singular's Chinese: most need no plural of their own.
CATALOGUE: dict[str, str] = {
    # usage line, help page
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "required": "必填",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（动态）",
    "deprecated": "已弃用",
    "Try '{command} {option}' for help.": "运行 “{command} {option}” 查看帮助。",
    "Aborted!": "已中止。",
    # usage errors
    "Error: {message}": "错误：{message}",
    "Invalid value: {message}": "[usage-bad-value] 值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Missing argument": "[usage-missing-argument] 缺少参数",
    "Missing option": "[usage-missing-option] 缺少选项",
    "Missing parameter": "[usage-missing-argument] 缺少参数",
    "Missing {param_type}": "[usage-missing-argument] 缺少{param_type}",
    "Missing parameter: {param_name}": "[usage-missing-argument] 缺少参数：{param_name}",
    "Missing command.": "[usage-missing-command] 缺少命令。",
    "No such option {name!r}.": "[usage-no-such-option] 没有选项 “{name}”。",
    "No such command {name!r}.": "[usage-no-such-command] 没有命令 “{name}”。",
    "Did you mean {possibility}?": "您是否想用 {possibility}？",
    "Got unexpected extra argument ({args})": "[usage-extra-argument] 多余的参数（{args}）",
    "Option {name!r} requires an argument.": "[usage-option-needs-value] 选项 “{name}” 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": (
        "[usage-option-needs-value] 选项 “{name}” 需要 {nargs} 个值。"
    ),
    "Option {name!r} does not take a value.": "[usage-option-takes-no-value] 选项 “{name}” 不接受值。",
    "Argument {name!r} takes {nargs} values.": "[usage-bad-argument] 参数 “{name}” 需要 {nargs} 个值。",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，但给了 {len} 个。",
    "Value must be an iterable.": "值应是一个列表。",
    "{value!r} is not {choice}.": "“{value}” 不是可选值 {choice}。",
    "{value!r} is not one of {choices}.": "“{value}” 不在可选值 {choices} 之中。",
    "Choose from:\n\t{choices}": "可选值：\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "“{value}” 不是有效的数。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 之内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "“{value}” 不是有效的是/否值。可用的值：{states}"
    ),
    "{value!r} is not a valid UUID.": "“{value}” 不是有效的 UUID。",
    "{value!r} does not match the format {format}.": "“{value}” 不符合格式 {formats}。",
    "{len_type} values are required, but {len_value} was given.": (
        "需要 {len_type} 个值，但给了 {len_value} 个。"
    ),
    # click.Path: its name (declared with the command) and what it finds wrong
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "{name} {filename!r} does not exist.": ("[usage-file-not-found] 找不到{name} “{filename}”。"),
    "{name} {filename!r} is a file.": "[usage-path-is-file] “{filename}” 是文件，这里要的是文件夹。",
    "{name} {filename!r} is a directory.": (
        "[usage-path-is-dir] “{filename}” 是文件夹，这里要的是文件。"
    ),
    "{name} {filename!r} is not readable.": "[usage-path-not-readable] {name} “{filename}” 不可读。",
    "{name} {filename!r} is not writable.": "[usage-path-not-writable] {name} “{filename}” 不可写。",
    "{name} {filename!r} is not executable.": (
        "[usage-path-not-executable] {name} “{filename}” 不可执行。"
    ),
    "Could not open file {filename!r}: {message}": "无法打开文件 “{filename}”：{message}",
    "unknown error": "未知错误",
}

# Type names that click upper-cases into option metavars (``--workers INTEGER RANGE``).
_METAVARS = {
    "INTEGER RANGE": "整数",
    "FLOAT RANGE": "数",
    "INTEGER": "整数",
    "FLOAT": "数",
    "BOOLEAN": "是/否",
    "TEXT": "文本",
    "FILENAME": "文件",
}
_METAVAR = re.compile(r"\b(?:" + "|".join(map(re.escape, _METAVARS)) + r")\b")
_CODE = re.compile(r"\[([a-z][a-z-]*)\] ?(.*)", re.S)


def gettext(message: str) -> str:
    return CATALOGUE.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    chosen = singular if n == 1 else plural
    return CATALOGUE.get(chosen) or CATALOGUE.get(singular) or chosen


def display_width(text: str) -> int:
    """Terminal columns: a Chinese character takes two (click counts one, so columns misalign)."""
    plain = strip_ansi(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in plain)


_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
# One Chinese character, a run of spaces or a run of other text; an opening mark stays with
# what follows it (no line ends with "（").
_TOKEN = re.compile(rf"[（《「『【“‘]*(?:[{_CJK}]|[^\s{_CJK}“‘]+)|\s+|.")
_WIDE = re.compile(f"[{_CJK}]")
_NO_LINE_START = frozenset("，。、；：！？）》」』】”’")
_click_wrap_text = click.formatting.wrap_text


def wrap_text(
    text: str,
    width: int = 78,
    initial_indent: str = "",
    subsequent_indent: str = "",
    preserve_paragraphs: bool = False,
) -> str:
    """click's ``wrap_text`` for text with Chinese in it: click joins a paragraph's lines with a
    space (``交叉校验， 并写出``) and wraps by characters, so Chinese lines came out twice as wide
    as the terminal. Here lines join without a space beside Chinese, a line breaks between any
    two Chinese characters (not before a closing mark), and width is in terminal columns."""
    if not _WIDE.search(text):
        return _click_wrap_text(text, width, initial_indent, subsequent_indent, preserve_paragraphs)
    paragraphs = re.split(r"\n[ \t]*\n", text.expandtabs()) if preserve_paragraphs else [text]
    out = []
    for paragraph in paragraphs:
        lines = paragraph.splitlines() or [""]
        extra = " " * (len(lines[0]) - len(lines[0].lstrip()))
        if preserve_paragraphs and lines[0].strip() == "\b":  # click's "keep these lines"
            kept = [
                (initial_indent if n == 0 else subsequent_indent) + extra + line
                for n, line in enumerate(lines[1:])
            ]
            out.append("\n".join(kept))
            continue
        joined = lines[0].strip()
        for line in lines[1:]:
            line = line.strip()
            if joined and line:
                wide = _WIDE.match(joined[-1]) or _WIDE.match(line[0])
                joined += ("" if wide else " ") + line
        out.append(_fill(joined, width, initial_indent + extra, subsequent_indent + extra))
    return "\n\n".join(out)


def _fill(text: str, width: int, first: str, rest: str) -> str:
    lines: list[str] = []
    prefix, line = first, list[str]()  # the tokens of the line being filled
    for token in _TOKEN.findall(text):
        if display_width(prefix + "".join(line) + token) > width and line:
            carried: list[str] = []
            if token in _NO_LINE_START and len(line) > 1:
                carried = [line.pop()]  # a closing mark takes the token before it along
            lines.append((prefix + "".join(line)).rstrip())
            prefix, line = rest, [t for t in carried if not t.isspace()]
        if token.isspace() and not line:
            continue  # no line starts with a space
        line.append(token)
    lines.append((prefix + "".join(line)).rstrip())
    return "\n".join(lines)


def _install() -> None:
    # Only click's modules that are loaded: importing the others (shell completion, the
    # editor) would cost start-up time for texts a person of ours never sees.
    for name, module in list(sys.modules.items()):
        if name == "click" or not name.startswith("click.") or module is None:
            continue
        if getattr(module, "_", None) is not None and callable(module._):
            module._ = gettext  # type: ignore[attr-defined]
        if callable(getattr(module, "ngettext", None)):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    click.formatting.term_len = display_width  # type: ignore[assignment]
    click.formatting.wrap_text = wrap_text


_install()


class _CodedUsageError(click.UsageError):
    """A usage error whose message already starts with its stable code."""


def _coded(error: click.UsageError, ctx: click.Context | None) -> click.UsageError:
    """The same error, its message as ``[code] 中文``: the code a catalogue text carries, else
    one by the kind of error."""
    if isinstance(error, (_CodedUsageError, click.exceptions.NoArgsIsHelpError)):
        return error
    code = "usage-bad-value" if isinstance(error, click.BadParameter) else "usage-error"
    inner = _CODE.match(error.message or "")
    if inner:  # a click.Path or choice text: its own code, the rest stays the message
        code, error.message = inner[1], inner[2]
    text = error.format_message()
    if isinstance(error, click.MissingParameter):  # click ends it with its own full stop
        text = re.sub(r"\.$", "。", text)
    outer = _CODE.match(text)
    if outer:
        code, text = outer[1], outer[2]
    # The parser's own errors carry no context; with ours they show the usage line too.
    coded = _CodedUsageError(f"[{code}] {text}", ctx=error.ctx or ctx)
    coded.exit_code = error.exit_code
    return coded


class ChineseFormatter(click.formatting.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        rows = [(_METAVAR.sub(lambda m: _METAVARS[m[0]], term), text) for term, text in rows]
        super().write_dl(rows, *args, **kwargs)


class ChineseContext(click.Context):
    formatter_class = ChineseFormatter


class _CodedUsageErrors(click.Command):
    """Usage errors from parsing, said in Chinese with their code (commands and groups alike)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise _coded(error, ctx) from None


class ChineseCommand(_CodedUsageErrors):
    """A command whose help and usage errors are in Chinese, each error with its code."""

    context_class = ChineseContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)


class ChineseGroup(_CodedUsageErrors, click.Group):
    """A group as :class:`ChineseCommand`; its subcommands and subgroups are of these classes."""

    context_class = ChineseContext
    command_class = ChineseCommand
    group_class = type

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        # "Missing command" and "No such command" are raised here, not while parsing (with
        # their context); so are a command's own usage errors, which keep theirs (often none).
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise _coded(error, None) from None
