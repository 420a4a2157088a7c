"""Returns as an application saved them: a sample of the run's returns re-saved by LibreOffice.

Bureaus open the template in Excel, WPS or LibreOffice, fill it in and save: what comes back
is the application's XML, not XlsxWriter's (other attribute order, every formula written in
full, styles renumbered, sheets merely hidden …). ``bench/run.py`` times python-calamine and
``xltools merge`` on such files beside the very same returns as xltools wrote them:

* :func:`written_sample` links the first ``per_template`` returns of each template into a
  folder of their own (hard links: no copy), so a merge reads exactly those;
* :func:`libreoffice_sample` has LibreOffice (``xltools.libreoffice.recalculate``: headless,
  recalculating on load) re-save the same files, ``batch`` files per soffice process, the
  batches spread over the cores. The result is kept under the run's work folder and reused by
  the next run with the same N and sample size.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def written_sample(
    by_template: Mapping[str, Sequence[str]], per_template: int, folder: Path
) -> dict[str, list[str]]:
    """The first ``per_template`` returns of each template, hard-linked under ``folder``."""
    shutil.rmtree(folder, ignore_errors=True)
    out: dict[str, list[str]] = {}
    for template, paths in by_template.items():
        target = folder / template
        target.mkdir(parents=True)
        out[template] = []
        for path in paths[:per_template]:
            link = target / Path(path).name
            try:
                os.link(path, link)
            except OSError:  # another file system: a copy reads the same
                shutil.copyfile(path, link)
            out[template].append(str(link))
    return out


def _resave(paths: Sequence[str], out_dir: str) -> int:
    from xltools.libreoffice import recalculate

    return len(recalculate([Path(p) for p in paths], Path(out_dir), timeout=1800))


def libreoffice_sample(
    sample: Mapping[str, Sequence[str]], folder: Path, *, batch: int, cores: int
) -> tuple[dict[str, list[str]], float]:
    """``sample``'s files re-saved by LibreOffice under ``folder/<template>/`` (same names),
    and the seconds it took (0 when reused)."""
    started = time.perf_counter()
    jobs: list[tuple[list[str], str]] = []
    out: dict[str, list[str]] = {}
    for template, paths in sample.items():
        target = folder / template
        names = [target / Path(p).name for p in paths]
        out[template] = [str(n) for n in names]
        if target.is_dir() and all(n.is_file() for n in names):
            continue
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        jobs += [(list(paths[i : i + batch]), str(target)) for i in range(0, len(paths), batch)]
    if not jobs:
        return out, 0.0
    with ProcessPoolExecutor(cores) as pool:
        list(pool.map(_resave, *zip(*jobs, strict=True)))
    return out, time.perf_counter() - started
