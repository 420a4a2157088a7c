"""Write the checked copy of a returned workbook: the original, untouched, plus what was found.

``write_checked_copy(source, target, report)`` writes ``target`` as a copy of the xlsx ``source``
that keeps every value, formula, cached formula result, style, validation, protection, defined
name, hidden state, comment and extension of the original, and adds:

* a worksheet ``校验结果`` — first in sheet order and the active tab — that opens on a first
  screen (title, verdict with counts, next step, the file's facts) and lists one row per finding
  (severity colours, frozen and printed header row, autofilter, and a hyperlink from each
  finding to the offending cell), set up to print on A4;
* a red (error) or yellow (warning) fill on each offending cell, and a note (comment) on it with
  the findings' messages.

Why the ZIP is edited directly
------------------------------
Loading and saving with openpyxl would empty every cached formula result and drop the x14
extensions (and much else). So the package is copied part by part, byte for byte, and only the
parts that must change are edited — by *splicing* the original bytes: every part is parsed (with
defusedxml as a gate, then expat for byte offsets of the elements), and only the few attributes
and elements that need to change are rewritten, so prefixes, namespace declarations,
``mc:Ignorable`` content and everything else we do not understand stay exactly as they were.

Parts changed
-------------
* ``[Content_Types].xml``: overrides for the new parts (and a ``vml`` default when needed);
* the workbook part (``xl/workbook.xml``): the new ``<sheet>`` first in ``<sheets>``,
  ``activeTab="0"`` (and ``firstSheet="0"``) on every ``<workbookView>``, every
  ``localSheetId`` shifted by one, since sheet-local names index the sheet order, and the new
  sheet's ``_xlnm.Print_Titles`` (its table header, printed atop every page);
* the workbook's rels: a relationship to the new sheet;
* ``xl/styles.xml``: fonts, fills, borders and cellXfs APPENDED (counts updated), none changed;
* each sheet holding a highlighted cell: the ``s=`` attribute of those cells (cells and rows are
  inserted, in order, when absent; ``<dimension>`` and row ``spans`` widened if needed) and a
  ``<legacyDrawing>`` element for the notes; its rels part (created or extended);
* any sheet whose view was ``tabSelected``: that attribute is removed — otherwise Excel would open
  the workbook with two sheets *grouped*, and an edit would go to both.

Parts added: the report sheet, and per annotated sheet a comments part and its VML drawing.

Limitations
-----------
* A sheet that already has comments or a legacy VML drawing (a ``<legacyDrawing>`` element or a
  comments relationship) is highlighted but gets no notes from us: merging our notes into the
  existing comments/VML parts risks breaking them. The findings are all on ``校验结果`` anyway.
* Findings on a sheet that is not a worksheet of the workbook, or whose cell is not a single A1
  reference, are listed but neither highlighted nor linked; links to hidden sheets are omitted.
* ``docProps/app.xml`` (the cached list of sheet titles) is not updated; Excel and LibreOffice
  rebuild it on save and do not rely on it.
* Only UTF-8 transitional OOXML parts are supported (what Excel, WPS, LibreOffice and the Python
  writers produce); anything else raises :class:`ValueError`, as does a package without
  ``xl/styles.xml``.

Modules
-------
Each imports only the ones listed before it (see also ``docs/architecture.md``):

* ``text``: report text as cell and attribute text, display widths, A1 references;
* ``xmlsplice``: parts parsed into element byte offsets; edits spliced into the original bytes;
* ``package``: the parts (original, changed, added), relationships and content types;
* ``styles``: the fonts, fills, borders and cellXfs appended to ``xl/styles.xml``;
* ``first_screen``: what the first screen of ``校验结果`` says;
* ``report_sheet``: the ``校验结果`` worksheet;
* ``highlights``: the cells to highlight and the edit of their sheets;
* ``notes``: the comments and VML drawing parts;
* ``workbook``: the workbook edit that puts it all together;
* this module: the ZIP read and written, and the public names.
"""

from __future__ import annotations

import os
import time
import zipfile
import zlib
from pathlib import Path

from ...atomic import atomic_path
from ..report import Report
from .highlights import HIGHLIGHT_FILL
from .report_sheet import CHECK_SHEET, ROW_FILL
from .workbook import StrictPackage, _annotate

__all__ = [
    "CHECK_SHEET",
    "HIGHLIGHT_FILL",
    "ROW_FILL",
    "StrictPackage",
    "write_checked_copy",
]


# ---------------------------------------------------------------------------------------------
# Public API


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def write_checked_copy(source: Path, target: Path, report: Report) -> None:
    """Write ``target``: ``source`` unchanged plus the sheet ``校验结果`` (first and active),
    highlighted offending cells and notes on them. ``source`` is only read; ``target`` is
    written atomically (temporary file beside it, then :func:`os.replace`).

    Raises :class:`ValueError` when ``target`` is ``source``, or when ``source`` is not an
    xlsx package this function can edit.
    """
    source, target = Path(source), Path(target)
    if _same_file(source, target):
        raise ValueError(f"refusing to overwrite the checked file itself: {source}")
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if len(set(names)) != len(names):
                raise ValueError(f"{source}: the ZIP holds duplicate part names")
            parts = {info.filename: archive.read(info) for info in infos}
            comment = archive.comment
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        # A part the checker never reads may be damaged (bad CRC, broken deflate stream) or
        # encrypted: that ended in an internal error (zlib.error) instead of "no copy".
        raise ValueError(f"{source}: not an xlsx (ZIP) file: {error}") from error
    package = _annotate(parts, report)

    # atomic_path gives the copy a normal file's mode (0666 less the umask, 0644 usually):
    # mkstemp's 0600 left a copy the colleague it is for could not open.
    with atomic_path(target) as temporary:
        now = time.localtime()[:6]
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as out:
            for info in infos:
                copy = zipfile.ZipInfo(info.filename, info.date_time)
                copy.compress_type = zipfile.ZIP_DEFLATED
                copy.external_attr = info.external_attr
                out.writestr(copy, package.changed.get(info.filename, parts[info.filename]))
            for name, data in package.added.items():
                added = zipfile.ZipInfo(name, now)
                added.compress_type = zipfile.ZIP_DEFLATED
                added.external_attr = 0o644 << 16
                out.writestr(added, data)
            out.comment = comment
