"""Inserting rows and upserting, per dialect, with RETURNING in the same round trip."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

__all__ = ["insert_rows", "upsert"]

Row = dict[str, Any]


def insert_rows(
    connection: sa.Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    *,
    returning: Sequence[sa.ColumnElement[Any]],
) -> list[Row]:
    """Insert `rows` in batched statements; each row's `returning` columns, in the order given."""
    if not connection.dialect.insert_executemany_returning_sort_by_parameter_order:
        return [_insert_one(connection, table, row, returning) for row in rows]
    # Rows that omit different server-defaulted columns need separate statements.
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, row in enumerate(rows):
        groups.setdefault(tuple(row), []).append(index)
    out: list[Row | None] = [None] * len(rows)
    for indexes in groups.values():
        batch = [rows[i] for i in indexes]
        if connection.dialect.name != "sqlite":
            statement = sa.insert(table).returning(
                *returning, sort_by_parameter_order=True
            )
            returned = [
                dict(r) for r in connection.execute(statement, batch).mappings()
            ]
        else:
            returned = _insert_sqlite(connection, table, batch, returning)
        for index, row in zip(indexes, returned, strict=True):
            out[index] = row
    return [row for row in out if row is not None]


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
    result = connection.execute(sa.insert(table).returning(*returning), batch)
    returned = [dict(r) for r in result.mappings()]
    (key,) = (c.name for c in table.primary_key.columns)
    if key in batch[0]:
        by_key = {row[key]: row for row in returned}
        return [by_key[row[key]] for row in batch]
    return sorted(returned, key=lambda row: row[key])


def _insert_one(
    connection: sa.Connection,
    table: sa.Table,
    row: dict[str, Any],
    returning: Sequence[sa.ColumnElement[Any]],
) -> Row:
    if connection.dialect.insert_returning:
        statement = sa.insert(table).values(row).returning(*returning)
        return dict(connection.execute(statement).mappings().one())
    # A server without INSERT ... RETURNING (MySQL): read the row back by its new key.
    result = connection.execute(sa.insert(table).values(row))
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
