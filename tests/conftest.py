"""Shared pytest fixtures for xltools.

Keep this file small: one documented fixture/hook per concern.

LibreOffice
-----------
Tests that need headless LibreOffice are marked ``@pytest.mark.libreoffice`` (the
marker is declared in pyproject.toml) and/or request the ``soffice`` fixture.
When LibreOffice is missing such tests are *skipped* locally, but under CI (the
``CI`` environment variable is set to any non-empty value) they *fail*: the CI
script ``.ci/run`` installs LibreOffice, so its absence there is a broken setup,
never a reason to silently skip the cross-check against a real spreadsheet engine.
"""

from __future__ import annotations

import os

import pytest

from xltools.libreoffice import find_soffice


def _require_soffice() -> str:
    """Return the soffice path, or skip (locally) / fail (under CI) the current test."""
    path = find_soffice()
    if path is not None:
        return path
    if os.environ.get("CI"):
        pytest.fail(
            "LibreOffice (soffice) is not installed but CI is set: .ci/run must install "
            "it (apt-get install -y --no-install-recommends libreoffice-calc libreoffice-writer)",
            pytrace=False,
        )
    pytest.skip(
        "LibreOffice (soffice) not found; install libreoffice-calc and libreoffice-writer, "
        "or set XLTOOLS_SOFFICE"
    )


@pytest.fixture
def soffice() -> str:
    """Path of the LibreOffice executable (skip locally / fail under CI if absent)."""
    return _require_soffice()


@pytest.fixture(autouse=True)
def _libreoffice_marker(request: pytest.FixtureRequest) -> None:
    """Apply the same skip/fail rule to every test marked ``libreoffice``."""
    if request.node.get_closest_marker("libreoffice") is not None:
        _require_soffice()
