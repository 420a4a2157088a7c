"""Find the spec of a template id and version among the spec folders."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .spec import Spec

PACKAGE_SPECS = Path(__file__).resolve().parent.parent / "specs"


def spec_dirs(explicit: Path | None = None) -> list[Path]:
    """Where specs are looked for, first match wins: --specs, $XLTOOLS_SPECS, ./specs, the
    specs bundled beside the package."""
    candidates = [explicit] if explicit else []
    if os.environ.get("XLTOOLS_SPECS"):
        candidates.extend(Path(p) for p in os.environ["XLTOOLS_SPECS"].split(os.pathsep) if p)
    candidates.extend([Path("specs"), PACKAGE_SPECS])
    seen: list[Path] = []
    for path in candidates:
        if path.is_dir() and path.resolve() not in [s.resolve() for s in seen]:
            seen.append(path)
    return seen


_HEAD = re.compile(r"^(template|version):\s*['\"]?([A-Za-z0-9_]+)['\"]?\s*(#.*)?$", re.MULTILINE)


def _head(path: Path) -> tuple[str, int] | None:
    """(template, version) from a spec's top-level lines, without parsing the YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found = {m.group(1): m.group(2) for m in _HEAD.finditer(text)}
    if "template" not in found or not found.get("version", "").isdigit():
        return None
    return found["template"], int(found["version"])


@dataclass
class Registry:
    """Spec files by (template, version); a spec is built only when a workbook asks for it."""

    paths: dict[tuple[str, int], Path]
    _built: dict[tuple[str, int], Spec | None] = field(default_factory=dict)
    searched: list[Path] = field(default_factory=list)  # the folders looked in, in order

    @classmethod
    def load(cls, explicit: Path | None = None) -> Registry:
        paths: dict[tuple[str, int], Path] = {}
        folders = spec_dirs(explicit)
        for folder in folders:
            for path in sorted(folder.glob("*.yaml")):
                key = _head(path)
                if key is not None and key not in paths:
                    paths[key] = path
        return cls(paths, searched=folders)

    def where(self) -> str:
        """Where specs were looked for and how to add a folder, for a "not found" message."""
        looked = "、".join(str(p.resolve()) for p in self.searched) or "（没有可用的规范文件夹）"
        return (
            f"已查找的规范文件夹：{looked}。若这种表的规范（.yaml）在别处，请用 --specs 文件夹 "
            f"指定，或设置环境变量 XLTOOLS_SPECS（多个文件夹用 “{os.pathsep}” 分隔）"
        )

    def find(self, template: str, version: int) -> Spec | None:
        key = (template, version)
        if key not in self.paths:
            return None
        if key not in self._built:
            self._built[key] = _build_quietly(self.paths[key])
        return self._built[key]

    def versions(self, template: str) -> list[int]:
        return sorted(v for t, v in self.paths if t == template)

    def accepted(self, template: str, version: int) -> Spec | None:
        """The spec to check a workbook of this version with: the same version, or a newer
        spec that lists it under ``accepts``."""
        found = self.find(template, version)
        if found is not None:
            return found
        for newer in sorted(self.versions(template), reverse=True):
            spec = self.find(template, newer)
            if spec is not None and version in spec.accepts:
                return spec
        return None


def _build_quietly(path: Path) -> Spec | None:
    """A spec for checking: built without the schema pass (specs are linted when written and
    when templates are generated); an unusable spec counts as absent."""
    from .spec.build import build

    spec, problems = build(path, schema=False)
    return spec if spec is not None and not problems else None
