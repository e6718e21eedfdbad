"""One cache of a repository's statements, bounded per kind (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["SHAPES_PER_KIND", "StatementCache"]

SHAPES_PER_KIND = 256
"""Statements kept per repository and kind (read, page, INSERT, UPDATE, ...)."""
V = TypeVar("V")


class StatementCache:
    """Statements by kind and shape, built on first use; past `limit` shapes of a kind, built each time."""

    def __init__(self, limit: int = SHAPES_PER_KIND) -> None:
        self.limit = limit
        self._built: dict[tuple[str, Hashable], Any] = {}
        self._kept: Counter[str] = Counter()

    def get(self, kind: str, shape: Hashable, build: Callable[[], V]) -> V:
        """The statement of `kind` for `shape`, built by `build` the first time."""
        key = (kind, shape)
        found = self._built.get(key)
        if found is None:
            found = build()
            if self._kept[kind] < self.limit:
                self._built[key] = found
                self._kept[kind] += 1
        return found
