"""Inserting rows and upserting, per dialect, with RETURNING in the same round trip."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from sqlmodel_production.db._reads import Prepared, dicts, run_prepared

__all__ = ["insert_rows", "upsert"]

Row = dict[str, Any]

UNNEST_BATCH = 10_000
"""Rows per PostgreSQL `INSERT ... SELECT FROM unnest(...)` statement."""

# Column types whose values go into a PostgreSQL array parameter and come out of
# `unnest` unchanged. Enums need their own array type, JSON and ARRAY values do
# not round-trip through an array: those tables keep SQLAlchemy's batched VALUES.
_ARRAY_SAFE = (
    sa.Integer,
    sa.String,
    sa.Boolean,
    sa.Numeric,
    sa.DateTime,
    sa.Date,
    sa.Time,
    sa.Uuid,
)


def insert_rows(
    connection: sa.Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    *,
    returning: Sequence[sa.ColumnElement[Any]],
) -> list[Row]:
    """Insert `rows` in batched statements; each row's `returning` columns, in the order given."""
    dialect = connection.dialect
    returning = tuple(returning)
    if (
        len(rows) == 1
        or not dialect.insert_executemany_returning_sort_by_parameter_order
    ):
        return [_insert_one(connection, table, row, returning) for row in rows]
    # Rows that omit different server-defaulted columns need separate statements.
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, row in enumerate(rows):
        groups.setdefault(tuple(row), []).append(index)
    out: list[Row | None] = [None] * len(rows)
    for names, indexes in groups.items():
        batch = [rows[i] for i in indexes] if len(groups) > 1 else rows
        if dialect.name == "postgresql" and _unnest_fits(table, names, returning):
            returned = _insert_unnest(connection, table, names, batch, returning)
        elif dialect.name != "sqlite":
            statement = _insert_statement(table, returning, sort=True)
            returned = dicts(connection.execute(statement, batch))
        else:
            returned = _insert_sqlite(connection, table, batch, returning)
        for index, row in zip(indexes, returned, strict=True):
            out[index] = row
    return [row for row in out if row is not None]


@functools.lru_cache(maxsize=256)
def _insert_statement(
    table: sa.Table, returning: tuple[sa.ColumnElement[Any], ...], *, sort: bool
) -> sa.Insert:
    """`INSERT ... RETURNING`, built once: its parameters name the columns given at execution."""
    return sa.insert(table).returning(*returning, sort_by_parameter_order=sort)


def _unnest_fits(
    table: sa.Table,
    names: tuple[str, ...],
    returning: Sequence[sa.ColumnElement[Any]],
) -> bool:
    """Whether rows with these columns can go through `_insert_unnest`.

    The returned rows are put back in parameter order by their one primary key, so
    it must be returned, and given in every row or be a generated integer that
    follows the order of insertion (a sequence or identity, as SQLAlchemy's
    insertmanyvalues assumes).
    A column left out must have no Python-side default: `INSERT ... SELECT` would
    compute it once for all the rows.
    """
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or keys[0].name not in {c.key for c in returning}:
        return False  # a composite key, or one not returned: nothing to match rows by
    (key,) = keys
    if key.name not in names and table.autoincrement_column is not key:
        return False
    if any(c.default is not None for c in table.columns if c.name not in names):
        return False
    return all(
        issubclass(table.c[name].type._type_affinity or type(None), _ARRAY_SAFE)
        and not isinstance(_impl(table.c[name].type), sa.Enum)
        for name in names
    )


def _impl(type_: sa.types.TypeEngine[Any]) -> sa.types.TypeEngine[Any]:
    while isinstance(type_, sa.TypeDecorator):
        type_ = type_.impl_instance
    return type_


def _insert_unnest(
    connection: sa.Connection,
    table: sa.Table,
    names: tuple[str, ...],
    batch: list[dict[str, Any]],
    returning: tuple[sa.ColumnElement[Any], ...],
) -> list[Row]:
    """Batched inserts on PostgreSQL: one array parameter per column, one statement per `UNNEST_BATCH` rows.

    `INSERT ... SELECT ... FROM unnest(:a, :b) WITH ORDINALITY ORDER BY ordinality`
    sends each column once, as an array, instead of a VALUES list with a
    parameter per value, and inserts in parameter order, so generated keys
    ascend with it; the rows are matched back to their parameters by primary
    key, as on SQLite.
    """
    statement = _unnest_statement(table, names, returning)
    _send_binary(connection)
    returned: list[Row] = []
    for start in range(0, len(batch), UNNEST_BATCH):
        chunk = batch[start : start + UNNEST_BATCH]
        params = {name: [row[name] for row in chunk] for name in names}
        returned += _by_key(table, chunk, run_prepared(connection, statement, params))
    return returned


@functools.lru_cache(maxsize=256)
def _unnest_statement(
    table: sa.Table,
    names: tuple[str, ...],
    returning: tuple[sa.ColumnElement[Any], ...],
) -> Prepared:
    arrays = [
        sa.cast(
            sa.bindparam(name, type_=_Array(table.c[name].type)),
            postgresql.ARRAY(table.c[name].type),
        )
        for name in names
    ]
    rows = (
        sa.func.unnest(*arrays)
        .table_valued(*names, with_ordinality="ordinality")
        .render_derived()
    )
    select = sa.select(*(rows.c[name] for name in names)).order_by(rows.c.ordinality)
    return Prepared(
        sa.insert(table).from_select(list(names), select).returning(*returning)
    )


class _Array(sa.types.UserDefinedType[list[Any]]):
    """A list parameter of `item` values, each through `item`'s bind processor.

    Unlike `ARRAY(item)`, it hands the driver a list it sends in binary
    (see `_send_binary`); the statement casts it to the column's array type.
    """

    cache_ok = True

    def __init__(self, item: sa.types.TypeEngine[Any]) -> None:
        self.item = item

    def get_col_spec(self, **kw: Any) -> str:
        return "ARRAY"

    def bind_processor(
        self, dialect: sa.Dialect
    ) -> Callable[[list[Any] | None], Any] | None:
        item = self.item.dialect_impl(dialect).bind_processor(dialect)
        wrap = _BinaryList if dialect.driver in _PSYCOPG else list

        def process(values: list[Any] | None) -> Any:
            if values is None:
                return None
            return wrap(values if item is None else [item(v) for v in values])

        return process


class _BinaryList(list[Any]):
    """A list psycopg sends as a binary array, once `_send_binary` registered it."""


_PSYCOPG = frozenset({"psycopg", "psycopg_async"})


def _send_binary(connection: sa.Connection) -> None:
    """Have psycopg send `_BinaryList` parameters in binary on this connection.

    psycopg sends a plain list as a text array, quoting and escaping every item
    in Python: about twice the time of the binary format, where each item goes
    through psycopg's C dumpers. Only this private class is registered, on this
    connection: nothing else changes. asyncpg always sends arrays in binary.
    """
    if connection.dialect.driver in _PSYCOPG:
        from psycopg.types.array import ListBinaryDumper

        adapters = connection.connection.driver_connection.adapters  # type: ignore[union-attr]
        adapters.register_dumper(_BinaryList, ListBinaryDumper)


def _by_key(
    table: sa.Table, batch: list[dict[str, Any]], returned: list[Row]
) -> list[Row]:
    """Put the rows of one INSERT back in the order of its parameters, by primary key.

    A key the caller gave is matched directly; a generated one ascends in the
    order the rows were inserted.
    """
    (key,) = (c.name for c in table.primary_key.columns)
    if key in batch[0]:
        by_key = {row[key]: row for row in returned}
        return [by_key[row[key]] for row in batch]
    return sorted(returned, key=lambda row: row[key])


def _insert_sqlite(
    connection: sa.Connection,
    table: sa.Table,
    batch: list[dict[str, Any]],
    returning: Sequence[sa.ColumnElement[Any]],
) -> list[Row]:
    """Batched inserts on SQLite, rows matched back to their parameters by primary key.

    SQLAlchemy cannot promise SQLite's RETURNING order, so `sort_by_parameter_order`
    would send one statement per row. SQLite numbers new rows in the order of the
    VALUES, and the write lock is ours (BEGIN IMMEDIATE), so ascending generated
    keys follow the parameters; keys given by the caller are matched directly.
    """
    result = connection.execute(
        _insert_statement(table, tuple(returning), sort=False), batch
    )
    return _by_key(table, batch, dicts(result))


def _insert_one(
    connection: sa.Connection,
    table: sa.Table,
    row: dict[str, Any],
    returning: Sequence[sa.ColumnElement[Any]],
) -> Row:
    if connection.dialect.insert_returning:
        statement = _insert_statement(table, tuple(returning), sort=False)
        return dict(connection.execute(statement, row).mappings().one())
    # A server without INSERT ... RETURNING (MySQL): read the row back by its new key.
    result = connection.execute(sa.insert(table), row)
    keys = result.inserted_primary_key or ()
    where = [
        c == value for c, value in zip(table.primary_key.columns, keys, strict=True)
    ]
    return dict(
        connection.execute(sa.select(*returning).where(*where)).mappings().one()
    )


def upsert(
    connection: sa.Connection,
    table: sa.Table,
    values: Mapping[str, Any],
    *,
    on: Sequence[str],
    returning: Sequence[sa.ColumnElement[Any]],
) -> Row:
    """Insert `values` or update the row with the same `on` key, in one statement; the row's `returning` columns."""
    pk = {c.name for c in table.primary_key.columns}
    changes = [k for k in values if k not in on and k not in pk] or [on[0]]
    name = connection.dialect.name
    if name in ("postgresql", "sqlite"):
        insert = (postgresql.insert if name == "postgresql" else sqlite.insert)(
            table
        ).values(dict(values))
        statement: Any = insert.on_conflict_do_update(
            index_elements=[table.c[k] for k in on],
            set_={k: insert.excluded[k] for k in changes},
        ).returning(*returning)
        return dict(connection.execute(statement).mappings().one())
    mysql_insert = mysql.insert(table).values(dict(values))
    connection.execute(
        mysql_insert.on_duplicate_key_update(
            {k: mysql_insert.inserted[k] for k in changes}
        )
    )
    where = [table.c[k] == values[k] for k in on]
    return dict(
        connection.execute(sa.select(*returning).where(*where)).mappings().one()
    )
