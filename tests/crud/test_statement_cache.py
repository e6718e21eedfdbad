"""A repository's one statement cache: each shape built once, at most a bound of each kind (pure)."""

from __future__ import annotations

from sqlmodel_production.crud._cache import StatementCache


def test_a_shape_is_built_once_and_kinds_do_not_share_shapes() -> None:
    cache = StatementCache()
    built: list[tuple[str, int]] = []

    def build(kind: str, shape: int) -> object:
        built.append((kind, shape))
        return object()

    first = cache.get("read", 1, lambda: build("read", 1))
    assert cache.get("read", 1, lambda: build("read", 1)) is first
    assert cache.get("count", 1, lambda: build("count", 1)) is not first
    assert built == [("read", 1), ("count", 1)]


def test_past_the_bound_a_kind_is_built_each_time_and_others_still_kept() -> None:
    cache = StatementCache(limit=2)
    for shape in range(5):
        cache.get("update", shape, object)
    kept = cache.get("update", 0, object)
    assert cache.get("update", 0, object) is kept  # kept before the bound
    assert cache.get("update", 4, object) is not cache.get("update", 4, object)
    read = cache.get("read", 0, object)
    assert cache.get("read", 0, object) is read  # another kind has its own bound
