"""Cell formats of generated workbooks: one look for labels, inputs and computed values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..spec.model import Field

if TYPE_CHECKING:  # FONT and the role table are read by the checker too
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook

INPUT_FILL = "#FFF2CC"  # light yellow: the cells the unit types into
COMPUTED_FILL = "#EAF1FB"  # light blue: formulas
LABEL_FILL = "#F2F2F2"
FONT = "宋体"

NUMBER_FORMATS = {
    "integer": "0",
    "number": "0.00",
    "money": "#,##0.00",
    "percent": "0.00%",
    "date": "yyyy-mm-dd",
    "text": "@",
    "choice": "@",
    "bool": "@",
    "any": "General",
}

_BASE: dict[str, Any] = {
    "font_name": FONT,
    "font_size": 10,
    "border": 1,
    "valign": "vcenter",
    "text_wrap": True,
}


class Styles:
    """Formats are created once per workbook and shared by every cell of the same kind."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self._cache: dict[tuple[str, ...], Format] = {}

    def _get(self, key: tuple[str, ...], properties: dict[str, Any]) -> Format:
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self.workbook.add_format({**_BASE, **properties})
        return found

    def role(self, role: str) -> Format:
        if role == "title":
            return self._get(
                ("title",), {"bold": True, "font_size": 16, "align": "center", "border": 0}
            )
        if role == "section":
            return self._get(("section",), {"bold": True, "align": "left", "bg_color": LABEL_FILL})
        if role == "header":
            return self._get(("header",), {"bold": True, "align": "center", "bg_color": LABEL_FILL})
        if role == "note":
            return self._get(("note",), {"align": "left", "border": 0, "italic": True})
        return self._get(("label",), {"align": "center", "bg_color": LABEL_FILL})

    def field(self, field: Field, *, editable: bool) -> Format:
        kind = "input" if editable else ("computed" if field.computed else "fixed")
        long_text = field.type == "text" and field.lines > 1
        key = (kind, field.type, "long" if long_text else "")
        properties: dict[str, Any] = {
            "num_format": NUMBER_FORMATS.get(field.type, "General"),
            "locked": not editable,
            "align": "left" if field.type in ("text", "any") else "center",
        }
        if long_text:
            properties["valign"] = "top"
        if kind == "input":
            properties["bg_color"] = INPUT_FILL
        elif kind == "computed":
            properties["bg_color"] = COMPUTED_FILL
        return self._get(key, properties)
