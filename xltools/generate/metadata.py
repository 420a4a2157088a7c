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
)


def fingerprint(
    template: str, version: int, spec_sha256: str, bureau_id: str, prefill: Mapping[str, Any]
) -> str:
    """SHA-256 over what was distributed: the template and the values pre-filled for a bureau."""
    canonical = json.dumps(
        {
            "template": template,
            "version": version,
            "spec": spec_sha256,
            "bureau": bureau_id,
            "prefill": json.loads(prefill_json(prefill)),
        },
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
