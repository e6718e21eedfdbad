"""Which row of a write, and which field, a unique or foreign key error is about.

Where the database names neither (SQLite's "FOREIGN KEY constraint failed" names no
constraint, no column, no value), the parents the rows name are looked up in the
write's transaction, which these databases keep usable after a failed statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from sqlmodel_production.db import ClassifiedError, ErrorKind, classify
from sqlmodel_production.db.internal import (
    mark_columns,
    mark_row,
    offending_values,
    resolve_columns,
)

__all__ = ["locate_bulk_row", "name_missing_parent"]


def locate_bulk_row(
    error: BaseException,
    rows: Sequence[Any],
    metadata: sa.MetaData,
    connection: sa.Connection | None = None,
) -> None:
    """Find which of `rows` (written in one statement) a unique or foreign key error is about.

    The database prints the key values of the row at fault (PostgreSQL, MariaDB
    duplicates); they are matched against the rows sent and only the index is
    kept, for `classify` and the answer (`"row": 2`, or `loc: ["body", 2, ...]`).
    Of two rows with the same key, the second is the duplicate. Where it prints
    no values for a missing parent (MariaDB, SQLite), the parents the rows name
    are looked up on `connection`, in the write's transaction (which these
    databases keep usable after a failed statement): the first row whose parent
    is absent is the one.
    """
    found = classify(error)
    if found is None or found.kind not in (
        ErrorKind.UNIQUE_VIOLATION,
        ErrorKind.MISSING_REFERENCE,
    ):
        return
    resolved = resolve_columns(found, metadata)
    columns = resolved.columns
    values = offending_values(error)
    if not values or len(values) != len(columns):
        if found.kind is ErrorKind.MISSING_REFERENCE and connection is not None:
            missing = _first_without_parent(connection, metadata, resolved, rows)
            if missing is not None:
                mark_row(error, missing[0])
                if not resolved.columns:
                    mark_columns(error, (missing[1],))
        return
    matches = [
        index
        for index, row in enumerate(rows)
        if all(
            _printed(_value(row, column)) == value
            for column, value in zip(columns, values, strict=True)
        )
    ]
    if matches:
        duplicate = found.kind is ErrorKind.UNIQUE_VIOLATION and len(matches) > 1
        mark_row(error, matches[1] if duplicate else matches[0])


def name_missing_parent(
    error: BaseException,
    row: Mapping[str, Any],
    metadata: sa.MetaData,
    connection: sa.Connection,
) -> None:
    """Name the field of a missing-parent error about one row, where the database named none."""
    found = classify(error)
    if found is None or found.kind is not ErrorKind.MISSING_REFERENCE:
        return
    resolved = resolve_columns(found, metadata)
    if resolved.columns:
        return
    missing = _first_without_parent(connection, metadata, resolved, [row])
    if missing is not None:
        mark_columns(error, (missing[1],))


def _first_without_parent(
    connection: sa.Connection,
    metadata: sa.MetaData,
    error: ClassifiedError,
    rows: Sequence[Any],
) -> tuple[int, str] | None:
    """The first row whose (single-column) parent key is not in its table now, and that column.

    The error's column when it names one, else each single-column foreign key of
    the table in turn. None where that cannot be told; a failed lookup never
    replaces the error it explains.
    """
    table = metadata.tables.get(error.table or "")
    if table is None or len(error.columns) > 1:
        return None
    keys = [
        fk
        for constraint in table.foreign_key_constraints
        if len(constraint.column_keys) == 1
        and (not error.columns or constraint.column_keys == list(error.columns))
        for fk in constraint.elements
    ]
    absent = []
    for key in keys:
        column = key.parent.key
        parent = key.column
        wanted = {_value(row, column) for row in rows} - {None}
        if not wanted:
            continue
        if len(wanted) > _MAX_LOOKUP:
            return None
        try:
            present = set(
                connection.execute(
                    sa.select(parent).where(parent.in_(wanted))
                ).scalars()
            )
        except sa_exc.SQLAlchemyError:
            return None
        for index, row in enumerate(rows):
            value = _value(row, column)
            if value is not None and value not in present:
                absent.append((index, column))
                break
    return min(absent) if absent else None  # the parent arrived since: nothing to name


_MAX_LOOKUP = 1_000
"""At most this many distinct parent keys are looked up to name the row at fault."""


def _value(row: Any, column: str) -> Any:
    return row.get(column) if isinstance(row, Mapping) else getattr(row, column, None)


def _printed(value: Any) -> str | None:
    """`value` as a database prints it in an error, for the types printed alike everywhere."""
    if isinstance(value, bool) or value is None:
        return None
    return str(value) if isinstance(value, int | str) else None
