"""The statements of one table's repository, built once per shape and kept in one cache (pure).

A shape is what fixes a statement's SQL: the scoped columns (one value, several or
all), which soft-deleted rows it sees, the columns it writes, the order and whether
a cursor is given. Per request only parameters change, so each shape is built once,
in the repository's one `StatementCache`.

Parameter names, after the table's prefix (`parameter_prefix`): `pk`,
`set_<column>`, `scope_<column>`, `expected_version`; pages also take `offset`,
`limit` and `after<i>`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Literal

import sqlalchemy as sa

from sqlmodel_production.crud._cache import StatementCache
from sqlmodel_production.crud._children import ChildRule
from sqlmodel_production.crud._cursor import keyset_clause
from sqlmodel_production.crud._ordering import Ordering, OrderKey
from sqlmodel_production.crud._references import GuardedReference, ReferenceGuard
from sqlmodel_production.crud._scope import (
    ShapeNames,
    scope_clause,
    scope_parameters,
    scope_shape,
)
from sqlmodel_production.db.internal import Prepared
from sqlmodel_production.models import utcnow

__all__ = ["DeletedRows", "Shape", "Statements"]

DeletedRows = Literal["hide", "include", "only"]
"""Which soft-deleted rows a read sees: none (the default), both kinds, or only them."""
Shape = tuple[ShapeNames, DeletedRows]
"""The scoped columns' conditions, and which deleted rows."""


class Statements:
    """Every statement a `Repository` runs on one table: scope and soft delete in each.

    Args:
        table: the table.
        columns: the columns reads return (the Public schema's).
        pk: the single-column primary key.
        version: the version column of a versioned model, else None.
        deleted_at: the soft-delete mark, else None.
        ordering: the allowed orders of pages.
        guard: the table's guarded references, checked by writes.
        cache: where the statements are kept (the guard's share it).
        children: what a soft delete does to the row's children; the
            refusing rules' conditions are part of the soft delete.
    """

    def __init__(
        self,
        table: sa.Table,
        columns: Sequence[sa.Column[Any]],
        pk: sa.Column[Any],
        *,
        version: sa.Column[Any] | None,
        deleted_at: sa.Column[Any] | None,
        ordering: Ordering,
        guard: ReferenceGuard,
        cache: StatementCache,
        children: Sequence[ChildRule] = (),
    ) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.pk = pk
        self.version = version
        self.deleted_at = deleted_at
        self.ordering = ordering
        self.guard = guard
        self.prefix = parameter_prefix(table)
        self.cache = cache
        self.children = tuple(children)
        self._select = sa.select(*self.columns)

    # --- scope and soft delete: criteria every statement carries ---------------------

    def shape(
        self, scope: Mapping[str, Any] | None, deleted: DeletedRows = "hide"
    ) -> Shape:
        """The shape of a scope and a choice of deleted rows (all rows without soft delete)."""
        for name in scope or ():
            if name not in self.table.c:
                raise ValueError(
                    f"Not a column of {self.table.name}: {name!r} in scope"
                )
        return scope_shape(scope), deleted if self.deleted_at is not None else "include"

    def criteria(self, shape: Shape) -> list[sa.ColumnElement[bool]]:
        """The WHERE clauses of a shape; their parameters come from `scoped`."""
        names, deleted = shape
        clauses = [
            scope_clause(self.table.c[name], many, self._scope_parameter(name))
            for name, many in names
        ]
        if self.deleted_at is not None and deleted == "hide":
            clauses.append(self.deleted_at.is_(None))
        elif self.deleted_at is not None and deleted == "only":
            clauses.append(self.deleted_at.is_not(None))
        return clauses

    def scoped(self, scope: Mapping[str, Any] | None) -> dict[str, Any]:
        """The parameters of `criteria` for one request's scope."""
        return scope_parameters(scope, f"{self.prefix}scope_")

    def _scope_parameter(self, name: str) -> Callable[[bool], sa.BindParameter[Any]]:
        column = self.table.c[name]

        def parameter(expanding: bool) -> sa.BindParameter[Any]:
            key = f"{self.prefix}scope_{name}"
            return sa.bindparam(key, type_=column.type, expanding=expanding)

        return parameter

    def set_value(self, name: str) -> sa.BindParameter[Any]:
        """The parameter of a column's new value in an UPDATE."""
        return sa.bindparam(f"{self.prefix}set_{name}", type_=self.table.c[name].type)

    def _by_key(self) -> sa.ColumnElement[bool]:
        return self.pk == sa.bindparam(f"{self.prefix}pk")

    def _version_in(self) -> sa.ColumnElement[bool]:
        assert self.version is not None
        return self.version.in_(
            sa.bindparam(f"{self.prefix}expected_version", expanding=True)
        )

    # --- reads -----------------------------------------------------------------------

    def read(self, shape: Shape) -> Prepared:
        """One row's Public columns by primary key."""
        return self.cache.get(
            "read",
            shape,
            lambda: Prepared(self._select.where(self._by_key(), *self.criteria(shape))),
        )

    def count(self, shape: Shape) -> Prepared:
        """The number of rows inside the shape."""

        def build() -> Prepared:
            count = sa.select(sa.func.count()).select_from(self.table)
            return Prepared(count.where(*self.criteria(shape)))

        return self.cache.get("count", shape, build)

    def filtered_count(
        self, where: Sequence[sa.ColumnElement[bool]], shape: Shape
    ) -> sa.Select[Any]:
        """The number of rows matching filters (built per request; SQLAlchemy caches its SQL)."""
        return (
            sa.select(sa.func.count())
            .select_from(self.table)
            .where(*where, *self.criteria(shape))
        )

    def page(
        self, keys: tuple[OrderKey, ...], after: tuple[Any, ...] | None, shape: Shape
    ) -> Prepared:
        """The unfiltered page in this order, after a cursor or not."""

        def build() -> Prepared:
            statement = self._select.where(*self.criteria(shape))
            if after is not None:
                marks: tuple[Any, ...] = tuple(
                    None if v is None else sa.bindparam(f"after{i}")
                    for i, v in enumerate(after)
                )
                statement = statement.where(keyset_clause(keys, marks))
            return Prepared(
                statement.order_by(*self.ordering.clauses(keys))
                .offset(sa.bindparam("offset", type_=sa.Integer()))
                .limit(sa.bindparam("limit", type_=sa.Integer()))
            )

        nulls = None if after is None else tuple(v is None for v in after)
        return self.cache.get("page", (keys, nulls, shape), build)

    def filtered_page(
        self,
        where: Sequence[sa.ColumnElement[bool]],
        keys: tuple[OrderKey, ...],
        after: tuple[Any, ...] | None,
        shape: Shape,
        *,
        offset: int,
        limit: int,
    ) -> sa.Select[Any]:
        """A page of rows matching filters (built per request; SQLAlchemy caches its SQL)."""
        select = self._select.where(*where, *self.criteria(shape))
        if after is not None:
            select = select.where(keyset_clause(keys, after))
        return select.order_by(*self.ordering.clauses(keys)).offset(offset).limit(limit)

    # --- writes ----------------------------------------------------------------------

    def insert(self, names: tuple[str, ...]) -> Prepared:
        """`INSERT ... RETURNING` the Public columns, of the columns `names`."""

        def build() -> Prepared:
            values = {n: sa.bindparam(n, type_=self.table.c[n].type) for n in names}
            return Prepared(
                sa.insert(self.table).values(values).returning(*self.columns)
            )

        return self.cache.get("insert", names, build)

    def update(
        self,
        names: tuple[str, ...],
        *,
        check: bool,
        returning: bool,
        shape: Shape,
        checked: Sequence[GuardedReference] = (),
    ) -> Prepared | sa.Update:
        """The UPDATE of the columns `names` by primary key.

        With `check`, only at an `expected_version`; a versioned model's version
        goes up by one. A `checked` reference must stay inside the scope. With
        `returning`, a `Prepared` `UPDATE ... RETURNING` the Public columns, which
        a pooled runner sends straight on the driver.
        """

        def build() -> Prepared | sa.Update:
            values: dict[str, Any] = {name: self.set_value(name) for name in names}
            statement = sa.update(self.table).where(
                self._by_key(),
                *self.criteria(shape),
                *self.guard.conditions(checked, self.set_value, own=True),
            )
            if self.version is not None:
                values[self.version.name] = self.version + 1
                if check:
                    statement = statement.where(self._version_in())
            statement = statement.values(values)
            return (
                Prepared(statement.returning(*self.columns)) if returning else statement
            )

        key = (names, check, returning, shape, tuple(r.column.name for r in checked))
        return self.cache.get("update", key, build)

    def delete(self, shape: Shape, *, check: bool) -> sa.Delete | sa.Update:
        """DELETE by primary key, or with soft delete the UPDATE that marks the row deleted now.

        A soft delete leaves a row that has live children in a relationship
        whose rule is `"refuse"` unchanged.
        """

        def build() -> sa.Delete | sa.Update:
            where = [self._by_key(), *self.criteria(shape)]
            if check:
                where.append(self._version_in())
            if self.deleted_at is None:
                return sa.delete(self.table).where(*where)
            where += [~c.live(self.pk) for c in self.children if c.action == "refuse"]
            return (
                sa.update(self.table)
                .where(*where)
                .values({self.deleted_at.name: utcnow()})
            )

        return self.cache.get("delete", (shape, check), build)

    def lock(self, shape: Shape) -> sa.Select[Any]:
        """The row by key inside the shape, locked for an update until the transaction ends."""
        return self.cache.get(
            "lock",
            shape,
            lambda: (
                sa.select(self.pk)
                .where(self._by_key(), *self.criteria(shape))
                .with_for_update()
            ),
        )

    def cascade(self, child: ChildRule) -> sa.Update:
        """The UPDATE that marks the live children of one relationship deleted, by the parent's key."""
        return self.cache.get(
            "cascade",
            child.name,
            lambda: child.cascade(sa.bindparam(f"{self.prefix}pk")),
        )

    def live_children(self, child: ChildRule) -> sa.Select[Any]:
        """Whether the parent, by key, has live children in one relationship."""
        return self.cache.get(
            "live children",
            child.name,
            lambda: sa.select(
                child.live(sa.bindparam(f"{self.prefix}pk")).label("live")
            ),
        )

    def purge(self, shape: Shape) -> sa.Delete:
        """The DELETE of a row inside the shape (a soft-deleted one: `only`)."""
        return self.cache.get(
            "purge",
            shape,
            lambda: sa.delete(self.table).where(self._by_key(), *self.criteria(shape)),
        )

    def restore(self, shape: Shape) -> sa.Update:
        """The UPDATE that unmarks a soft-deleted row."""
        assert self.deleted_at is not None
        deleted_at = self.deleted_at

        def build() -> sa.Update:
            return (
                sa.update(self.table)
                .where(self._by_key(), *self.criteria(shape))
                .values({deleted_at.name: None})
            )

        return self.cache.get("restore", shape, build)

    def by_key(self, id: Any, scope: Mapping[str, Any] | None) -> dict[str, Any]:
        """The parameters of a statement by primary key inside a scope."""
        return {f"{self.prefix}pk": id, **self.scoped(scope)}

    def versions(self, accepted: Collection[int]) -> dict[str, Any]:
        """The parameter of the versions a client accepts."""
        return {f"{self.prefix}expected_version": sorted(accepted)}


def parameter_prefix(table: sa.Table) -> str:
    """A prefix that no column of `table` starts with, for an UPDATE's parameter names.

    SQLAlchemy reserves a column's own name for its SET value, and sets any
    column named by an execution parameter: a column called `pk` or `set_name`
    must not meet a parameter of that name.
    """
    prefix = "p_"
    while any(key.startswith(prefix) for key in table.c.keys()):
        prefix = "p" + prefix
    return prefix
