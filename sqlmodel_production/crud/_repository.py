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
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from sqlmodel_production._exceptions import (
    BulkValidationError,
    InvalidQuery,
    StaleVersion,
)
from sqlmodel_production.crud._cursor import decode_cursor, encode_cursor, keyset_clause
from sqlmodel_production.crud._filters import FilterSet
from sqlmodel_production.crud._insert import insert_rows, upsert
from sqlmodel_production.crud._ordering import Ordering, OrderKey
from sqlmodel_production.crud._references import ReferenceGuard, ScopedReference
from sqlmodel_production.crud._scope import (
    ScopeValues,
    ShapeNames,
    one_value_each,
    scope_clause,
    scope_parameters,
    scope_shape,
    scope_stamp,
    scope_value,
)
from sqlmodel_production.crud._values import RowValues
from sqlmodel_production.db.internal import (
    PooledRunner,
    Prepared,
    Row,
    Runner,
    SessionLike,
    connection_of,
    runner_of,
)
from sqlmodel_production.models import SoftDelete, derive_schemas, utcnow

__all__ = ["DeletedRows", "Page", "Repository", "Row", "SessionLike"]

ModelT = TypeVar("ModelT", bound=SQLModel)
DeletedRows = Literal["hide", "include", "only"]
"""Which soft-deleted rows a read sees: none (the default), both kinds, or only them."""
_Shape = tuple[
    ShapeNames, str
]  # the scoped columns' conditions, and which deleted rows
_SHAPES = 256  # statements kept per repository and kind (page, INSERT, UPDATE)
K = TypeVar("K")
V = TypeVar("V")


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

    Every method takes a `scope`: column values every row it touches must have
    (`{"owner_id": user.id}`, `{"tenant_id": tenant}`). Reads, counts, updates
    and deletes see only rows inside it (a row outside is as absent as a missing
    one), and creates are stamped with it, whatever the data says.

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
        # Built once per shape (scoped columns, deleted rows): per request only parameters change.
        self._parameter = _parameter_prefix(table)
        self._select = sa.select(*self.columns)
        self._reads: dict[_Shape, Prepared] = {}
        self._counts: dict[_Shape, Prepared] = {}
        self._pages: dict[tuple[Any, ...], Prepared] = {}
        self._deletes: dict[tuple[_Shape, bool], sa.Delete | sa.Update] = {}
        self._restores: dict[_Shape, sa.Update] = {}
        self._updates: dict[tuple[Any, ...], sa.Update] = {}
        self._inserts: dict[tuple[str, ...], Prepared] = {}
        self._guard = ReferenceGuard(table, self.columns)
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
        shape = self._shape(scope, deleted)

        def build() -> Prepared:
            return Prepared(
                self._select.where(
                    self.pk == sa.bindparam("pk"), *self._criteria(shape)
                )
            )

        statement = _cached(self._reads, shape, build)
        return runner_of(session).first(statement, {"pk": id, **self._scoped(scope)})

    # --- scope and soft delete: criteria every statement of the repository carries ---

    def _shape(
        self, scope: Mapping[str, Any] | None, deleted: DeletedRows = "hide"
    ) -> _Shape:
        for name in scope or ():
            if name not in self.table.c:
                raise ValueError(
                    f"Not a column of {self.table.name}: {name!r} in scope"
                )
        names = scope_shape(scope)
        return names, deleted if self.deleted_at is not None else "include"

    def _criteria(self, shape: _Shape) -> builtins.list[sa.ColumnElement[bool]]:
        """The WHERE clauses of a shape; parameters `<prefix>scope_<column>` (see `_scoped`)."""
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

    def criteria(
        self, columns: Collection[str] = (), deleted: DeletedRows = "hide"
    ) -> builtins.list[sa.ColumnElement[bool]]:
        """The WHERE clauses of a scope on `columns` (and of soft delete), for statements of your own.

        Their parameters come from `scope_parameters(scope)`.
        """
        return self._criteria(self._shape(dict.fromkeys(columns), deleted))

    def scope_parameters(
        self, scope: Mapping[str, Any] | None, *, where: str = "This statement"
    ) -> dict[str, Any]:
        """The parameters of `criteria` for one request's scope, of one value per column.

        Raises:
            InvalidScope: the scope gives several values or all for a column
                (`where` names the statement's use in the message).
        """
        return self._scoped(one_value_each(scope, where))

    def _scoped(self, scope: Mapping[str, Any] | None) -> dict[str, Any]:
        return scope_parameters(scope, f"{self._parameter}scope_")

    def _scope_parameter(self, name: str) -> Callable[[bool], sa.BindParameter[Any]]:
        """The parameter of the scoped column `name`'s value(s) (`_scoped`'s names)."""
        column = self.table.c[name]

        def parameter(expanding: bool) -> sa.BindParameter[Any]:
            key = f"{self._parameter}scope_{name}"
            return sa.bindparam(key, type_=column.type, expanding=expanding)

        return parameter

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
        shape = self._shape(scope, deleted)
        params: dict[str, Any] = {
            "offset": offset,
            "limit": limit + 1,
            **self._scoped(scope),
        }
        statement: Prepared | sa.Select[Any]
        if where:
            # Filtered: built per request (SQLAlchemy caches its compiled form).
            select = self._select.where(*where, *self._criteria(shape))
            if after is not None:
                select = select.where(keyset_clause(keys, after))
            statement = (
                select.order_by(*self.ordering.clauses(keys))
                .offset(offset)
                .limit(limit + 1)
            )
        else:
            statement = self._page(keys, after, shape)
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
            self._shape(scope, deleted),
            scope,
        )

    def _count(
        self,
        reads: Runner,
        where: Sequence[sa.ColumnElement[bool]],
        shape: _Shape,
        scope: Mapping[str, Any] | None,
    ) -> int:
        def build() -> Prepared:
            count = sa.select(sa.func.count()).select_from(self.table)
            return Prepared(count.where(*self._criteria(shape)))

        statement: Prepared | sa.Select[Any] = _cached(self._counts, shape, build)
        if where:
            statement = (
                sa.select(sa.func.count())
                .select_from(self.table)
                .where(*where, *self._criteria(shape))
            )
        row = reads.first(statement, self._scoped(scope))
        assert row is not None
        return int(next(iter(row.values())))

    def _page(
        self,
        keys: tuple[OrderKey, ...],
        after: tuple[Any, ...] | None,
        scoped: _Shape,
    ) -> Prepared:
        """The unfiltered page statement for this order, after a cursor or not; built once."""
        shape = (
            keys,
            None if after is None else tuple(v is None for v in after),
            scoped,
        )

        def build() -> Prepared:
            statement = self._select.where(*self._criteria(scoped))
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

        return _cached(self._pages, shape, build)

    # --- writes ----------------------------------------------------------------------

    def create(
        self,
        session: SessionLike,
        data: SQLModel | Mapping[str, Any],
        *,
        scope: Mapping[str, Any] | None = None,
    ) -> Row:
        """Insert one row, stamped with `scope`; returns its Public columns, server-generated values included.

        Raises:
            pydantic.ValidationError: `data` does not validate against the table model.
        """
        values = self._prepare.one(data, scope_stamp(scope))
        checked = self._guard.referring(scope, [values])
        if checked and connection_of(session).dialect.insert_returning:
            return self._guard.insert(session, values, checked)
        if checked:  # no INSERT ... RETURNING: check with the targets locked
            self._guard.check_rows(session, [values], checked)
        if isinstance(session, PooledRunner):
            (row,) = session.all(self._insert(tuple(values)), values)
            return row
        return insert_rows(
            connection_of(session), self.table, [values], returning=self.columns
        )[0]

    def _insert(self, names: tuple[str, ...]) -> Prepared:
        """`INSERT ... RETURNING` of the columns `names`, built once per set of columns."""

        def build() -> Prepared:
            return Prepared(
                sa.insert(self.table)
                .values({n: sa.bindparam(n, type_=self.table.c[n].type) for n in names})
                .returning(*self.columns)
            )

        return _cached(self._inserts, names, build)

    def create_many(
        self,
        session: SessionLike,
        items: Sequence[SQLModel | Mapping[str, Any]],
        *,
        scope: Mapping[str, Any] | None = None,
    ) -> builtins.list[Row]:
        """Insert many rows, each stamped with `scope`, in batched statements, without committing.

        Every row is validated before anything is sent to the database.

        Raises:
            BulkValidationError: with every invalid field of every row, `loc` = (index, field).
        """
        values, errors = self._prepare.many(items, scope_stamp(scope))
        if errors:
            raise BulkValidationError(errors)
        if not values:
            return []
        if checked := self._guard.referring(scope, values):
            self._guard.check_rows(session, values, checked)
        return insert_rows(
            connection_of(session), self.table, values, returning=self.columns
        )

    def update(
        self,
        session: SessionLike,
        id: Any,
        data: Mapping[str, Any],
        *,
        version: int | Collection[int] | None = None,
        scope: Mapping[str, Any] | None = None,
    ) -> Row | None:
        """Apply a partial update; returns the row's Public columns, or None if absent.

        An empty `data` changes nothing (the version stays) and returns the row.

        Args:
            session: the session.
            id: the primary key.
            data: only the fields to change (`update.model_dump(exclude_unset=True)`).
            version: for a versioned model, the version the client read (or the
                versions it accepts); the update is refused if the row has moved on.
            scope: the row must have these values (else it is absent), and they
                cannot be changed.

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
        connection = connection_of(session)
        returning = connection.dialect.update_returning
        shape = self._shape(scope)
        checked = self._guard.referring(scope, [data])
        statement = self._update_statement(
            tuple(sorted(data)),
            check=accepted is not None,
            returning=returning,
            shape=shape,
            checked=checked,
        )
        p = self._parameter
        params = {f"{p}set_{name}": value for name, value in data.items()}
        params.update(self._scoped(scope))
        params[f"{p}pk"] = id
        if accepted is not None:
            params[f"{p}expected_version"] = sorted(accepted)
        result = connection.execute(statement, params)
        if returning:
            returned = result.mappings().first()
            found = dict(returned) if returned is not None else None
        else:
            found = self.read(session, id, scope=scope) if result.rowcount else None
        if found is None and (checked or accepted is not None):
            row = self.read(session, id, scope=scope)
            if row is not None and checked:
                raise self._guard.not_found(
                    session,
                    params,
                    checked,
                    self._set_value,
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

    def _set_value(self, name: str) -> sa.BindParameter[Any]:
        """The parameter of a column's new value in an UPDATE."""
        return sa.bindparam(
            f"{self._parameter}set_{name}", type_=self.table.c[name].type
        )

    def _update_statement(
        self,
        names: tuple[str, ...],
        *,
        check: bool,
        returning: bool,
        shape: _Shape,
        checked: Sequence[ScopedReference] = (),
    ) -> sa.Update:
        """The UPDATE of the columns `names` by primary key, built once per shape.

        Parameters, after the table's `_parameter` prefix: `pk`, `set_<name>` per
        column and, with `check`, `expected_version`; a versioned model's version
        goes up by one. A `checked` reference must stay inside the scope.
        """
        p = self._parameter

        def build() -> sa.Update:
            values: dict[str, Any] = {name: self._set_value(name) for name in names}
            statement = sa.update(self.table).where(
                self.pk == sa.bindparam(f"{p}pk"),
                *self._criteria(shape),
                *self._guard.conditions(checked, self._set_value, own=True),
            )
            if self.version is not None:
                values[self.version.name] = self.version + 1
                if check:
                    statement = statement.where(
                        self.version.in_(
                            sa.bindparam(f"{p}expected_version", expanding=True)
                        )
                    )
            statement = statement.values(values)
            return statement.returning(*self.columns) if returning else statement

        key = (names, check, returning, shape, tuple(r.column.name for r in checked))
        return _cached(self._updates, key, build)

    def delete(
        self,
        session: SessionLike,
        id: Any,
        *,
        scope: Mapping[str, Any] | None = None,
        version: int | Collection[int] | None = None,
    ) -> bool:
        """Delete one row (with soft delete: mark it deleted, now); False if there was none.

        Raises:
            StaleVersion: `version` (for a versioned model) is not the row's current version.
        """
        shape = self._shape(scope)
        accepted = _versions(version)
        check = accepted is not None and self.version is not None

        def build() -> sa.Delete | sa.Update:
            where = [
                self.pk == sa.bindparam(f"{self._parameter}pk"),
                *self._criteria(shape),
            ]
            if check:
                assert self.version is not None
                where.append(
                    self.version.in_(
                        sa.bindparam(
                            f"{self._parameter}expected_version", expanding=True
                        )
                    )
                )
            if self.deleted_at is None:
                return sa.delete(self.table).where(*where)
            return (
                sa.update(self.table)
                .where(*where)
                .values({self.deleted_at.name: utcnow()})
            )

        statement = _cached(self._deletes, (shape, check), build)
        params = {f"{self._parameter}pk": id, **self._scoped(scope)}
        if check:
            params[f"{self._parameter}expected_version"] = sorted(accepted or ())
        if connection_of(session).execute(statement, params).rowcount > 0:
            return True
        if check:
            self._check_version(self.read(session, id, scope=scope), accepted)
        return False

    def restore(
        self, session: SessionLike, id: Any, *, scope: Mapping[str, Any] | None = None
    ) -> Row | None:
        """Unmark a soft-deleted row; its Public columns, or None if no deleted row has this key."""
        if self.deleted_at is None:
            raise TypeError(f"{self.model.__name__} has no soft delete to restore from")
        shape = self._shape(scope, "only")
        deleted_at = self.deleted_at

        def build() -> sa.Update:
            where = [
                self.pk == sa.bindparam(f"{self._parameter}pk"),
                *self._criteria(shape),
            ]
            return sa.update(self.table).where(*where).values({deleted_at.name: None})

        statement = _cached(self._restores, shape, build)
        params = {f"{self._parameter}pk": id, **self._scoped(scope)}
        if connection_of(session).execute(statement, params).rowcount == 0:
            return None
        return self.read(session, id, scope=scope)

    def upsert(
        self,
        session: SessionLike,
        data: SQLModel | Mapping[str, Any],
        *,
        on: Sequence[str],
    ) -> Row:
        """Insert a row, or update the row that has the same values of the unique key `on`.

        One statement on every backend (`ON CONFLICT DO UPDATE` on PostgreSQL and
        SQLite, `ON DUPLICATE KEY UPDATE` on MariaDB); no check-then-insert race.
        It takes no `scope`: the row it updates could be another scope's.
        """
        if self.version is not None:
            raise TypeError(
                "upsert would bypass optimistic locking; use create and update on versioned models"
            )
        values = self._prepare.one(data, {})
        missing = set(on) - set(values)
        if missing:
            raise ValueError(
                f"upsert needs the key fields: {', '.join(sorted(missing))}"
            )
        return upsert(
            connection_of(session), self.table, values, on=on, returning=self.columns
        )

    # --- helpers ---------------------------------------------------------------------


def _versions(version: int | Collection[int] | None) -> set[int] | None:
    """The versions a client accepts: one, several (an If-Match list), or None (no check)."""
    if version is None:
        return None
    return {version} if isinstance(version, int) else set(version)


def _cached(cache: dict[K, V], key: K, build: Callable[[], V]) -> V:
    """`cache[key]`, built on first use; past `_SHAPES` entries, built each time and not kept."""
    found = cache.get(key)
    if found is None:
        found = build()
        if len(cache) < _SHAPES:
            cache[key] = found
    return found


def _parameter_prefix(table: sa.Table) -> str:
    """A prefix that no column of `table` starts with, for an UPDATE's parameter names.

    SQLAlchemy reserves a column's own name for its SET value, and sets any
    column named by an execution parameter: a column called `pk` or `set_name`
    must not meet a parameter of that name.
    """
    prefix = "p_"
    while any(key.startswith(prefix) for key in table.c.keys()):
        prefix = "p" + prefix
    return prefix
