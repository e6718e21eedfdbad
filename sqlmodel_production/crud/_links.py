"""The rows of a many-to-many link table, inside a row scope: statements built once, thin execution."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import SQLModel

from sqlmodel_production._exceptions import InvalidQuery
from sqlmodel_production.crud._cursor import decode_cursor, encode_cursor, keyset_clause
from sqlmodel_production.crud._insert import upsert
from sqlmodel_production.crud._related import INCLUDE_LIMIT
from sqlmodel_production.crud._repository import Page, Repository, Row
from sqlmodel_production.db.internal import Prepared, Runner

__all__ = ["LinkTable", "Side"]

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
        self._sides = {
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
        parent_where = self._sides["parent"].criteria(self._on_side["parent"])
        child_where = self._sides["child"].criteria(self._on_side["child"])
        self.guarded = bool(parent_where or child_where)
        """Whether a side can be absent for a row that exists (a scope, soft delete)."""
        parent_columns = _public_columns(parent_table, parent_public)
        child_columns = _public_columns(child_table, child_public)
        key: sa.BindParameter[Any] = sa.bindparam("id")
        self._parent = Prepared(
            sa.select(*parent_columns).where(self.parent_pk == key, *parent_where)
        )
        self._children = Prepared(
            sa.select(*child_columns, *self.data_columns)
            .join(self.table, self.child_key == self.child_pk)
            .where(self.parent_key == key, *child_where)
            .order_by(self.child_pk)
            .limit(limit + 1)
        )
        self._listed = {
            "parent": _Listed(
                parent_table,
                self.parent_pk,
                parent_columns,
                parent_where,
                to_listed=self.parent_key,
                to_other=self.child_key,
            ),
            "child": _Listed(
                child_table,
                self.child_pk,
                child_columns,
                child_where,
                to_listed=self.child_key,
                to_other=self.parent_key,
            ),
        }
        self._pages: dict[tuple[Side, bool], Prepared] = {}
        self._counts: dict[Side, Prepared] = {}
        self._exists = {
            "parent": Prepared(
                sa.select(self.parent_pk).where(self.parent_pk == key, *parent_where)
            ),
            "child": Prepared(
                sa.select(self.child_pk).where(self.child_pk == key, *child_where)
            ),
        }
        self._unlink = sa.delete(self.table).where(
            self.parent_key == sa.bindparam("parent"),
            self.child_key == sa.bindparam("child"),
        )

    def scope_parameters(self, scope: Mapping[str, Any] | None) -> dict[str, Any]:
        """The statements' parameters for the request's scope values (none without a scope)."""
        if scope is None:
            return {}
        found: dict[str, Any] = {}
        for side, repo in self._sides.items():
            values = {c: scope[c] for c in self._on_side[side]}
            found.update(repo.scope_parameters(values, where="A link route"))
        return found

    def exists(
        self, reads: Runner, side: Side, id: Any, scope: Mapping[str, Any]
    ) -> bool:
        """Whether the side's row `id` exists inside the scope."""
        return reads.first(self._exists[side], {"id": id, **scope}) is not None

    def parent(self, reads: Runner, id: Any, scope: Mapping[str, Any]) -> Row | None:
        """The parent's Public columns; None if it is absent."""
        return reads.first(self._parent, {"id": id, **scope})

    def children(
        self, reads: Runner, id: Any, scope: Mapping[str, Any]
    ) -> tuple[list[Row], bool]:
        """The parent's first `limit` linked children, each with the link's data, by child key; whether there were more."""
        return self._bounded(reads.all(self._children, {"id": id, **scope}))

    def repository(self, side: Side) -> Repository[Any]:
        """The repository of one side's table (its Public columns, its scope and soft delete)."""
        return self._sides[side]

    def page(
        self,
        reads: Runner,
        listed: Side,
        id: Any,
        scope: Mapping[str, Any],
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
        params: dict[str, Any] = {"id": id, **scope}
        params.update(offset=offset, limit=limit + 1)
        if after is not None:
            params["after0"] = after[0]
        rows = reads.all(self._page(listed, after is not None), params)
        next_cursor = None
        if len(rows) > limit:
            rows.pop()
            next_cursor = encode_cursor(keys, rows[-1])
        total = None
        if with_total:
            row = reads.first(self._count(listed), {"id": id, **scope})
            assert row is not None
            total = int(next(iter(row.values())))
        return Page(rows, next_cursor, total)

    def _page(self, listed: Side, after: bool) -> Prepared:
        found = self._pages.get((listed, after))
        if found is None:
            side = self._listed[listed]
            keys = self._sides[listed].ordering.primary_key
            statement = (
                sa.select(*side.columns, *self.data_columns)
                .join(self.table, side.to_listed == side.pk)
                .where(side.to_other == sa.bindparam("id"), *side.where)
            )
            if after:
                after0 = sa.bindparam("after0", type_=side.pk.type)
                statement = statement.where(keyset_clause(keys, (after0,)))
            found = self._pages[(listed, after)] = Prepared(
                statement.order_by(*self._sides[listed].ordering.clauses(keys))
                .offset(sa.bindparam("offset", type_=sa.Integer()))
                .limit(sa.bindparam("limit", type_=sa.Integer()))
            )
        return found

    def _count(self, listed: Side) -> Prepared:
        found = self._counts.get(listed)
        if found is None:
            side = self._listed[listed]
            found = self._counts[listed] = Prepared(
                sa.select(sa.func.count())
                .select_from(self.table.join(side.table, side.to_listed == side.pk))
                .where(side.to_other == sa.bindparam("id"), *side.where)
            )
        return found

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
    ) -> Row:
        """Link the two rows with `data`, or replace the data of their link (one statement).

        `on_create` values are written when the link is made and kept when it is
        changed (`added_by`); `on_update` values are written either way (`changed_by`).
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
        return upsert(
            connection,
            self.table,
            row,
            on=[self.parent_key.name, self.child_key.name],
            returning=list(self.table.columns),
            keep=keep,
        )

    def unlink(self, connection: sa.Connection, parent: Any, child: Any) -> bool:
        """Remove the link of the two rows; False if there was none."""
        result = connection.execute(self._unlink, {"parent": parent, "child": child})
        return bool(result.rowcount)


@dataclass(frozen=True)
class _Listed:
    """One side as the rows of a page: linked, through the link table, to a row of the other side."""

    table: sa.Table
    pk: sa.Column[Any]
    columns: list[sa.Column[Any]]
    where: list[sa.ColumnElement[bool]]
    to_listed: sa.Column[Any]
    """The link table's foreign key to this side."""
    to_other: sa.Column[Any]
    """The link table's foreign key to the other side."""


def _public_columns(table: sa.Table, public: type[SQLModel]) -> list[sa.Column[Any]]:
    return [table.c[name] for name in public.model_fields if name in table.c]


def _foreign_key(table: sa.Table, target: sa.Table) -> sa.Column[Any]:
    found = [fk.parent for fk in table.foreign_keys if fk.column.table is target]
    if len(found) != 1:
        raise ValueError(
            f"{table.name} needs exactly one foreign key to {target.name}; found {len(found)}"
        )
    return found[0]
