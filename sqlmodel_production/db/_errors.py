"""Classify database errors by SQLSTATE / driver error code (pure: no I/O).

One table serves PostgreSQL (psycopg, asyncpg), MariaDB (PyMySQL, asyncmy) and
SQLite (sqlite3, aiosqlite). Classification never depends on the exception
class alone: asyncpg reports a serialization failure as a plain `DBAPIError`,
PyMySQL reports a deadlock as an `OperationalError` and SQLite reports every
constraint as an `IntegrityError`. The result names constraints and columns,
never row values, so it is safe to show to a client.

A connection can fail in more ways than a driver reports with a code: a
refused or reset socket surfaces as a plain `OSError` (asyncpg's adapter
re-raises it unwrapped), a failed connect as an `OperationalError` without a
SQLSTATE. `mark_lost_connections`, a `handle_error` listener that every engine
of the package carries, raises all of them as one `ConnectionLost` and tells
the pool to drop the connection; `classify` recognizes them with or without it.
"""

from __future__ import annotations

import enum
import errno
import re
import socket
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext
from typing_extensions import deprecated

from sqlmodel_production._exceptions import SQLModelProductionError

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


class ErrorKind(enum.StrEnum):
    """What went wrong, independent of the database that said so."""

    UNIQUE_VIOLATION = "unique_violation"
    MISSING_REFERENCE = "foreign_key_violation"
    STILL_REFERENCED = "still_referenced"
    NOT_NULL_VIOLATION = "not_null_violation"
    CHECK_VIOLATION = "check_violation"
    INVALID_DATA = "invalid_data"
    INVALID_CHARACTER = "invalid_character"
    SERIALIZATION_FAILURE = "serialization_failure"
    DEADLOCK = "deadlock"
    LOCK_TIMEOUT = "lock_timeout"
    DATABASE_LOCKED = "database_locked"
    STATEMENT_TIMEOUT = "statement_timeout"
    CONNECTION_LOST = "connection_lost"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    POOL_TIMEOUT = "pool_timeout"

    @property
    def retryable(self) -> bool:
        """True when running the whole transaction again may succeed."""
        return self in _RETRYABLE

    @property
    def transient(self) -> bool:
        """True when the client may retry later (503 + Retry-After)."""
        return self in _TRANSIENT


_RETRYABLE = {
    ErrorKind.SERIALIZATION_FAILURE,
    ErrorKind.DEADLOCK,
    ErrorKind.LOCK_TIMEOUT,
    ErrorKind.DATABASE_LOCKED,
}
_TRANSIENT = _RETRYABLE | {
    ErrorKind.CONNECTION_LOST,
    ErrorKind.TOO_MANY_CONNECTIONS,
    ErrorKind.POOL_TIMEOUT,
}


@dataclass(frozen=True)
class ClassifiedError:
    """A classified database error.

    Attributes:
        kind: what went wrong.
        code: the SQLSTATE (PostgreSQL), error number (MariaDB) or extended result
            code name (SQLite) it was classified by.
        constraint: the violated constraint or index, when the database names it.
        table: the table the failing statement wrote to, when known.
        columns: the columns involved, when known.
        outcome_unknown: the connection was lost during `COMMIT`: the
            transaction may or may not have been committed.
        row: the index of the row at fault in a bulk write, when it is known.
    """

    kind: ErrorKind
    code: str
    constraint: str | None = None
    table: str | None = None
    columns: tuple[str, ...] = ()
    outcome_unknown: bool = False
    row: int | None = None


@deprecated(
    "DatabaseError is renamed ClassifiedError: it is a classification, not an exception"
)
class DatabaseError(ClassifiedError):
    """Deprecated: the former name of `ClassifiedError`."""


class ConnectionLost(SQLModelProductionError, sa_exc.OperationalError):
    """The connection to the database failed: at connect, at checkout, during a statement or a commit.

    Raised in place of the driver's error (kept as `orig`) by engines made with
    `create_engine` / `create_async_engine`, whatever form the driver gave it:
    an SQLSTATE of class 08 or 57P0x, a MariaDB client error 2002-2013, or a
    plain `OSError`. The pool has dropped the connection; the API answers 503
    with `Retry-After`.

    Attributes:
        outcome_unknown: True when the connection died during `COMMIT`: the
            transaction may or may not have been committed, so read before
            writing it again.
    """

    def __init__(
        self,
        statement: str | None,
        params: Any,
        orig: BaseException,
        *,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(statement, params, orig, connection_invalidated=True)
        self.outcome_unknown = outcome_unknown

    def __reduce__(self) -> Any:
        return _rebuild_connection_lost, (
            self.statement,
            self.params,
            self.orig,
            self.outcome_unknown,
        )


def _rebuild_connection_lost(
    statement: str | None, params: Any, orig: BaseException, outcome_unknown: bool
) -> ConnectionLost:
    return ConnectionLost(statement, params, orig, outcome_unknown=outcome_unknown)


# PostgreSQL SQLSTATEs; classes ("08") match every code that starts with them.
_POSTGRES = {
    "23505": ErrorKind.UNIQUE_VIOLATION,
    "23503": ErrorKind.MISSING_REFERENCE,  # refined below by the message
    "23502": ErrorKind.NOT_NULL_VIOLATION,
    "23514": ErrorKind.CHECK_VIOLATION,
    "22001": ErrorKind.INVALID_DATA,  # string too long
    "22003": ErrorKind.INVALID_DATA,  # numeric out of range
    "22P02": ErrorKind.INVALID_DATA,  # invalid text representation
    "22007": ErrorKind.INVALID_DATA,  # invalid datetime format
    "22008": ErrorKind.INVALID_DATA,  # datetime out of range
    "22021": ErrorKind.INVALID_CHARACTER,  # character not in repertoire (a NUL in text)
    "22P05": ErrorKind.INVALID_CHARACTER,  # untranslatable character
    "40001": ErrorKind.SERIALIZATION_FAILURE,
    "40P01": ErrorKind.DEADLOCK,
    "55P03": ErrorKind.LOCK_TIMEOUT,
    "57014": ErrorKind.STATEMENT_TIMEOUT,
    "53300": ErrorKind.TOO_MANY_CONNECTIONS,
    "57P01": ErrorKind.CONNECTION_LOST,  # admin shutdown (also pg_terminate_backend)
    "57P02": ErrorKind.CONNECTION_LOST,  # crash shutdown
    "57P03": ErrorKind.CONNECTION_LOST,  # cannot connect now (starting, stopping, recovering)
    "57P04": ErrorKind.CONNECTION_LOST,  # database dropped
    "57P05": ErrorKind.CONNECTION_LOST,  # idle session timeout
    "08": ErrorKind.CONNECTION_LOST,
}

# MariaDB / MySQL error numbers.
_MARIADB = {
    1062: ErrorKind.UNIQUE_VIOLATION,
    1586: ErrorKind.UNIQUE_VIOLATION,
    1452: ErrorKind.MISSING_REFERENCE,
    1451: ErrorKind.STILL_REFERENCED,
    1048: ErrorKind.NOT_NULL_VIOLATION,
    1364: ErrorKind.NOT_NULL_VIOLATION,  # field has no default
    3819: ErrorKind.CHECK_VIOLATION,  # MySQL
    4025: ErrorKind.CHECK_VIOLATION,  # MariaDB
    1406: ErrorKind.INVALID_DATA,  # data too long
    1264: ErrorKind.INVALID_DATA,  # out of range
    1366: ErrorKind.INVALID_DATA,  # incorrect value
    1292: ErrorKind.INVALID_DATA,  # truncated incorrect value
    1213: ErrorKind.DEADLOCK,
    1205: ErrorKind.LOCK_TIMEOUT,
    1969: ErrorKind.STATEMENT_TIMEOUT,  # MariaDB max_statement_time
    3024: ErrorKind.STATEMENT_TIMEOUT,  # MySQL max_execution_time
    1040: ErrorKind.TOO_MANY_CONNECTIONS,
    1203: ErrorKind.TOO_MANY_CONNECTIONS,  # max_user_connections
    2002: ErrorKind.CONNECTION_LOST,
    2003: ErrorKind.CONNECTION_LOST,
    2006: ErrorKind.CONNECTION_LOST,  # server has gone away
    2013: ErrorKind.CONNECTION_LOST,  # lost connection during query
    2055: ErrorKind.CONNECTION_LOST,
    2005: ErrorKind.CONNECTION_LOST,  # unknown server host
    2014: ErrorKind.CONNECTION_LOST,  # commands out of sync (a half-read answer)
    1927: ErrorKind.CONNECTION_LOST,  # connection was killed
    1053: ErrorKind.CONNECTION_LOST,  # server shutdown in progress
    1077: ErrorKind.CONNECTION_LOST,  # normal shutdown
    1079: ErrorKind.CONNECTION_LOST,  # shutdown complete
    1152: ErrorKind.CONNECTION_LOST,  # aborted connection
    1184: ErrorKind.CONNECTION_LOST,  # aborted new connection
}

# SQLite extended result code names (sqlite3 exceptions carry them since Python 3.11).
_SQLITE = {
    "SQLITE_CONSTRAINT_UNIQUE": ErrorKind.UNIQUE_VIOLATION,
    "SQLITE_CONSTRAINT_PRIMARYKEY": ErrorKind.UNIQUE_VIOLATION,
    "SQLITE_CONSTRAINT_FOREIGNKEY": ErrorKind.MISSING_REFERENCE,  # refined by the statement
    "SQLITE_CONSTRAINT_NOTNULL": ErrorKind.NOT_NULL_VIOLATION,
    "SQLITE_CONSTRAINT_CHECK": ErrorKind.CHECK_VIOLATION,
    "SQLITE_TOOBIG": ErrorKind.INVALID_DATA,
    "SQLITE_BUSY": ErrorKind.DATABASE_LOCKED,
    "SQLITE_BUSY_SNAPSHOT": ErrorKind.DATABASE_LOCKED,
    "SQLITE_BUSY_RECOVERY": ErrorKind.DATABASE_LOCKED,
    "SQLITE_LOCKED": ErrorKind.DATABASE_LOCKED,
    "SQLITE_LOCKED_SHAREDCACHE": ErrorKind.DATABASE_LOCKED,
}


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
        code = getattr(_classify_chain(error), "code", "connection_lost")
        return ClassifiedError(
            ErrorKind.CONNECTION_LOST, code=code, outcome_unknown=error.outcome_unknown
        )
    if isinstance(error, OverflowError):
        # sqlite3 refuses an integer beyond 64 bits before SQLAlchemy can wrap the error.
        return ClassifiedError(ErrorKind.INVALID_DATA, code="overflow")
    statement = error.statement if isinstance(error, sa_exc.StatementError) else None
    chained = _classify_chain(error)
    if chained is not None:
        found = _with_statement_table(chained, statement)
        row = getattr(error, _ROW, None)
        return found if row is None else replace(found, row=row)
    if character := _invalid_character(error):
        return ClassifiedError(ErrorKind.INVALID_CHARACTER, code=character)
    if isinstance(error, sa_exc.DataError) or any(
        type(e).__name__ == "DataError" for e in _driver_errors(error)
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
    for e in _driver_errors(error):
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
    for e in _driver_errors(error):
        if isinstance(e, UnicodeEncodeError):
            return "unpaired_surrogate" if "surrogate" in e.reason else "unencodable"
        if type(e).__name__ == "DataError" and "NUL" in str(e):
            return "nul_character"
        if "surrogates not allowed" in str(e):  # asyncpg wraps the encoding error
            return "unpaired_surrogate"
    return None


def connection_failed(error: BaseException) -> bool:
    """True when `error` (a SQLAlchemy, driver or `OSError`) says the connection failed."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    found = _classify_chain(error)
    return found is not None and found.kind is ErrorKind.CONNECTION_LOST


def mark_lost_connections(context: ExceptionContext) -> BaseException | None:
    """`handle_error` listener: raise every failed connection as `ConnectionLost`.

    It sets `is_disconnect`, so the pool drops the dead connection (and any
    older one) instead of handing it out again, for the failures the dialect
    does not recognize itself: SQLSTATEs 57P01-57P03 on asyncpg, plain
    `OSError`s, a failed connect without a SQLSTATE. Install it with
    `sqlalchemy.event.listen(engine, "handle_error", mark_lost_connections)`;
    the package's engines carry it already.
    """
    error = context.original_exception
    if not (
        context.is_disconnect
        or connection_failed(error)
        or _failed_to_connect(context, error)
    ):
        return None
    context.is_disconnect = True
    if context.is_pre_ping or not isinstance(error, Exception):
        return None  # the pool reconnects; an exit exception stays what it is
    lost = lost_connection(
        context.statement, context.parameters, error, _dbapi_connection_of(context)
    )
    lost.outcome_unknown = lost.outcome_unknown or _during_commit(error)
    return lost


def _dbapi_connection_of(context: ExceptionContext) -> Any:
    connection = context.connection
    if connection is None or connection.invalidated:
        return None
    try:
        return connection.connection.dbapi_connection
    except sa_exc.SQLAlchemyError:  # closed meanwhile
        return None


_WRITE = re.compile(r"^\s*(?:INSERT|UPDATE|DELETE|MERGE|WITH)\b", re.IGNORECASE)


def lost_connection(
    statement: str | None, params: Any, error: BaseException, dbapi_connection: Any
) -> ConnectionLost:
    """The `ConnectionLost` for `error`, raised by `statement` on `dbapi_connection`.

    A write that ran in autocommit was its own commit: its outcome is unknown.
    """
    unknown = (
        getattr(dbapi_connection, "autocommit", None) is True
        and statement is not None
        and _WRITE.match(statement) is not None
    )
    return ConnectionLost(statement, params, error, outcome_unknown=unknown)


def _failed_to_connect(context: ExceptionContext, error: BaseException) -> bool:
    """A connect that failed without a code (psycopg: "connection failed: ...")."""
    if context.connection is not None or context.is_pre_ping:
        return False
    dbapi = context.dialect.loaded_dbapi
    return isinstance(error, dbapi.OperationalError) and _classify_chain(error) is None


def _during_commit(error: BaseException) -> bool:
    """Whether `error` was raised inside the dialect's `do_commit`.

    SQLAlchemy reports a failed `COMMIT` with no statement, like a failed
    rollback; only the frames it passed through tell the two apart.
    """
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name in ("do_commit", "do_commit_twophase"):
            return True
        tb = tb.tb_next
    return False


# What an operating system says when the network path to the server fails.
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.EHOSTDOWN,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ENETRESET,
        errno.EADDRNOTAVAIL,
        errno.ENOTCONN,
        errno.ESHUTDOWN,
    }
)


def _is_network_error(error: BaseException) -> bool:
    if isinstance(
        error, ConnectionError | TimeoutError | socket.gaierror | socket.herror
    ):
        return True
    if not isinstance(error, OSError):
        return False
    if error.errno is not None:
        return error.errno in _NETWORK_ERRNOS
    # asyncio joins the failures of every address it tried into one plain OSError.
    return "Connect call failed" in str(error)


def _classify_chain(error: BaseException) -> ClassifiedError | None:
    """The first classification of the driver's errors under `error`, innermost first."""
    for driver_error in _driver_errors(error):
        found = _classify_driver_error(driver_error)
        if found is not None:
            return found
        if _is_network_error(driver_error):
            name = getattr(driver_error.__class__, "__name__", "OSError")
            return ClassifiedError(ErrorKind.CONNECTION_LOST, code=name)
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


def _driver_errors(error: BaseException) -> list[BaseException]:
    """The driver's exception and what it wraps, innermost first.

    asyncpg's own exception (with the constraint and column names) sits under
    SQLAlchemy's adapter exception, which carries only the SQLSTATE.
    """
    chain: list[BaseException] = []
    current: BaseException | None = (
        error.orig if isinstance(error, sa_exc.DBAPIError) else error
    )
    while current is not None and current not in chain and len(chain) < 4:
        chain.append(current)
        current = current.__cause__
    return chain[::-1]


def _classify_driver_error(error: BaseException) -> ClassifiedError | None:
    sqlite_name = getattr(error, "sqlite_errorname", None)
    if isinstance(sqlite_name, str):
        return _classify_sqlite(error, sqlite_name)
    # MariaDB drivers put (errno, message) in args; PyMySQL also sets a coarse SQLSTATE
    # ("23000" for every integrity error), so the error number must win.
    args: tuple[object, ...] = getattr(error, "args", ())
    if len(args) >= 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return _classify_mariadb(args[0], args[1])
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        return _classify_postgres(error, sqlstate)
    return None


_PG_KEY = re.compile(r"Key \((?P<columns>[^)]+)\)=")


def _classify_postgres(error: BaseException, sqlstate: str) -> ClassifiedError | None:
    kind = _POSTGRES.get(sqlstate) or _POSTGRES.get(sqlstate[:2])
    if kind is None:
        return None
    diag = getattr(
        error, "diag", None
    )  # psycopg keeps details on .diag, asyncpg on the error
    source = diag if diag is not None else error
    detail = (
        getattr(source, "message_detail", None) or getattr(source, "detail", None) or ""
    )
    if kind is ErrorKind.MISSING_REFERENCE and "still referenced" in detail:
        kind = ErrorKind.STILL_REFERENCED
    columns: tuple[str, ...] = ()
    if match := _PG_KEY.search(detail):
        columns = tuple(c.strip().strip('"') for c in match["columns"].split(","))
    elif column := getattr(source, "column_name", None):
        columns = (column,)
    table = getattr(source, "table_name", None)
    if kind is ErrorKind.STILL_REFERENCED:
        table, columns = (
            None,
            (),
        )  # those name the referencing table, not the one written to
    return ClassifiedError(
        kind,
        code=sqlstate,
        constraint=getattr(source, "constraint_name", None),
        table=table,
        columns=columns,
    )


_MARIADB_FK = re.compile(
    r"\(`[^`]*`\.`(?P<table>[^`]+)`, CONSTRAINT `(?P<constraint>[^`]+)` FOREIGN KEY \((?P<columns>[^)]+)\)"
)
_MARIADB_KEY = re.compile(r"for key '(?:[^'.]+\.)?(?P<constraint>[^']+)'")
_MARIADB_COLUMN = re.compile(r"[Cc]olumn '(?P<column>[^']+)'")
_MARIADB_CHECK = re.compile(r"CONSTRAINT `(?P<constraint>[^`]+)` failed")


def _classify_mariadb(errno: int, message: str) -> ClassifiedError | None:
    kind = _MARIADB.get(errno)
    if kind is None:
        return None
    found = ClassifiedError(kind, code=str(errno))
    if match := _MARIADB_FK.search(message):
        columns = tuple(c.strip(" `") for c in match["columns"].split(","))
        if kind is ErrorKind.MISSING_REFERENCE:
            return replace(
                found,
                constraint=match["constraint"],
                table=match["table"],
                columns=columns,
            )
        return replace(found, constraint=match["constraint"])
    if match := _MARIADB_KEY.search(message):
        return replace(found, constraint=match["constraint"])
    if match := _MARIADB_CHECK.search(message):
        return replace(found, constraint=match["constraint"])
    if match := _MARIADB_COLUMN.search(message):
        return replace(found, columns=(match["column"],))
    return found


_SQLITE_COLUMNS = re.compile(r"constraint failed: (?P<columns>.+)$")


def _classify_sqlite(error: BaseException, name: str) -> ClassifiedError | None:
    kind = _SQLITE.get(name)
    if name == "SQLITE_CONSTRAINT_TRIGGER" and "FOREIGN KEY" in str(error):
        # ON DELETE / ON UPDATE RESTRICT fires as a trigger: the parent is still referenced.
        return ClassifiedError(ErrorKind.STILL_REFERENCED, code=name)
    if kind is None:
        return None
    found = ClassifiedError(kind, code=name)
    match = _SQLITE_COLUMNS.search(str(error))
    if match is None:
        return found
    if kind is ErrorKind.CHECK_VIOLATION:
        return replace(found, constraint=match["columns"].strip())
    qualified = [c.strip() for c in match["columns"].split(",")]
    tables = {c.partition(".")[0] for c in qualified if "." in c}
    return replace(
        found,
        table=tables.pop() if len(tables) == 1 else None,
        columns=tuple(c.rpartition(".")[2] for c in qualified),
    )


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
