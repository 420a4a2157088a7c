"""`xltools check one.xlsx` pays only for what checking needs: no XlsxWriter, openpyxl or pandas
(the checked copy is written by editing the package; the panel is planned without the writer)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, sys
from xltools.cli import main
sys.argv = ["xltools", "check", sys.argv[1], "-o", sys.argv[2]]
try:
    main()
except SystemExit:
    pass
heavy = ("xlsxwriter", "openpyxl", "pandas", "numpy", "docx", "matplotlib")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def test_check_one_file_loads_no_writer_nor_pandas(tmp_path: Path) -> None:
    template = ROOT / "templates" / "department_overall_v1.xlsx"
    out = tmp_path / "checked.xlsx"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(template), str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
    assert out.is_file()  # the checked copy was written all the same
