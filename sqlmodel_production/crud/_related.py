"""Loading a row's relationships with Core statements built once (no ORM on the read path)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from sqlmodel_production.crud._cache import StatementCache
from sqlmodel_production.crud._scope import (
    ShapeNames,
    scope_clause,
    scope_parameters,
    scope_shape,
)
from sqlmodel_production.db.internal import Prepared, Runner
from sqlmodel_production.models import SoftDelete

__all__ = ["INCLUDE_LIMIT", "RelatedLoad", "include_limits", "related_load"]

INCLUDE_LIMIT = 100
"""The most related rows an included to-many relationship returns per row, by default."""


class RelatedLoad:
    """Reads one relationship of a row with a Core statement built once.

    For a relationship on foreign keys (many-to-one, one-to-many) or through a
    link table (many-to-many): the related rows' Public columns, in the
    relationship's `order_by` if it has one, else by the related primary key;
    a to-many relationship gives at most `limit` rows (one more is read to
    tell whether some were left out). Related rows that carry the scoped
    columns are read inside the request's scope: one value, several, or every
    one (a statement for each shape, built once).
    """

    def __init__(
        self,
        name: str,
        statement: sa.Select[Any],
        keys: list[sa.Column[Any]],
        uselist: bool,
        limit: int,
        scoped: tuple[sa.Column[Any], ...] = (),
    ) -> None:
        self.name = name
        self.keys = keys
        self.uselist = uselist
        self.limit = limit
        self.scoped = scoped
        self._statement = statement
        self._statements = StatementCache()

    def __call__(
        self,
        reads: Runner,
        row: Mapping[Any, Any],
        scope: Mapping[str, Any] | None = None,
    ) -> tuple[Any, bool]:
        """The related row(s) of `row` (inside `scope`), and whether rows past the limit were left out."""
        params = {f"k{i}": row[key.name] for i, key in enumerate(self.keys)}
        if any(value is None for value in params.values()):
            return [] if self.uselist else None, False
        given = {c.name: scope[c.name] for c in self.scoped} if scope else {}
        params.update(scope_parameters(given, "scope_"))
        statement = self._statement_of(scope_shape(given))
        if not self.uselist:
            return reads.first(statement, params), False
        params["limit"] = self.limit + 1
        rows = reads.all(statement, params)
        if len(rows) > self.limit:
            del rows[self.limit :]
            return rows, True
        return rows, False

    def _statement_of(self, shape: ShapeNames) -> Prepared:
        """The statement for a scope of this shape (built on first use)."""

        def build() -> Prepared:
            columns = {c.name: c for c in self.scoped}
            return Prepared(
                self._statement.where(
                    *(
                        scope_clause(columns[name], many, _parameter(columns[name]))
                        for name, many in shape
                    )
                )
            )

        return self._statements.get("related", shape, build)


def _parameter(column: sa.Column[Any]) -> Any:
    def parameter(expanding: bool) -> sa.BindParameter[Any]:
        return sa.bindparam(
            f"scope_{column.name}", type_=column.type, expanding=expanding
        )

    return parameter


def related_load(
    model: type[SQLModel],
    key: str,
    schema: type[SQLModel],
    *,
    limit: int = INCLUDE_LIMIT,
    scope: Collection[str] = (),
) -> RelatedLoad | None:
    """A Core loader for `model.key`, or None where only the ORM can load it.

    The ORM is needed when `schema` has fields that are not columns of the related
    table (nested relationships), or when the relationship's join is not a plain
    foreign-key or link-table one. The related table's columns among `scope`
    must be inside the request's scope (given at each call): related rows of
    another owner stay out, as they do on that model's own routes.
    """
    relationship = getattr(model, key).property
    table = relationship.mapper.local_table
    own = model.__table__  # type: ignore[attr-defined]
    if not all(name in table.c for name in schema.model_fields):
        return None
    columns = [table.c[name] for name in schema.model_fields]
    if relationship.secondary is not None:
        secondary = relationship.secondary
        pairs = relationship.synchronize_pairs
        far = relationship.secondary_synchronize_pairs
        if not (
            pairs
            and far
            and all(p.table is own and s.table is secondary for p, s in pairs)
            and all(t.table is table and s.table is secondary for t, s in far)
        ):
            return None
        statement = sa.select(*columns).join_from(
            table, secondary, sa.and_(*[target == link for target, link in far])
        )
    else:
        pairs = relationship.local_remote_pairs
        if not all(
            local.table is own and remote.table is table for local, remote in pairs
        ):
            return None
        statement = sa.select(*columns)
    statement = statement.where(
        *[remote == sa.bindparam(f"k{i}") for i, (_, remote) in enumerate(pairs)]
    )
    scoped = tuple(table.c[column] for column in scope if column in table.c)
    if issubclass(relationship.mapper.class_, SoftDelete):
        # Soft-deleted rows are as absent here as on the related model's routes.
        statement = statement.where(table.c.deleted_at.is_(None))
    # The relationship's own order, else the related key: the same answer every time.
    statement = statement.order_by(
        *(relationship.order_by or table.primary_key.columns)
    )
    if relationship.uselist:
        statement = statement.limit(sa.bindparam("limit", type_=sa.Integer()))
    return RelatedLoad(
        key,
        statement,
        [local for local, _ in pairs],
        relationship.uselist,
        limit,
        scoped,
    )


def include_limits(
    include: Mapping[str, Any], limit: int | Mapping[str, int]
) -> dict[str, int]:
    """The per-row limit of each included relationship: one for all, or by name.

    Raises:
        ValueError: a limit below 1, or one for a relationship not included.
    """
    if isinstance(limit, int):
        limits = dict.fromkeys(include, limit)
    else:
        if unknown := set(limit) - set(include):
            raise ValueError(
                f"include_limit names relationships that are not included: "
                f"{', '.join(sorted(unknown))}"
            )
        limits = {name: limit.get(name, INCLUDE_LIMIT) for name in include}
    for name, value in limits.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"the include limit of {name!r} must be a whole number of 1 or more, "
                f"not {value!r}"
            )
    return limits
