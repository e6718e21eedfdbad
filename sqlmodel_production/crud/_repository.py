"""`Repository`: the CRUD statements of one table model, built once, run on a `Session`.

Reads select only the Public schema's columns and return plain mappings (no
identity map, no second validation). Every method runs where it is given: a
session (in its transaction), a connection, or a `Runner` (the routes' pooled
connection, `pooled_runner`). Writes use Core statements with
`RETURNING` where the database has it, so server-generated values come back
in the same round trip. Every method takes a sync `Session`; async code uses
`AsyncRepository`, which runs the very same methods through `run_sync`.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from sqlmodel_production._exceptions import (
    BulkValidationError,
    InvalidQuery,
    LiveChildren,
    OutsideScope,
    StaleVersion,
)
from sqlmodel_production.crud._bulk_rows import name_missing_parent
from sqlmodel_production.crud._cache import StatementCache
from sqlmodel_production.crud._children import ChildAction, ChildRule, child_rules
from sqlmodel_production.crud._cursor import decode_cursor, encode_cursor
from sqlmodel_production.crud._filters import FilterSet
from sqlmodel_production.crud._insert import insert_rows, upsert
from sqlmodel_production.crud._ordering import Ordering
from sqlmodel_production.crud._references import ReferenceGuard
from sqlmodel_production.crud._scope import (
    ScopeValues,
    one_value_each,
    scope_stamp,
    scope_value,
)
from sqlmodel_production.crud._statements import DeletedRows, Shape, Statements
from sqlmodel_production.crud._values import RowValues, named
from sqlmodel_production.db.internal import (
    PooledRunner,
    Prepared,
    Row,
    Runner,
    SessionLike,
    connection_of,
    runner_of,
)
from sqlmodel_production.models import SoftDelete, derive_schemas

__all__ = ["DeletedRows", "Page", "Repository", "Row", "SessionLike"]

ModelT = TypeVar("ModelT", bound=SQLModel)


@dataclass(frozen=True)
class Page:
    """One page of a listing.

    Attributes:
        rows: the Public columns of each row, in order.
        next_cursor: an opaque cursor for the page after this one; None on the last page.
        total: the number of matching rows, when asked for.
    """

    rows: list[Row]
    next_cursor: str | None
    total: int | None = None


class Repository(Generic[ModelT]):
    """CRUD for one table model with a single-column primary key.

    Args:
        model: the table model.
        public: the schema whose fields reads return; derived from `model` when omitted.
        filters: the fields clients may filter on, with their operators
            (`{"age": ("gt", "lt"), "name": ("ilike",)}`) or a list of field names.
        order_by: the fields clients may order by.
        default_order: the order when the client gives none (the primary key is
            always the final tie-breaker).
        search: string fields (own, or related as `"author.name"`) that the `q`
            filter searches, ignoring case; none: no `q`.
        soft_delete: `delete` marks rows deleted (`deleted_at`) instead of removing
            them, and reads leave marked rows out; by default when `model` has the
            `SoftDelete` mixin.
        on_delete: with soft delete, what a row's soft delete does to the live
            children of its one-to-many relationships, by name:
            `{"tasks": "cascade"}` marks them deleted in the same transaction,
            `{"tasks": "refuse"}` leaves the row alone while it has live ones
            (`LiveChildren`). Children of other relationships are left as they are.

    Every method takes a `scope`: column values every row it touches must have
    (`{"owner_id": user.id}`, `{"tenant_id": tenant}`). Reads, counts, updates
    and deletes see only rows inside it (a row outside is as absent as a missing
    one), and creates are stamped with it: data may name a value the scope
    gives (one of several), and naming another is refused (`OutsideScope`).

    Example:
        ```python
        heroes = Repository(Hero, filters=["age", "name"], order_by=["age", "name"])
        with database.session() as session:
            hero = heroes.create(session, {"name": "Deadpond", "secret_name": "Dive Wilson"})
            session.commit()
        ```
    """

    def __init__(
        self,
        model: type[ModelT],
        *,
        public: type[SQLModel] | None = None,
        filters: Mapping[str, Collection[str]] | Collection[str] = (),
        order_by: Collection[str] = (),
        default_order: Sequence[str] = (),
        soft_delete: bool | None = None,
        search: Collection[str] = (),
        on_delete: Mapping[str, ChildAction] | None = None,
    ) -> None:
        table: sa.Table = model.__table__  # type: ignore[attr-defined]
        primary_key = list(table.primary_key.columns)
        if len(primary_key) != 1:
            raise TypeError(
                f"Repository needs a single-column primary key; {model.__name__} has "
                f"{len(primary_key)}. Serve a link table with link_router."
            )
        self.model = model
        self.table = table
        self.pk: sa.Column[Any] = primary_key[0]
        public = public or derive_schemas(model).Public
        self.public = public
        self.columns = tuple(
            table.c[name] for name in public.model_fields if name in table.c
        )
        if self.pk not in self.columns:
            raise ValueError(
                f"{public.__name__} must carry the primary key {self.pk.name!r}"
            )
        self.version: sa.Column[Any] | None = sa.inspect(model).version_id_col
        self.filters = FilterSet(model, filters, search=search)
        self.ordering = Ordering(model, order_by, default_order)
        # Filtering or ordering on a field clients cannot read would leak it (`secret__like=a%`).
        hidden = set(self.filters.own_fields) | set(self.ordering.allowed)
        hidden |= {key.name for key in self.ordering.parse(None)}
        hidden -= {c.name for c in self.columns}
        if hidden:
            raise ValueError(
                f"Filters and order keys must be fields of {public.__name__}; "
                f"not: {', '.join(sorted(hidden))}"
            )
        if soft_delete is None:
            soft_delete = issubclass(model, SoftDelete)
        if soft_delete and "deleted_at" not in table.c:
            raise TypeError(
                f"soft_delete needs a deleted_at column; add the SoftDelete mixin to {model.__name__}"
            )
        self.deleted_at: sa.Column[Any] | None = (
            table.c["deleted_at"] if soft_delete else None
        )
        self.children = child_rules(
            model, self.pk, on_delete or {}, soft_delete=soft_delete
        )
        """The rules of `on_delete`: what a soft delete does to children."""
        cache = StatementCache()
        self._guard = ReferenceGuard(table, self.columns, cache)
        self._statements = Statements(
            table,
            self.columns,
            self.pk,
            version=self.version,
            deleted_at=self.deleted_at,
            ordering=self.ordering,
            guard=self._guard,
            cache=cache,
            children=self.children,
        )
        self._prepare = RowValues(model, table, self.version)

    # --- reads -----------------------------------------------------------------------

    def get(self, session: Session, id: Any) -> ModelT | None:
        """The ORM object with this primary key, or None (through the identity map)."""
        return session.get(self.model, id)

    def read(
        self,
        session: SessionLike,
        id: Any,
        *,
        scope: Mapping[str, Any] | None = None,
        deleted: DeletedRows = "hide",
    ) -> Row | None:
        """The Public columns of one row, or None (absent, outside `scope`, or soft-deleted)."""
        statements = self._statements
        statement = statements.read(statements.shape(scope, deleted))
        return runner_of(session).first(statement, statements.by_key(id, scope))

    # --- scope and soft delete: criteria every statement of the repository carries ---

    def criteria(
        self,
        columns: Collection[str] | Mapping[str, Any] = (),
        deleted: DeletedRows = "hide",
    ) -> builtins.list[sa.ColumnElement[bool]]:
        """The WHERE clauses of a scope (and of soft delete), for statements of your own.

        `columns` names the scoped columns, for one value each; or it is a
        request's scope, whose shape the clauses take (an IN for several values,
        nothing for every value). Their parameters come from `scope_parameters`.
        """
        statements = self._statements
        scope = columns if isinstance(columns, Mapping) else dict.fromkeys(columns)
        return statements.criteria(statements.shape(scope, deleted))

    def scope_parameters(
        self,
        scope: Mapping[str, Any] | None,
        *,
        where: str = "This statement",
        shaped: bool = False,
    ) -> dict[str, Any]:
        """The parameters of `criteria` for one request's scope.

        Args:
            scope: the request's scope.
            where: the statement's use, for the message of a refusal.
            shaped: the criteria were built from a scope of this one's shape
                (`criteria(scope)`); otherwise from columns, for one value each.

        Raises:
            InvalidScope: not `shaped`, and the scope gives several values or
                all for a column.
        """
        return self._statements.scoped(
            scope if shaped else one_value_each(scope, where)
        )

    def list(
        self,
        session: SessionLike,
        *,
        filters: Mapping[str, Any] | None = None,
        order_by: str | None = None,
        offset: int = 0,
        limit: int = 100,
        cursor: str | None = None,
        with_total: bool = False,
        scope: Mapping[str, Any] | None = None,
        deleted: DeletedRows = "hide",
    ) -> Page:
        """One page of rows matching `filters` inside `scope`, by offset or after a cursor.

        Raises:
            InvalidQuery: a bad filter value, order key or cursor (the API answers 422).
        """
        if cursor is not None and offset:
            raise InvalidQuery("cursor", "Give either offset or cursor, not both")
        keys = self.ordering.parse(order_by)
        where = self.filters.clauses(filters or {}, scope)
        after = decode_cursor(keys, cursor) if cursor is not None else None
        reads = runner_of(session)
        statements = self._statements
        shape = statements.shape(scope, deleted)
        params: dict[str, Any] = {
            "offset": offset,
            "limit": limit + 1,
            **statements.scoped(scope),
        }
        statement: Prepared | sa.Select[Any]
        if where:
            statement = statements.filtered_page(
                where, keys, after, shape, offset=offset, limit=limit + 1
            )
        else:
            statement = statements.page(keys, after, shape)
            params.update(
                {f"after{i}": v for i, v in enumerate(after or ()) if v is not None}
            )
        rows = reads.all(statement, params)
        next_cursor = None
        if len(rows) > limit:
            rows.pop()
            next_cursor = encode_cursor(keys, rows[-1])
        total = self._count(reads, where, shape, scope) if with_total else None
        return Page(rows, next_cursor, total)

    def count(
        self,
        session: SessionLike,
        *,
        filters: Mapping[str, Any] | None = None,
        scope: Mapping[str, Any] | None = None,
        deleted: DeletedRows = "hide",
    ) -> int:
        """The number of rows matching `filters` inside `scope`."""
        return self._count(
            runner_of(session),
            self.filters.clauses(filters or {}, scope),
            self._statements.shape(scope, deleted),
            scope,
        )

    def _count(
        self,
        reads: Runner,
        where: Sequence[sa.ColumnElement[bool]],
        shape: Shape,
        scope: Mapping[str, Any] | None,
    ) -> int:
        statements = self._statements
        statement: Prepared | sa.Select[Any] = (
            statements.filtered_count(where, shape)
            if where
            else statements.count(shape)
        )
        row = reads.first(statement, statements.scoped(scope))
        assert row is not None
        return int(next(iter(row.values())))

    # --- writes ----------------------------------------------------------------------

    def create(
        self,
        session: SessionLike,
        data: SQLModel | Mapping[str, Any],
        *,
        scope: Mapping[str, Any] | None = None,
        stamp: Mapping[str, Any] | None = None,
    ) -> Row:
        """Insert one row, stamped with `scope`; returns its Public columns, server-generated values included.

        `stamp` gives more column values the server sets, whatever `data` says
        (`{"created_by": user.id}`).

        Raises:
            pydantic.ValidationError: `data` does not validate against the table model.
        """
        own = named(data, scope) if scope else None
        values = self._prepare.one(data, {**(stamp or {}), **scope_stamp(scope, own)})
        try:
            return self._insert_one(session, values, scope)
        except sa.exc.DBAPIError as exc:
            name_missing_parent(
                exc, values, self.table.metadata, connection_of(session)
            )
            raise

    def _insert_one(
        self,
        session: SessionLike,
        values: dict[str, Any],
        scope: Mapping[str, Any] | None,
    ) -> Row:
        checked = self._guard.referring(scope, [values])
        if checked and connection_of(session).dialect.insert_returning:
            return self._guard.insert(session, values, checked)
        if checked:  # no INSERT ... RETURNING: check with the targets locked
            self._guard.check_rows(session, [values], checked)
        if isinstance(session, PooledRunner):
            (row,) = session.all(self._statements.insert(tuple(values)), values)
            return row
        return insert_rows(
            connection_of(session), self.table, [values], returning=self.columns
        )[0]

    def create_many(
        self,
        session: SessionLike,
        items: Sequence[SQLModel | Mapping[str, Any]],
        *,
        scope: Mapping[str, Any] | None = None,
        stamp: Mapping[str, Any] | None = None,
    ) -> builtins.list[Row]:
        """Insert many rows, each stamped with `scope` (and `stamp`, as `create`), in batched statements, without committing.

        Every row is validated before anything is sent to the database.

        Raises:
            BulkValidationError: with every invalid field of every row, `loc` = (index, field).
        """
        values, errors = self._prepare.many(items, self._stamps(items, scope, stamp))
        if errors:
            raise BulkValidationError(errors)
        if not values:
            return []
        if checked := self._guard.referring(scope, values):
            self._guard.check_rows(session, values, checked)
        return insert_rows(
            connection_of(session), self.table, values, returning=self.columns
        )

    def _stamps(
        self,
        items: Sequence[SQLModel | Mapping[str, Any]],
        scope: Mapping[str, Any] | None,
        stamp: Mapping[str, Any] | None,
    ) -> builtins.list[dict[str, Any]]:
        """Each row's stamp: `stamp` and its scoped values (its own, or the scope's).

        Raises:
            BulkValidationError: rows name scoped values outside the scope, `loc` = (index, column).
        """
        if not scope:
            return [dict(stamp or {})] * len(items)
        stamps, errors = [], []
        for index, item in enumerate(items):
            try:
                own = named(item, scope)
                stamps.append({**(stamp or {}), **scope_stamp(scope, own)})
            except OutsideScope as exc:
                errors.append(OutsideScope(exc.column, row=index).error())
        if errors:
            raise BulkValidationError(errors)
        return stamps

    def update(
        self,
        session: SessionLike,
        id: Any,
        data: Mapping[str, Any],
        *,
        version: int | Collection[int] | None = None,
        scope: Mapping[str, Any] | None = None,
        stamp: Mapping[str, Any] | None = None,
    ) -> Row | None:
        """Apply a partial update; returns the row's Public columns, or None if absent.

        An empty `data` changes nothing (the version stays, nothing is stamped) and
        returns the row.

        Args:
            session: the session.
            id: the primary key.
            data: only the fields to change (`update.model_dump(exclude_unset=True)`).
            version: for a versioned model, the version the client read (or the
                versions it accepts); the update is refused if the row has moved on.
            scope: the row must have these values (else it is absent), and they
                cannot be changed.
            stamp: more column values the server sets with any change, whatever
                `data` says (`{"updated_by": user.id}`).

        Raises:
            StaleVersion: `version` is not the row's current version.
        """
        unknown = set(data) - set(self.table.c.keys())
        if unknown:
            raise ValueError(
                f"Not columns of {self.table.name}: {', '.join(sorted(unknown))}"
            )
        moved = {
            k
            for k in data
            if scope
            and k in scope
            and (isinstance(scope_value(scope[k]), ScopeValues) or data[k] != scope[k])
        }
        if moved:
            raise ValueError(
                f"Scoped columns cannot be changed: {', '.join(sorted(moved))}"
            )
        accepted = _versions(version)
        if not data:
            row = self.read(session, id, scope=scope)
            self._check_version(row, accepted)
            return row
        if stamp:
            data = {**data, **stamp}
        returning = _dialect(session).update_returning
        statements = self._statements
        checked = self._guard.referring(scope, [data])
        statement = statements.update(
            tuple(sorted(data)),
            check=accepted is not None,
            returning=returning,
            shape=statements.shape(scope),
            checked=checked,
        )
        p = statements.prefix
        params = {f"{p}set_{name}": value for name, value in data.items()}
        params.update(statements.by_key(id, scope))
        if accepted is not None:
            params.update(statements.versions(accepted))
        try:
            if isinstance(statement, Prepared):  # UPDATE ... RETURNING
                found = runner_of(session).first(statement, params)
            else:
                changed = connection_of(session).execute(statement, params).rowcount
                found = self.read(session, id, scope=scope) if changed else None
        except sa.exc.DBAPIError as exc:
            name_missing_parent(exc, data, self.table.metadata, connection_of(session))
            raise
        if found is None and (checked or accepted is not None):
            row = self.read(session, id, scope=scope)
            if row is not None and checked:
                raise self._guard.not_found(
                    session,
                    params,
                    checked,
                    statements.set_value,
                    where=self.pk == sa.bindparam(f"{p}pk"),
                )
            self._check_version(row, accepted)
        return found

    def _check_version(self, row: Row | None, accepted: set[int] | None) -> None:
        """Raise `StaleVersion` if `row` exists at a version the client did not read."""
        if row is None or accepted is None or self.version is None:
            return
        current = row.get(self.version.name)
        if current not in accepted:
            raise StaleVersion(current)

    def delete(
        self,
        session: SessionLike,
        id: Any,
        *,
        scope: Mapping[str, Any] | None = None,
        version: int | Collection[int] | None = None,
    ) -> bool:
        """Delete one row (with soft delete: mark it deleted, now); False if there was none.

        With `on_delete` rules, a soft delete marks the cascading children
        deleted too, in the same transaction (give a session, or a connection
        in a transaction), and is refused while refusing ones are live. The row
        is locked first, so that a child created at the same moment either
        commits before the check sees the children, or finds its parent gone.

        Raises:
            StaleVersion: `version` (for a versioned model) is not the row's current version.
            LiveChildren: the row has live children whose rule is `"refuse"`;
                nothing was changed.
        """
        accepted = _versions(version)
        check = accepted is not None and self.version is not None
        statements = self._statements
        statement = statements.delete(statements.shape(scope), check=check)
        params = statements.by_key(id, scope)
        if check:
            params.update(statements.versions(accepted or ()))
        connection = connection_of(session)
        if self.children:
            connection.execute(statements.lock(statements.shape(scope)), params)
        if connection.execute(statement, params).rowcount > 0:
            key = {f"{statements.prefix}pk": id}
            for child in self.children:
                if child.action == "cascade":
                    connection.execute(statements.cascade(child), key)
            return True
        refusing = [c for c in self.children if c.action == "refuse"]
        if check or refusing:
            row = self.read(session, id, scope=scope)
            self._check_version(row, accepted)
            if row is not None and refusing:
                raise self._live_children(session, id, refusing)
        return False

    def _live_children(
        self, session: SessionLike, id: Any, refusing: Sequence[ChildRule]
    ) -> LiveChildren:
        """The refusal of a soft delete, naming the first relationship with live children."""
        statements = self._statements
        key = {f"{statements.prefix}pk": id}
        reads = runner_of(session)
        found = next(
            (
                c
                for c in refusing
                if (reads.first(statements.live_children(c), key) or {}).get("live")
            ),
            refusing[0],  # gone since the delete looked: say the first
        )
        return LiveChildren(self.table.name, found.name, constraint=found.constraint)

    def read_deleted(
        self, session: SessionLike, id: Any, *, scope: Mapping[str, Any] | None = None
    ) -> Row | None:
        """The Public columns of one soft-deleted row inside `scope`, or None."""
        self._soft_delete("read deleted rows")
        return self.read(session, id, scope=scope, deleted="only")

    def purge(
        self, session: SessionLike, id: Any, *, scope: Mapping[str, Any] | None = None
    ) -> bool:
        """Remove a soft-deleted row for good (an erasure request); False if no deleted row has this key.

        Live rows are not purged: soft-delete them first. A row other rows still
        refer to is refused by the database (a foreign key violation).
        """
        self._soft_delete("purge")
        statements = self._statements
        statement = statements.purge(statements.shape(scope, "only"))
        params = statements.by_key(id, scope)
        return bool(connection_of(session).execute(statement, params).rowcount)

    def _soft_delete(self, what: str) -> None:
        if self.deleted_at is None:
            raise TypeError(f"{self.model.__name__} has no soft delete to {what}")

    def restore(
        self, session: SessionLike, id: Any, *, scope: Mapping[str, Any] | None = None
    ) -> Row | None:
        """Unmark a soft-deleted row; its Public columns, or None if no deleted row has this key."""
        self._soft_delete("restore from")
        statements = self._statements
        statement = statements.restore(statements.shape(scope, "only"))
        params = statements.by_key(id, scope)
        if connection_of(session).execute(statement, params).rowcount == 0:
            return None
        return self.read(session, id, scope=scope)

    def upsert(
        self,
        session: SessionLike,
        data: SQLModel | Mapping[str, Any],
        *,
        on: Sequence[str],
        scope: Mapping[str, Any] | None = None,
        stamp: Mapping[str, Any] | None = None,
    ) -> Row | None:
        """Insert a row, or update the row that has the same values of the unique key `on`.

        One statement on every backend (`ON CONFLICT DO UPDATE` on PostgreSQL and
        SQLite, `ON DUPLICATE KEY UPDATE` on MariaDB); no check-then-insert race.

        With `scope`, the row is stamped as `create` stamps it, and a row of the
        same key in another scope is left alone: None, and nothing is written.
        Its foreign keys must name live rows inside the scope, as `create`'s
        (`ReferenceNotFound` otherwise); the rows they name are locked until
        the transaction ends, so run it in one (`transaction(session)`).

        Returns:
            The row's Public columns; None if the key is another scope's.
        """
        if self.version is not None:
            raise TypeError(
                "upsert would bypass optimistic locking; use create and update on versioned models"
            )
        own = named(data, scope) if scope else None
        values = self._prepare.one(data, {**(stamp or {}), **scope_stamp(scope, own)})
        missing = set(on) - set(values)
        if missing:
            raise ValueError(
                f"upsert needs the key fields: {', '.join(sorted(missing))}"
            )
        if checked := self._guard.referring(scope, [values]):
            self._guard.check_rows(session, [values], checked)
        return upsert(
            connection_of(session),
            self.table,
            values,
            on=on,
            returning=self.columns,
            guard=tuple(scope or ()),
        )

    # --- helpers ---------------------------------------------------------------------


def _versions(version: int | Collection[int] | None) -> set[int] | None:
    """The versions a client accepts: one, several (an If-Match list), or None (no check)."""
    if version is None:
        return None
    return {version} if isinstance(version, int) else set(version)


def _dialect(session: SessionLike) -> sa.Dialect:
    """The dialect `session` talks to, without making a `Connection` for a pooled runner."""
    if isinstance(session, PooledRunner):
        return session.engine.dialect
    return connection_of(session).dialect
