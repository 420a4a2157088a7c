"""XML plumbing every part parser shares: the guarded expat parser, the spreadsheetml
namespaces, Excel's ``_xHHHH_`` escapes, ISO 8601 dates, flags.

Safety
------
* **XML.** Every part is parsed by the expat parser of a ``defusedxml``
  :class:`~defusedxml.ElementTree.DefusedXMLParser` created with ``forbid_dtd=True``: defusedxml
  itself installs the handlers that refuse a DOCTYPE, entity declarations and external
  references, so billion-laughs and XXE payloads end in ``read-xml-unsafe``. (Open Packaging
  Conventions forbid DTDs in a package, so no honest writer produces one.) Only the element,
  end and character handlers are replaced by this module's streaming handlers, which keep
  flat state: memory stays proportional to the results, not to the XML, and no element tree
  is ever built.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Final

from defusedxml.ElementTree import DefusedXMLParser

_MAIN_NS: Final = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # "Strict Open XML" as Excel can save
)
_REL_NS: Final = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_PKG_REL_NS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_X14_NS: Final = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
_XM_NS: Final = "http://schemas.microsoft.com/office/excel/2006/main"

_TRUE: Final = frozenset({"1", "true"})
_FALSE: Final = frozenset({"0", "false"})
_XML_ESCAPE: Final = re.compile(r"_x([0-9A-Fa-f]{4})_")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _names(*local: str) -> dict[str, str]:
    """Expanded names ("uri}local", as expat reports them) in both spreadsheetml namespaces."""
    return {f"{ns}}}{name}": name for ns in _MAIN_NS for name in local}


# --------------------------------------------------------------------------------------------
# XML plumbing
# --------------------------------------------------------------------------------------------


def _expat(
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None],
    data: Callable[[str], None] | None,
) -> Any:
    """The expat parser of a defusedxml DefusedXMLParser (DTDs, entity declarations and
    external references refused by defusedxml's own handlers), streaming into our handlers."""
    guard = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser = guard.parser  # the handlers hold ``guard`` alive
    parser.ordered_attributes = False
    parser.buffer_text = True
    parser.buffer_size = 65536
    parser.DefaultHandlerExpand = None
    parser.CommentHandler = None
    parser.ProcessingInstructionHandler = None
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    return parser


def _unescape(text: str) -> str:
    """Decode Excel's ``_xHHHH_`` escapes (``_x000D_`` is a carriage return)."""
    if "_x" not in text:
        return text
    decoded = _XML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if _SURROGATE.search(decoded):
        # ``_xD83D__xDE00_`` is an emoji written as UTF-16 halves: join the pair. A lone half
        # (``_xD800_``) is no character at all: it became U+FFFD, because a str holding it
        # cannot be printed or written as UTF-8 (the check ended in an internal error).
        decoded = decoded.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return decoded


_EPOCH: Final = dt.datetime(1899, 12, 30)
_LEAP_BUG: Final = dt.datetime(1900, 3, 1)  # before it, Excel counts a 29 February 1900


@lru_cache(maxsize=1024)
def _iso_serial(text: str) -> float | None:
    """The serial number of a ``t="d"`` cell's ISO 8601 text, as a date typed into the cell
    would hold it; None when it is no date Excel can show (before 1900, or not ISO 8601).
    Excel writes every date so in a Strict Open XML file, openpyxl with ``iso_dates``: read as
    text they looked typed as text, and a pre-filled date as changed."""
    text = text.strip()
    try:
        if "-" in text:
            moment = dt.datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=None)
        else:  # a time of day alone ("10:10:10"): a fraction of a day, as Excel stores it
            moment = dt.datetime.combine(_EPOCH.date(), dt.time.fromisoformat(text))
    except ValueError:
        return None
    if moment < dt.datetime(1900, 1, 1) and moment.date() != _EPOCH.date():
        return None
    delta = moment - _EPOCH
    days = delta.days - (moment < _LEAP_BUG and moment.date() != _EPOCH.date())
    return days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000


def _flag(value: str | None) -> bool:
    return value is not None and value.strip() in _TRUE


class _Malformed(Exception):
    """Raised inside a handler; becomes read-xml-malformed naming the part."""
