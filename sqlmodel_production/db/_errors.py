"""Classify database errors by SQLSTATE / driver error code (pure: no I/O).

One table serves PostgreSQL (psycopg, asyncpg), MariaDB (PyMySQL, asyncmy) and
SQLite (sqlite3, aiosqlite) (`_error_codes`). Classification never depends on
the exception class alone: asyncpg reports a serialization failure as a plain
`DBAPIError`, PyMySQL reports a deadlock as an `OperationalError` and SQLite
reports every constraint as an `IntegrityError`. The result names constraints
and columns, never row values, so it is safe to show to a client. A lost
connection, in whatever form, is a `ConnectionLost` (`_disconnects`).
"""

from __future__ import annotations

import re
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from sqlmodel_production.db._classify import classify_chain, driver_errors
from sqlmodel_production.db._disconnects import ConnectionLost as ConnectionLost
from sqlmodel_production.db._disconnects import (
    connection_failed as connection_failed,
)
from sqlmodel_production.db._disconnects import lost_connection as lost_connection
from sqlmodel_production.db._disconnects import (
    mark_lost_connections as mark_lost_connections,
)
from sqlmodel_production.db._error_codes import ClassifiedError as ClassifiedError
from sqlmodel_production.db._error_codes import DatabaseError as DatabaseError
from sqlmodel_production.db._error_codes import ErrorKind as ErrorKind

__all__ = [
    "ClassifiedError",
    "ConnectionLost",
    "DatabaseError",
    "ErrorKind",
    "classify",
    "connection_failed",
    "lost_connection",
    "mark_lost_connections",
    "mark_row",
    "offending_values",
    "resolve_columns",
]


def classify(error: BaseException) -> ClassifiedError | None:
    """Classify an error raised by SQLAlchemy or a driver; None if it is not a known database error.

    Example:
        ```python
        try:
            session.commit()
        except sa.exc.DBAPIError as exc:
            if (found := classify(exc)) and found.kind is ErrorKind.UNIQUE_VIOLATION: ...
        ```
    """
    if isinstance(error, sa_exc.TimeoutError):
        return ClassifiedError(ErrorKind.POOL_TIMEOUT, code="pool_timeout")
    if isinstance(error, ConnectionLost):
        code = getattr(classify_chain(error), "code", "connection_lost")
        return ClassifiedError(
            ErrorKind.CONNECTION_LOST, code=code, outcome_unknown=error.outcome_unknown
        )
    if isinstance(error, OverflowError):
        # sqlite3 refuses an integer beyond 64 bits before SQLAlchemy can wrap the error.
        return ClassifiedError(ErrorKind.INVALID_DATA, code="overflow")
    statement = error.statement if isinstance(error, sa_exc.StatementError) else None
    chained = classify_chain(error)
    if chained is not None:
        found = _with_statement_table(chained, statement)
        row = getattr(error, _ROW, None)
        if row is not None:
            found = replace(found, row=row)
        columns = getattr(error, _COLUMNS, None)
        return (
            found
            if columns is None or found.columns
            else replace(found, columns=columns)
        )
    if character := _invalid_character(error):
        return ClassifiedError(ErrorKind.INVALID_CHARACTER, code=character)
    if isinstance(error, sa_exc.DataError) or any(
        type(e).__name__ == "DataError" for e in driver_errors(error)
    ):
        # PEP 249's DataError without a server code: asyncpg checks argument ranges client-side.
        return ClassifiedError(ErrorKind.INVALID_DATA, code="data_error")
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return ClassifiedError(ErrorKind.CONNECTION_LOST, code="connection_invalidated")
    return None


_ROW = "_sqlmodel_production_row"


def mark_row(error: BaseException, row: int) -> None:
    """Note on `error` that row `row` of a bulk write caused it (`classify` reports it)."""
    setattr(error, _ROW, row)


_COLUMNS = "_sqlmodel_production_columns"


def mark_columns(error: BaseException, columns: tuple[str, ...]) -> None:
    """Note on `error` the columns at fault, where the database named none (`classify` reports them)."""
    setattr(error, _COLUMNS, columns)


_PG_KEY_VALUES = re.compile(
    r"Key \((?P<columns>.+?)\)=\((?P<values>.*)\) (?:already exists|is not present)"
)
_MARIADB_DUPLICATE = re.compile(r"Duplicate entry '(?P<value>.*)' for key '")


def offending_values(error: BaseException) -> tuple[str, ...] | None:
    """The key values of the row at fault, as the database printed them.

    Only to find that row among those written: never show them to a client.
    PostgreSQL prints them for unique and foreign key violations, MariaDB for
    a duplicate; SQLite never.
    """
    for e in driver_errors(error):
        diag = getattr(e, "diag", None)
        detail = getattr(diag if diag is not None else e, "message_detail", None)
        detail = detail or getattr(e, "detail", None)
        if isinstance(detail, str) and (match := _PG_KEY_VALUES.search(detail)):
            columns = match["columns"].split(", ")
            values = tuple(match["values"].split(", "))
            return values if len(values) == len(columns) else None
        args: tuple[object, ...] = getattr(e, "args", ())
        if len(args) >= 2 and args[0] == 1062 and isinstance(args[1], str):
            if match := _MARIADB_DUPLICATE.search(args[1]):
                return (match["value"],)
    return None


def _invalid_character(error: BaseException) -> str | None:
    """A text the database cannot take, refused before it reached the server.

    psycopg refuses a NUL character in text itself; every driver fails to
    encode an unpaired surrogate (JSON can carry one: `"\\ud800"`).
    """
    for e in driver_errors(error):
        if isinstance(e, UnicodeEncodeError):
            return "unpaired_surrogate" if "surrogate" in e.reason else "unencodable"
        if type(e).__name__ == "DataError" and "NUL" in str(e):
            return "nul_character"
        if "surrogates not allowed" in str(e):  # asyncpg wraps the encoding error
            return "unpaired_surrogate"
    return None


def resolve_columns(error: ClassifiedError, metadata: sa.MetaData) -> ClassifiedError:
    """Fill in what the database left out, from the declared schema.

    PostgreSQL and MariaDB name a violated constraint but not always its columns;
    SQLite names columns but not constraints, and nothing at all for a foreign
    key. The metadata (your `SQLModel.metadata`) supplies the rest.
    """
    table = metadata.tables.get(error.table) if error.table else None
    candidates = [table] if table is not None else list(metadata.tables.values())
    for candidate in candidates:
        for name, columns in _named_column_sets(candidate, error.kind):
            if error.constraint and (
                name == error.constraint
                or (name is None and _mariadb_key_name(error.constraint, columns))
            ):
                return replace(
                    error, table=candidate.name, columns=error.columns or columns
                )
            if (
                not error.constraint
                and error.columns
                and set(columns) == set(error.columns)
            ):
                return replace(error, table=candidate.name, constraint=name)
    if (
        table is not None
        and error.kind is ErrorKind.MISSING_REFERENCE
        and not error.columns
        and len(table.foreign_key_constraints) == 1
    ):
        (fk,) = table.foreign_key_constraints
        return replace(
            error,
            constraint=str(fk.name) if fk.name else None,
            columns=tuple(fk.column_keys),
        )
    return error


def _mariadb_key_name(key: str, columns: tuple[str, ...]) -> bool:
    """Whether MariaDB would name an unnamed unique key on `columns` `key`.

    It names it after the first column (`name`, then `name_2`, ... when taken).
    """
    return (
        bool(columns)
        and re.fullmatch(rf"{re.escape(columns[0])}(_\d+)?", key) is not None
    )


def _named_column_sets(
    table: sa.Table, kind: ErrorKind
) -> list[tuple[str | None, tuple[str, ...]]]:
    if kind is ErrorKind.UNIQUE_VIOLATION:
        sets = [
            (c.name, tuple(c.columns.keys()))
            for c in table.constraints
            if isinstance(c, sa.UniqueConstraint | sa.PrimaryKeyConstraint)
        ]
        sets += [
            (i.name, tuple(c.name for c in i.columns))
            for i in table.indexes
            if i.unique
        ]
        return [(str(n) if n else None, cols) for n, cols in sets]
    if kind in (ErrorKind.MISSING_REFERENCE, ErrorKind.STILL_REFERENCED):
        return [
            (str(fk.name) if fk.name else None, tuple(fk.column_keys))
            for fk in table.foreign_key_constraints
        ]
    if kind is ErrorKind.CHECK_VIOLATION:
        return [
            (str(c.name) if c.name else None, ())
            for c in table.constraints
            if isinstance(c, sa.CheckConstraint)
        ]
    return []


_STATEMENT_TABLE = re.compile(
    r"^\s*(?:INSERT\s+(?:IGNORE\s+)?INTO|UPDATE|DELETE\s+FROM)\s+[`\"]?(?P<table>\w+)",
    re.IGNORECASE,
)


def _with_statement_table(
    found: ClassifiedError, statement: str | None
) -> ClassifiedError:
    """Name the table the statement wrote to when the database did not."""
    if statement is None:
        return found
    match = _STATEMENT_TABLE.match(statement)
    if match is None:
        return found
    if (
        found.kind is ErrorKind.MISSING_REFERENCE
        and statement.lstrip()[:6].upper() == "DELETE"
    ):
        # SQLite says only "FOREIGN KEY constraint failed"; on a delete it is the parent's side.
        return replace(found, kind=ErrorKind.STILL_REFERENCED, columns=())
    if found.table is None and found.kind is not ErrorKind.STILL_REFERENCED:
        return replace(found, table=match["table"])
    return found
