"""What the applications that re-save a return are known to change on their own.

A clerk opens the distributed workbook in Excel, WPS, LibreOffice or Gnumeric and saves it
there. Some of those applications drop parts of the protection or the hidden states when they
write xlsx, whatever the clerk did; a finding must not accuse the clerk of what the
application did. Each fact below was seen on files those applications saved (tests/corpus
/app_saved.py builds them) and is only ever used to soften a finding into a note: what the lost
setting protected (the sheets, the metadata) is verified directly either way.
"""

from __future__ import annotations

from typing import Final

# LibreOffice 7.x writes an empty <workbookProtection/> (lockStructure lost) to xlsx;
# Gnumeric writes none at all. Excel and WPS keep it.
_DROP_STRUCTURE_LOCK: Final = ("libreoffice", "openoffice", "calc", "gnumeric")
# Gnumeric writes every sheet without its state: hidden sheets come back visible.
_DROP_HIDDEN_STATE: Final = ("gnumeric",)


def app_label(application: str) -> str:
    """A short name for messages: "LibreOffice", "Gnumeric", … or the name as written."""
    low = application.lower()
    for known, label in (
        ("libreoffice", "LibreOffice"),
        ("openoffice", "OpenOffice"),
        ("gnumeric", "Gnumeric"),
        ("wps", "WPS"),
    ):
        if known in low:
            return label
    if low == "calc":
        return "LibreOffice"
    return application.split("/")[0][:40] or "其他软件"


def drops_structure_lock(application: str) -> bool:
    low = application.lower()
    return any(low.startswith(a) or a in low.split("/")[0] for a in _DROP_STRUCTURE_LOCK)


def drops_hidden_state(application: str) -> bool:
    low = application.lower()
    return any(a in low for a in _DROP_HIDDEN_STATE)
