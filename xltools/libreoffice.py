"""Recalculate workbooks with headless LibreOffice (an independent Excel-compatible engine).

xltools writes workbooks with formulas (XlsxWriter) and must prove that a real
spreadsheet engine computes the same results as our Python evaluator. This module
drives ``soffice --headless --convert-to`` to open each workbook, recalculate it and
save it again, so the saved file's cached values are LibreOffice's own results.

Why a private profile with ``OOXMLRecalcMode = 0`` is needed
------------------------------------------------------------
When LibreOffice loads an xlsx whose formula cells already carry a cached value (as
XlsxWriter writes them: ``0`` by default, or whatever ``value=`` was given), it keeps
those cached values by default: the setting
``/org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode`` (0 = always recalculate,
1 = never, 2 = ask) ships as 1 in LibreOffice 7.4's ``main.xcd``. A plain ``--convert-to``
therefore silently round-trips the *writer's* numbers, which would make every
comparison trivially pass. Setting the mode to 0 ("always recalculate") forces a
full recalculation on load. We set ``ODFRecalcMode`` to 0 as well for ods inputs.

The setting lives in the user profile, so every call runs LibreOffice with a fresh,
throw-away profile (``-env:UserInstallation=file:///tmp/...``) pre-seeded with a
``user/registrymodifications.xcu`` holding those two values. That never touches the
user's own profile, never shows a dialog, and does not collide with (or hand the job
over to) a LibreOffice instance the user already has running.

Known differences of the round trip (not bugs in xltools):

* numbers are written with 15 significant digits, so compare floats with a tolerance;
* a "very hidden" sheet comes back as merely "hidden";
* the output of ``Calc MS Excel 2007 XML`` is LibreOffice's own xlsx, not a patched
  copy of the input: styles, defined-name layout etc. may be rewritten.

All public functions raise :class:`LibreOfficeUnavailable` when no ``soffice`` is
found and :class:`LibreOfficeError` when a conversion fails or times out.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "SOFFICE_ENV_VAR",
    "LibreOfficeError",
    "LibreOfficeUnavailable",
    "find_soffice",
    "recalculate",
    "render_document_pdf",
    "render_pdf",
    "resave",
]

#: Environment variable naming the soffice executable (absolute path or command name).
SOFFICE_ENV_VAR = "XLTOOLS_SOFFICE"

# Passed as one argv element (no shell): the quotes seen in shell examples,
# ``xlsx:"Calc MS Excel 2007 XML"``, must NOT be included -- soffice would look for a
# filter whose name contains the quote characters and fail to store (yet exit 0).
XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"
PDF_FILTER = "pdf:calc_pdf_Export"
DOCUMENT_PDF_FILTER = "pdf:writer_pdf_Export"

_REGISTRY_MODIFICATIONS = """\
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class LibreOfficeError(RuntimeError):
    """A LibreOffice conversion failed, produced no output, or timed out."""


class LibreOfficeUnavailable(LibreOfficeError):
    """No LibreOffice executable (``soffice``) could be found."""


def find_soffice() -> str | None:
    """Return the path of the LibreOffice executable, or ``None`` if there is none.

    If ``$XLTOOLS_SOFFICE`` is set (non-empty) it is authoritative: it may be an
    absolute path or a command name, and if it does not resolve to an executable the
    result is ``None`` (no silent fallback to a different LibreOffice). Otherwise
    ``soffice`` and then ``libreoffice`` are looked up on ``PATH``.
    """
    override = os.environ.get(SOFFICE_ENV_VAR, "").strip()
    if override:
        return shutil.which(override)
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def recalculate(paths: Sequence[Path], out_dir: Path, *, timeout: float = 300) -> list[Path]:
    """Open each workbook in LibreOffice, fully recalculate it and save it as xlsx.

    All files are converted by ONE soffice process: start-up dominates the cost
    (measured with LibreOffice 7.4: ~0.9 s for 1 small file, ~1.2 s for 10, ~1.6 s for 20).
    The output for ``dir/name.ext`` is ``out_dir/name.xlsx``; existing files of that
    name in ``out_dir`` are replaced. Returns the output paths in input order.
    The input files are only read, never written.

    Raises :class:`LibreOfficeUnavailable` if soffice is missing, :class:`ValueError`
    for bad arguments (missing input, duplicate output name, ``out_dir`` equal to an
    input's directory) and :class:`LibreOfficeError` if a conversion fails or the
    process exceeds ``timeout`` seconds.
    """
    return _convert(paths, out_dir, XLSX_FILTER, ".xlsx", timeout=timeout)


def resave(paths: Sequence[Path], out_dir: Path, *, timeout: float = 300) -> list[Path]:
    """Open and save each workbook as xlsx as a clerk's LibreOffice does: with its default
    settings (a fresh profile without ``OOXMLRecalcMode`` = 0), which keep the cached results
    the file carries. Same arguments, outputs and errors as :func:`recalculate`."""
    return _convert(paths, out_dir, XLSX_FILTER, ".xlsx", timeout=timeout, recalc=False)


def render_pdf(path: Path, out_dir: Path, *, timeout: float = 300) -> Path:
    """Render ``path`` (recalculated, all sheets) to ``out_dir/<stem>.pdf``."""
    return _convert([path], out_dir, PDF_FILTER, ".pdf", timeout=timeout)[0]


def render_pdfs(paths: Sequence[Path], out_dir: Path, *, timeout: float = 300) -> list[Path]:
    """:func:`render_pdf` for many workbooks in one soffice run (start-up is most of it)."""
    return _convert(paths, out_dir, PDF_FILTER, ".pdf", timeout=timeout)


def render_document_pdf(path: Path, out_dir: Path, *, timeout: float = 300) -> Path:
    """Render a Word document (``.docx``, the reports) with Writer to ``out_dir/<stem>.pdf``."""
    return _convert([path], out_dir, DOCUMENT_PDF_FILTER, ".pdf", timeout=timeout, recalc=False)[0]


def _convert(
    paths: Sequence[Path],
    out_dir: Path,
    convert_to: str,
    suffix: str,
    *,
    timeout: float,
    recalc: bool = True,
) -> list[Path]:
    out_dir = Path(out_dir).resolve()
    sources = [Path(p).resolve() for p in paths]
    targets: list[Path] = []
    for src in sources:
        if not src.is_file():
            raise ValueError(f"input workbook does not exist: {src}")
        if src.parent == out_dir:
            raise ValueError(
                f"out_dir {out_dir} is the directory of input {src.name}; "
                "the output would overwrite the input"
            )
        target = out_dir / (src.stem + suffix)
        if target in targets:
            raise ValueError(f"two inputs would both be written to {target}")
        targets.append(target)
    if not targets:
        return []
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeUnavailable(
            "LibreOffice (soffice) not found on PATH; install the Debian package "
            f"'libreoffice-calc' or set ${SOFFICE_ENV_VAR}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="xltools-lo-") as tmp:
        tmp_path = Path(tmp)
        profile = tmp_path / "profile"
        (profile / "user").mkdir(parents=True)
        if recalc:
            (profile / "user" / "registrymodifications.xcu").write_text(
                _REGISTRY_MODIFICATIONS, encoding="utf-8"
            )
        # Convert into a private staging dir first: a file present there was certainly
        # produced by this run (no stale output from an earlier run can mask a failure).
        staging = tmp_path / "out"
        staging.mkdir()
        cmd = [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            convert_to,
            "--outdir",
            str(staging),
            *(str(s) for s in sources),
        ]
        env = dict(os.environ)
        env["HOME"] = str(tmp_path)  # keep LibreOffice's other dot-files out of $HOME
        env["SAL_USE_VCLPLUGIN"] = "svp"  # never try to reach an X/Wayland display
        stdout, stderr, returncode = _run(cmd, env=env, cwd=tmp_path, timeout=timeout)

        missing = [src for src in sources if not (staging / (src.stem + suffix)).is_file()]
        if missing:
            raise LibreOfficeError(
                f"LibreOffice (exit code {returncode}) produced no output for "
                f"{', '.join(str(m) for m in missing)}\n"
                f"command: {' '.join(cmd)}\nstdout:\n{stdout}\nstderr:\n{stderr}"
            )
        for src, target in zip(sources, targets, strict=True):
            shutil.move(staging / (src.stem + suffix), target)
    return targets


def _run(cmd: list[str], *, env: dict[str, str], cwd: Path, timeout: float) -> tuple[str, str, int]:
    """Run ``cmd`` in its own process group; on timeout kill the whole group."""
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        text=True,
        errors="replace",
        start_new_session=True,  # soffice is a wrapper script that spawns soffice.bin
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        stdout, stderr = proc.communicate()
        raise LibreOfficeError(
            f"LibreOffice timed out after {timeout:g} s and was killed\n"
            f"command: {' '.join(cmd)}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        ) from None
    except BaseException:  # e.g. KeyboardInterrupt: never leave soffice.bin behind
        _kill_group(proc)
        proc.wait()
        raise
    return stdout, stderr, proc.returncode


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
