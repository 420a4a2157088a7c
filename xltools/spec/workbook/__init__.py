"""Specs written as workbooks: ``xltools spec export`` writes a spec as an authoring workbook
(基本信息, 字段, 指标, 规则, 校验, 选项, 等次), ``xltools spec import`` reads one back, and
``generate`` / ``spec lint`` take one directly. ``layout.py`` says where every key goes, for
both directions; ``export.py`` and ``writer.py`` write, ``import_.py`` reads."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..model import Spec
from ..problems import Problem, ProblemList
from .cells import plain

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def is_workbook_spec(path: Path) -> bool:
    return path.suffix.lower() in WORKBOOK_SUFFIXES


def export_spec(spec_path: Path, output: Path) -> list[Problem]:
    """Write the authoring workbook of the YAML spec at ``spec_path``; the problems that stop
    it (nothing is written then)."""
    from ...yaml_errors import explain
    from ..source import load_yaml
    from .export import export_tables
    from .writer import write_workbook

    try:
        raw = load_yaml(spec_path)
    except OSError as error:
        return [
            Problem("spec-unreadable", f"无法读取规范文件：{error.strerror or error}", spec_path)
        ]
    except Exception as error:  # yaml.YAMLError and friends
        slip = explain(error, spec_path.read_text(encoding="utf-8", errors="replace"))
        return [Problem("spec-yaml-syntax", slip.message, spec_path, slip.line, slip.column)]
    if not isinstance(raw, dict):
        return [
            Problem(
                "spec-schema",
                "规范文件的顶层应是一个映射（template、version、sheets …）",
                spec_path,
                1,
            )
        ]
    tables, problems = export_tables(raw, spec_path)
    if not problems:
        write_workbook(tables, output, str(raw.get("title", "")))
    return problems


@dataclass
class WorkbookSpec:
    """What an authoring workbook gives: its spec (None when unusable), every problem (each
    naming sheet, row and column), and the YAML text of its data (None when unreadable)."""

    spec: Spec | None
    problems: list[Problem]
    yaml_text: str | None


def read_workbook_spec(path: Path, *, lint: bool = True) -> WorkbookSpec:
    from ..build import build_from
    from ..lint import lint_spec
    from .import_ import import_workbook

    imported = import_workbook(path)
    if imported.problems or imported.data is None:
        return WorkbookSpec(None, imported.problems, None)
    text = to_yaml(imported.data, path)
    found = ProblemList(path)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    spec = build_from(imported.data, path, found, sha256=sha)
    if spec is not None and lint:
        lint_spec(spec, found)
    problems = []
    for problem in sorted(found.items, key=lambda p: (p.line, p.code)):
        where = imported.places.text(problem.line) or "工作簿"
        problems.append(Problem(problem.code, f"{where}：{problem.message}", path))
    return WorkbookSpec(spec if not problems else None, problems, text)


def to_yaml(data: Any, source: Path | None = None) -> str:
    """The spec's YAML: flat mappings (a field, a column, a row) on one line, as the bundled
    specs write them."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def width(value: Any) -> int:
        text = str(value)
        return len(text) + sum(1 for c in text if ord(c) > 0x2E80) + 2

    def mapping(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.MappingNode:
        scalars = all(
            not isinstance(v, dict | list)
            or (isinstance(v, list) and all(not isinstance(i, dict | list) for i in v))
            for v in value.values()
        )
        short = sum(width(k) + width(v) for k, v in value.items()) < 90
        one_line = not any(isinstance(v, str) and "\n" in v for v in value.values())
        flow = scalars and short and one_line
        return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=flow)

    def sequence(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
        flow = all(not isinstance(i, dict | list) for i in value) and sum(map(width, value)) < 80
        return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)

    _Dumper.add_representer(dict, mapping)
    _Dumper.add_representer(list, sequence)
    header = f"# 由 xltools spec import 从 {source.name} 读出。\n" if source is not None else ""
    body = yaml.dump(plain(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    return header + body


__all__ = [
    "WORKBOOK_SUFFIXES",
    "WorkbookSpec",
    "export_spec",
    "is_workbook_spec",
    "plain",
    "read_workbook_spec",
    "to_yaml",
]
