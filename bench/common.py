"""What every benchmark script shares: the machine it ran on and writing its results."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """The facts that make two runs comparable (or not)."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "load_average": list(os.getloadavg()),
    }


def write_results(target: Path, results: dict[str, Any]) -> None:
    """``results`` as indented UTF-8 JSON at ``target`` (folders made), and say where."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"→ {target}")
