"""Inserting rows and upserting, with RETURNING in the same round trip.

What is the same on every backend lives here (one row, grouping rows by the
columns they name, which columns an upsert changes); the statements that differ
come from the backend's profile (`db/_backends`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sqlmodel_production.db.internal import (
    Row,
    insert_statement,
    profile_of,
    run_prepared,
)

__all__ = ["insert_rows", "upsert"]


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
    insert_batch = profile_of(dialect.name).insert_batch
    # Rows that omit different server-defaulted columns need separate statements.
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, row in enumerate(rows):
        groups.setdefault(tuple(row), []).append(index)
    out: list[Row | None] = [None] * len(rows)
    for names, indexes in groups.items():
        batch = [rows[i] for i in indexes] if len(groups) > 1 else rows
        returned = insert_batch(
            connection, table, names, batch, returning, run_prepared
        )
        for index, row in zip(indexes, returned, strict=True):
            out[index] = row
    return [row for row in out if row is not None]


def _insert_one(
    connection: sa.Connection,
    table: sa.Table,
    row: dict[str, Any],
    returning: tuple[sa.ColumnElement[Any], ...],
) -> Row:
    if connection.dialect.insert_returning:
        statement = insert_statement(table, returning, sort=False)
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
    keep: Collection[str] = (),
    guard: Sequence[str] = (),
) -> Row | None:
    """Insert `values` or update the row with the same `on` key, in one statement; the row's `returning` columns.

    The columns in `keep` are written by the insert only: an update leaves them
    as they are. A row of the same key whose `guard` columns differ from the
    values' (another tenant's) is left alone: None.
    """
    pk = {c.name for c in table.primary_key.columns}
    unchanged = {*on, *pk, *keep, *guard}
    changes = [k for k in values if k not in unchanged] or [on[0]]
    return profile_of(connection.dialect.name).upsert(
        connection, table, values, on, changes, returning, guard
    )
