"""Find the spec of a template id and version among the spec folders."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .spec import Spec, load_spec

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


@dataclass
class Registry:
    specs: dict[tuple[str, int], Spec]

    @classmethod
    def load(cls, explicit: Path | None = None) -> Registry:
        import yaml

        specs: dict[tuple[str, int], Spec] = {}
        for folder in spec_dirs(explicit):
            for path in sorted(folder.glob("*.yaml")):
                try:  # read the id cheaply first: only build specs we do not have yet
                    head = yaml.safe_load(path.read_text(encoding="utf-8"))
                    key = (str(head["template"]), int(head["version"]))
                except Exception:  # a broken spec is lint's business, not the registry's
                    continue
                if key not in specs:
                    specs[key] = load_spec(path)
        return cls(specs)

    def find(self, template: str, version: int) -> Spec | None:
        return self.specs.get((template, version))

    def versions(self, template: str) -> list[int]:
        return sorted(v for t, v in self.specs if t == template)

    def accepted(self, template: str, version: int) -> Spec | None:
        """The spec to check a workbook of this version with: the same version, or a newer
        spec that lists it under ``accepts``."""
        found = self.find(template, version)
        if found is not None:
            return found
        for (t, _), spec in sorted(self.specs.items(), reverse=True):
            if t == template and version in spec.accepts:
                return spec
        return None
