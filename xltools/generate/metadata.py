"""The hidden sheets every generated workbook carries, and their keys.

``_xltools`` identifies the template (id, version, spec hash, issue time, bureau stamp);
``_lists`` holds dropdown lists too long for an inline validation. Both are very hidden when
generated; LibreOffice and WPS save them as merely hidden, which readers must accept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

META_SHEET: Final = "_xltools"
PANEL_SHEET: Final = "自检"  # the live self-check panel (generate/panel.py), first in the workbook
LISTS_SHEET: Final = "_lists"
FORMAT_MARKER: Final = "xltools-template"
LIST_NAME_PREFIX: Final = "_list_"  # field ids start with a letter, so these never collide

# Order of the rows in the metadata sheet (column A key, column B value).
META_KEYS: Final = (
    "format",
    "template",
    "version",
    "title",
    "spec_sha256",
    "issued_at",
    "generator",
    "bureau_id",
    "bureau_name",
    "fingerprint",
    "prefill",  # JSON of the values pre-filled for the bureau: the checker names each edited cell
    "panel",  # the 自检 panel's layout (PANEL_LAYOUT); absent in workbooks of layout 1
)

# The 自检 panel's layout. The checker compares a returned panel cell by cell with the plan of
# the layout the workbook was generated with, so a change of layout gets a new number: returns
# of templates sent out before it are not taken for tampered panels. 1: the list of every check;
# 2: the status and the open problems first (issue 17).
PANEL_LAYOUT: Final = 2


def fingerprint(
    template: str,
    version: int,
    spec_sha256: str,
    bureau_id: str,
    prefill: Mapping[str, Any],
    panel: int = 1,
) -> str:
    """SHA-256 over what was distributed: the template, the values pre-filled for a bureau and,
    from layout 2 on, the panel's layout (so removing its stamp breaks the fingerprint; layout-1
    workbooks keep the fingerprint they were sent with)."""
    stamped: dict[str, Any] = {
        "template": template,
        "version": version,
        "spec": spec_sha256,
        "bureau": bureau_id,
        "prefill": json.loads(prefill_json(prefill)),
    }
    if panel != 1:
        stamped["panel"] = panel
    canonical = json.dumps(
        stamped,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def prefill_json(prefill: Mapping[str, Any]) -> str:
    return json.dumps(
        {k: _canonical(v) for k, v in sorted(prefill.items())}, ensure_ascii=False, sort_keys=True
    )


def _canonical(value: Any) -> Any:
    """JSON-ready and stable: numbers as floats, dates as ISO text, the rest as text."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
