"""The structural pass: validate a spec against its published JSON Schema, with YAML lines."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from .problems import Problem
from .schema_messages import chinese
from .source import line_at

SCHEMA_FILE = "spec.schema.json"


@cache
def spec_schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return dict(json.loads(text))


def schema_problems(raw: Any) -> list[Problem]:
    import jsonschema  # only lint and generate pay for it

    validator = jsonschema.Draft202012Validator(spec_schema())
    problems = []
    for error in sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path))):
        # For an "allOf/if-then" failure the deepest, most specific error is the useful one.
        leaf = (
            min(error.context or [error], key=lambda e: -len(e.absolute_path))
            if error.context
            else error
        )
        path = list(leaf.absolute_path)
        where = "/".join(str(p) for p in path) or "顶层"
        problems.append(
            Problem(
                "spec-schema",
                f"结构不符合规范格式（{where}）：{chinese(leaf)}",
                None,
                line_at(raw, path),
            )
        )
    return problems
