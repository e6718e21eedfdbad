"""The error tables of PostgreSQL, MariaDB and SQLite, and the parsers that read them (pure: no I/O).

Each driver's exception is read for what its database said: a SQLSTATE
(psycopg, asyncpg), an error number (PyMySQL, asyncmy) or an extended result
code name (sqlite3, aiosqlite), plus the constraint, table and columns the
message names; a plain socket error is a lost connection.
"""

from __future__ import annotations

import enum
import errno
import re
import socket
from dataclasses import dataclass, replace

from sqlalchemy import exc as sa_exc
from typing_extensions import deprecated

__all__ = ["ClassifiedError", "DatabaseError", "ErrorKind"]


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
