"""File names as people can read them.

A file name from a Windows USB stick or a zip made on Chinese Windows is often GBK bytes,
which Python on Linux holds as surrogate escapes. Such a string cannot be printed, written to
JSON, SQLite or a workbook. :func:`readable` turns it into real text: GB18030 when the bytes
are that, else UTF-8 with U+FFFD for what cannot be read.
"""

from __future__ import annotations

import os


def readable(name: str) -> str:
    """``name`` with any surrogate escapes decoded (GB18030 first); unchanged otherwise."""
    if not any("\udc80" <= char <= "\udcff" for char in name):
        return name
    raw = os.fsencode(name)
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")
