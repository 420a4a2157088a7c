"""Values worked out once per object, for objects that live long and hash slowly.

Spec objects and expression trees are frozen dataclasses: hashing one walks its whole tree on
every lookup. Keyed by identity instead, each object keeps its value for as long as it is
cached; the object is held with its value, so that its id cannot be reused meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityCache(Generic[K, V]):
    """``make(key)`` computed once per key object; forgotten all at once past ``limit``."""

    def __init__(self, make: Callable[[K], V], limit: int) -> None:
        self.make = make
        self.limit = limit
        self.entries: dict[int, tuple[K, V]] = {}

    def __call__(self, key: K) -> V:
        entry = self.entries.get(id(key))
        if entry is None or entry[0] is not key:
            if len(self.entries) >= self.limit:
                self.entries.clear()
            entry = self.entries[id(key)] = (key, self.make(key))
        return entry[1]
