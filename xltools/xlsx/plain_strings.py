"""The shared strings of the exact shapes applications write, read by regular expressions.

LibreOffice keeps every label of a saved return in sharedStrings.xml, the title as rich runs
whose ``<rPr>`` has half a dozen children: building that tree (the ElementTree path) is the
largest single cost of reading such a return. This reads the same strings with two C regex
passes: one proves the whole part is of the plain shape below, the other takes the texts.

The shape: an optional UTF-8 declaration, ``<sst>`` in the main (or Strict) namespace with no
prefix, then nothing but ``<si>`` items without whitespace between tags, each of ``<t>`` texts
and ``<r>`` runs (optional ``<rPr>`` of empty, attribute-only elements, then one ``<t>``).
Texts hold no markup, no character that XML forbids and no entity but the five predefined
ones. Anything else — a DOCTYPE, a comment, a reading (``<rPh>``), CDATA, a carriage return,
a numeric character reference, other quoting — returns None, and the part is read the
well-tried ways (ElementTree, then expat). So a part read here reads as expat reads it.
"""

from __future__ import annotations

import re
from typing import Final

from .expat import _MAIN_NS, _unescape

_NS: Final = "|".join(re.escape(ns) for ns in _MAIN_NS)
# attribute names plain ASCII without a prefix: an unbound prefix or a name character
# outside XML's set is an error expat reports, and so is a repeated attribute (see below)
_ATTR: Final = r' [A-Za-z][A-Za-z0-9]*="[^"<&]*"'
_PART: Final = re.compile(
    r'\ufeff?(?:<\?xml version="1\.0"(?: encoding="(?i:utf-?8)")?(?: standalone="(?:yes|no)")?\?>)?'
    rf"[ \n\t]*<sst(?:(?!\sxmlns=){_ATTR})* xmlns=\"(?:{_NS})\"(?:(?!\sxmlns=){_ATTR})*>"
    r"(.*)</sst>[ \n\t]*",
    re.S,
)
# The part's skeleton, each text and each run's properties folded to one empty tag, must be
# items of texts and runs and nothing else: a short fixed alphabet, matched at C speed.
_TEXT: Final = re.compile(r'<t(?: xml:space="preserve")?>[^<]*</t>|<t(?: xml:space="preserve")?/>')
# a run property is an empty element of at most two attributes, not the same one twice
_PROPERTY: Final = (
    r'<[A-Za-z]+(?: (?P<a>[A-Za-z][A-Za-z0-9]*)="[^"<&]*"'
    r'(?: (?!(?P=a)=)[A-Za-z][A-Za-z0-9]*="[^"<&]*")?)?/>'
)
_PROPERTIES: Final = re.compile(rf"<rPr>(?:{_PROPERTY})*</rPr>")
_SKELETON: Final = re.compile(r"(?:<si>(?:<t/>|<r>(?:<rPr/>)?<t/></r>)*</si>|<si/>)*")
# each text, and each item's end: the texts between two ends are one item's
_TOKENS: Final = re.compile(r'<t(?: xml:space="preserve")?>([^<]*)</t>|</si>|<si/>')
# what XML forbids in text or expat would normalise (\r); any entity but the predefined five
# and character references
_FORBIDDEN: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]")
_UNKNOWN_ENTITY: Final = re.compile(r"&(?!(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});)")
_REFERENCE: Final = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]+)|#x([0-9A-Fa-f]+));")
_NAMED: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


class _Refused(Exception):
    pass


def plain_strings(content: bytes) -> list[str] | None:
    """The strings of a shared-strings part of the plain shape; None for any other."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if (
        not text.isprintable()  # most parts: no newline, no tab, nothing odd (fast in C)
        and _FORBIDDEN.search(text)
        or "]]>" in text
        or "&" in text
        and _UNKNOWN_ENTITY.search(text)
    ):
        return None
    whole = _PART.fullmatch(text)
    if whole is None or not _distinct_attributes(text[: whole.start(1)]):
        return None
    body = whole.group(1)
    if _SKELETON.fullmatch(_PROPERTIES.sub("<rPr/>", _TEXT.sub("<t/>", body))) is None:
        return None
    if "&" in body:
        # LibreOffice writes every " and ' of a label as a reference, and newlines as &#10;:
        # none of them can make markup, so they are resolved in one pass over the part (not
        # one substitution per string); &lt; and &amp; wait for their own string.
        body = (
            body.replace("&quot;", '"')
            .replace("&apos;", "'")
            .replace("&gt;", ">")
            .replace("&#10;", "\n")
        )
    strings: list[str] = []
    texts: list[str] = []
    try:
        for match in _TOKENS.finditer(body):
            piece = match.group(1)
            if piece is not None:
                texts.append(piece)
                continue
            value = "".join(texts)
            texts.clear()
            if "&" in value:
                value = _REFERENCE.sub(_resolve, value)
            strings.append(_unescape(value))
    except _Refused:
        return None
    return strings


def _distinct_attributes(head: str) -> bool:
    """The ``<sst>`` start tag names no attribute twice (expat refuses a repeated one)."""
    tag = head[head.rindex("<sst") :]
    names = re.findall(r" ([A-Za-z][A-Za-z0-9]*)=", tag)
    return len(names) == len(set(names))


def _resolve(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    # the characters XML allows; a reference to any other is an error expat reports
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD:
        return chr(code)
    if 0x10000 <= code <= 0x10FFFF:
        return chr(code)
    raise _Refused
