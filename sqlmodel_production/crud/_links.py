"""The rows of a many-to-many link table, inside a row scope: statements built once, thin execution."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import SQLModel

from sqlmodel_production._exceptions import InvalidQuery, ReferenceNotFound
from sqlmodel_production.crud._cache import StatementCache
from sqlmodel_production.crud._cursor import decode_cursor, encode_cursor, keyset_clause
from sqlmodel_production.crud._insert import upsert
from sqlmodel_production.crud._references import GuardedReference, guarded_references
from sqlmodel_production.crud._related import INCLUDE_LIMIT
from sqlmodel_production.crud._repository import Page, Repository, Row
from sqlmodel_production.crud._scope import scope_shape
from sqlmodel_production.db.internal import Prepared, Runner

__all__ = ["LinkScope", "LinkTable", "Side"]

Side = Literal["parent", "child"]


class LinkTable:
    """A link table between a parent and a child table, and the statements that read and write it.

    Scope and soft delete apply per side, as each side's own router applies
    them: a parent or child outside the scope, or soft-deleted, is absent, and
    reads list only linked rows inside the scope.

    Args:
        link: the link table model, with one foreign key to each side.
        parent: the parent table model (its rows list their linked children).
        child: the child table model.
        parent_public: the parent's Public schema: the columns a read selects.
        child_public: the child's Public schema.
        scoped: the scope's columns (none without a scope); each must be a
            column of the parent, the child or both.
        limit: the most linked rows a read returns, and the largest page of
            `page`; one more is read to tell whether there were more.

    Raises:
        ValueError: a side has no single foreign key in `link`, or a scoped
            column belongs to neither side.
    """

    def __init__(
        self,
        link: type[SQLModel],
        *,
        parent: type[SQLModel],
        child: type[SQLModel],
        parent_public: type[SQLModel],
        child_public: type[SQLModel],
        scoped: Sequence[str] = (),
        limit: int = INCLUDE_LIMIT,
    ) -> None:
        self.limit = limit
        self.model = link
        self.table: sa.Table = link.__table__  # type: ignore[attr-defined]
        parent_table: sa.Table = parent.__table__  # type: ignore[attr-defined]
        child_table: sa.Table = child.__table__  # type: ignore[attr-defined]
        self.parent_key = _foreign_key(self.table, parent_table)
        self.child_key = _foreign_key(self.table, child_table)
        (self.parent_pk,) = parent_table.primary_key.columns
        (self.child_pk,) = child_table.primary_key.columns
        self.data_columns = [
            c
            for c in self.table.columns
            if c is not self.parent_key and c is not self.child_key
        ]
        self._sides: dict[Side, Repository[Any]] = {
            "parent": Repository(parent, public=parent_public),
            "child": Repository(child, public=child_public),
        }
        self._on_side = {
            side: tuple(c for c in scoped if c in repo.table.c)
            for side, repo in self._sides.items()
        }
        if missing := [
            c for c in scoped if not any(c in cols for cols in self._on_side.values())
        ]:
            raise ValueError(
                f"The scope's {', '.join(missing)} is a column of neither "
                f"{parent.__name__} nor {child.__name__}"
            )
        self.columns = {
            "parent": _public_columns(parent_table, parent_public),
            "child": _public_columns(child_table, child_public),
        }
        self._shaped = StatementCache()
        self.references = tuple(
            r
            for r in guarded_references(self.table, scoped)
            if r.column is not self.parent_key and r.column is not self.child_key
        )
        """The data's foreign keys to tables with the scoped columns, or soft delete."""
        one_each = self._statements(dict.fromkeys(scoped))
        self.guarded = bool(one_each.where["parent"] or one_each.where["child"])
        """Whether a side can be absent for a row that exists (a scope, soft delete)."""
        self._unlink = sa.delete(self.table).where(
            self.parent_key == sa.bindparam("parent"),
            self.child_key == sa.bindparam("child"),
        )

    def scoped(self, scope: Mapping[str, Any] | None) -> LinkScope:
        """The request's scope for this table's statements: their shape and parameters."""
        if scope is None:
            return LinkScope(self._statements({}), {}, None)
        found: dict[str, Any] = {}
        for side, repo in self._sides.items():
            values = {c: scope[c] for c in self._on_side[side]}
            found.update(repo.scope_parameters(values, shaped=True))
        return LinkScope(self._statements(scope), found, scope)

    def exists(
        self,
        reads: Runner,
        side: Side,
        id: Any,
        scope: LinkScope,
        *,
        locked: bool = False,
    ) -> bool:
        """Whether the side's row `id` exists inside the scope.

        `locked`: the row is locked (`FOR SHARE`) until the transaction ends, so
        that it stays inside the scope, and live, until a link to it commits.
        """
        statement = scope.statements.exists(side, locked)
        return reads.first(statement, {"id": id, **scope.params}) is not None

    def parent(self, reads: Runner, id: Any, scope: LinkScope) -> Row | None:
        """The parent's Public columns; None if it is absent."""
        return reads.first(scope.statements.parent(), {"id": id, **scope.params})

    def children(
        self, reads: Runner, id: Any, scope: LinkScope
    ) -> tuple[list[Row], bool]:
        """The parent's first `limit` linked children, each with the link's data, by child key; whether there were more."""
        rows = reads.all(scope.statements.children(), {"id": id, **scope.params})
        return self._bounded(rows)

    def _statements(self, scope: Mapping[str, Any]) -> _Shaped:
        """The statements for a scope of this shape on each side (built on first use)."""
        values = {
            side: {c: scope[c] for c in self._on_side[side] if c in scope}
            for side in self._sides
        }
        key = (scope_shape(values["parent"]), scope_shape(values["child"]))

        def build() -> _Shaped:
            where: dict[Side, list[sa.ColumnElement[bool]]] = {
                side: self._sides[side].criteria(values[side]) for side in self._sides
            }
            return _Shaped(self, where)

        return self._shaped.get("shape", key, build)

    def repository(self, side: Side) -> Repository[Any]:
        """The repository of one side's table (its Public columns, its scope and soft delete)."""
        return self._sides[side]

    def page(
        self,
        reads: Runner,
        listed: Side,
        id: Any,
        scope: LinkScope,
        *,
        offset: int = 0,
        limit: int | None = None,
        cursor: str | None = None,
        with_total: bool = False,
    ) -> Page:
        """One page of the `listed` side's rows linked to the other side's row `id`, each with the link's data.

        In the listed side's key order, by offset or after a cursor (as
        `Repository.list` pages), at most `limit` rows (the table's `limit` by
        default, and never more).

        Raises:
            InvalidQuery: a bad cursor, a cursor with an offset, or a limit out of range.
        """
        limit = self.limit if limit is None else limit
        if not 1 <= limit <= self.limit:
            raise InvalidQuery("limit", f"the limit must be 1 to {self.limit}")
        if cursor is not None and offset:
            raise InvalidQuery("cursor", "Give either offset or cursor, not both")
        keys = self._sides[listed].ordering.primary_key
        after = decode_cursor(keys, cursor) if cursor is not None else None
        params: dict[str, Any] = {"id": id, **scope.params}
        params.update(offset=offset, limit=limit + 1)
        if after is not None:
            params["after0"] = after[0]
        rows = reads.all(scope.statements.page(listed, after is not None), params)
        next_cursor = None
        if len(rows) > limit:
            rows.pop()
            next_cursor = encode_cursor(keys, rows[-1])
        total = None
        if with_total:
            statement = scope.statements.count(listed)
            row = reads.first(statement, {"id": id, **scope.params})
            assert row is not None
            total = int(next(iter(row.values())))
        return Page(rows, next_cursor, total)

    def _bounded(self, rows: list[Row]) -> tuple[list[Row], bool]:
        return rows[: self.limit], len(rows) > self.limit

    def link(
        self,
        connection: sa.Connection,
        parent: Any,
        child: Any,
        data: Mapping[str, Any],
        *,
        on_create: Mapping[str, Any] | None = None,
        on_update: Mapping[str, Any] | None = None,
        scope: Mapping[str, Any] | None = None,
    ) -> Row:
        """Link the two rows with `data`, or replace the data of their link (one statement).

        `on_create` values are written when the link is made and kept when it is
        changed (`added_by`); `on_update` values are written either way (`changed_by`).
        The data's foreign keys (`references`) must name live rows inside `scope`:
        they are locked until the transaction ends (run it in one).

        Raises:
            ReferenceNotFound: a foreign key of the data names no live row inside the scope.
        """
        keep = set(on_create or ()) - set(on_update or ())
        row = {
            self.parent_key.name: parent,
            self.child_key.name: child,
            **data,
            **(on_create or {}),
            **(on_update or {}),
        }
        row = self.model.model_validate(row).model_dump(
            include={c.name for c in self.table.columns}
        )
        for reference in self.references:
            value = row.get(reference.column.name)
            if value is not None and not _found(connection, reference, value, scope):
                raise ReferenceNotFound(
                    self.table.name,
                    (reference.column.name,),
                    constraint=reference.constraint,
                )
        found = upsert(
            connection,
            self.table,
            row,
            on=[self.parent_key.name, self.child_key.name],
            returning=list(self.table.columns),
            keep=keep,
        )
        assert found is not None  # no guard: the row is inserted or updated
        return found

    def unlink(self, connection: sa.Connection, parent: Any, child: Any) -> bool:
        """Remove the link of the two rows; False if there was none."""
        result = connection.execute(self._unlink, {"parent": parent, "child": child})
        return bool(result.rowcount)


class _Shaped:
    """A link table's read statements for one shape of scope on each side, each built on first use."""

    def __init__(
        self, links: LinkTable, where: Mapping[Side, list[sa.ColumnElement[bool]]]
    ) -> None:
        self.links = links
        self.where = where
        self._built = StatementCache()

    def _once(
        self, key: tuple[Any, ...], build: Callable[[], sa.Select[Any]]
    ) -> Prepared:
        return self._built.get(key[0], key, lambda: Prepared(build()))

    def exists(self, side: Side, locked: bool) -> Prepared:
        """The side's row `id`'s key, if it is inside the scope; `locked`: `FOR SHARE`."""
        pk = self._sides(side)[0]

        def build() -> sa.Select[Any]:
            found = sa.select(pk).where(pk == sa.bindparam("id"), *self.where[side])
            return found.with_for_update(read=True) if locked else found

        return self._once(("exists", side, locked), build)

    def parent(self) -> Prepared:
        """The parent row `id`'s Public columns."""
        links = self.links
        return self._once(
            ("parent",),
            lambda: sa.select(*links.columns["parent"]).where(
                links.parent_pk == sa.bindparam("id"), *self.where["parent"]
            ),
        )

    def children(self) -> Prepared:
        """The parent row `id`'s linked children with the link's data, one more than the limit."""
        links = self.links
        return self._once(
            ("children",),
            lambda: (
                sa.select(*links.columns["child"], *links.data_columns)
                .join(links.table, links.child_key == links.child_pk)
                .where(links.parent_key == sa.bindparam("id"), *self.where["child"])
                .order_by(links.child_pk)
                .limit(links.limit + 1)
            ),
        )

    def page(self, listed: Side, after: bool) -> Prepared:
        """A page of the `listed` side's rows linked to the other side's row `id`."""
        links = self.links
        pk, to_listed, to_other = self._sides(listed)
        ordering = links.repository(listed).ordering

        def build() -> sa.Select[Any]:
            statement = (
                sa.select(*links.columns[listed], *links.data_columns)
                .join(links.table, to_listed == pk)
                .where(to_other == sa.bindparam("id"), *self.where[listed])
            )
            if after:
                after0 = sa.bindparam("after0", type_=pk.type)
                statement = statement.where(
                    keyset_clause(ordering.primary_key, (after0,))
                )
            return (
                statement.order_by(*ordering.clauses(ordering.primary_key))
                .offset(sa.bindparam("offset", type_=sa.Integer()))
                .limit(sa.bindparam("limit", type_=sa.Integer()))
            )

        return self._once(("page", listed, after), build)

    def count(self, listed: Side) -> Prepared:
        """The number of the `listed` side's rows linked to the other side's row `id`."""
        pk, to_listed, to_other = self._sides(listed)
        return self._once(
            ("count", listed),
            lambda: (
                sa.select(sa.func.count())
                .select_from(self.links.table.join(pk.table, to_listed == pk))
                .where(to_other == sa.bindparam("id"), *self.where[listed])
            ),
        )

    def _sides(
        self, listed: Side
    ) -> tuple[sa.Column[Any], sa.Column[Any], sa.Column[Any]]:
        """The listed side's key, the link's foreign key to it, and the one to the other side."""
        links = self.links
        if listed == "parent":
            return links.parent_pk, links.parent_key, links.child_key
        return links.child_pk, links.child_key, links.parent_key


@dataclass(frozen=True)
class LinkScope:
    """One request's scope, for a link table's statements: those of its shape, and their parameters."""

    statements: _Shaped
    params: dict[str, Any]
    given: Mapping[str, Any] | None
    """The scope as the request's dependency gave it (None: no scope)."""


def _found(
    connection: sa.Connection,
    reference: GuardedReference,
    value: Any,
    scope: Mapping[str, Any] | None,
) -> bool:
    """Whether `value` names a live row inside `scope`; it is locked (`FOR SHARE`) until the transaction ends."""
    select = (
        sa.select(reference.target)
        .where(reference.target == value, *reference.within(scope))
        .with_for_update(read=True)
    )
    return connection.execute(select).first() is not None


def _public_columns(table: sa.Table, public: type[SQLModel]) -> list[sa.Column[Any]]:
    return [table.c[name] for name in public.model_fields if name in table.c]


def _foreign_key(table: sa.Table, target: sa.Table) -> sa.Column[Any]:
    found = [fk.parent for fk in table.foreign_keys if fk.column.table is target]
    if len(found) != 1:
        raise ValueError(
            f"{table.name} needs exactly one foreign key to {target.name}; found {len(found)}"
        )
    return found[0]
