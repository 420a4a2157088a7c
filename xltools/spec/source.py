"""Load YAML keeping the line of every mapping, key and list item, for error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class LocatedDict(dict[str, Any]):
    """A YAML mapping that remembers where it and each of its keys stand (1-based lines)."""

    line: int = 0
    key_lines: dict[str, int]


class LocatedList(list[Any]):
    line: int = 0
    item_lines: list[int]


# libyaml's parser when it is installed (about 8 times faster), the pure-Python one otherwise;
# both give every node its line.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LocatedDict:
    result = LocatedDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[str(key)] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def line_of(container: Any, key: str | int | None = None) -> int:
    """Best line for ``container[key]`` (or the container itself)."""
    if isinstance(container, LocatedDict):
        if key is not None and str(key) in container.key_lines:
            return container.key_lines[str(key)]
        return container.line
    if isinstance(container, LocatedList):
        if isinstance(key, int) and 0 <= key < len(container.item_lines):
            return container.item_lines[key]
        return container.line
    return 0


def line_at(root: Any, path: list[str | int]) -> int:
    """The line of the node reached by following ``path`` from ``root`` (as deep as it goes)."""
    line = line_of(root)
    node = root
    for step in path:
        line = line_of(node, step) or line
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return line
