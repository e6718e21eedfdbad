"""What went wrong, independent of the database that said so (pure: no I/O).

`ErrorKind` and `ClassifiedError`, and the reading of a driver's exception
chain: each backend's profile (`db/_backends`) holds its error table and reads
its own exceptions (a SQLSTATE, an error number, a result code name, with the
constraint, table and columns the message names); a plain socket error is a
lost connection whatever the backend.
"""

from __future__ import annotations

import enum
import errno
import socket
from dataclasses import dataclass

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
    """What a driver's exception says, read by the profile of the backend that raised it."""
    from sqlmodel_production.db._backends import Backend, profile_of

    sqlite_name = getattr(error, "sqlite_errorname", None)
    if isinstance(sqlite_name, str):
        return profile_of(Backend.SQLITE).read_error(error, sqlite_name)
    # MariaDB drivers put (errno, message) in args; PyMySQL also sets a coarse SQLSTATE
    # ("23000" for every integrity error), so the error number must win.
    args: tuple[object, ...] = getattr(error, "args", ())
    if len(args) >= 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return profile_of(Backend.MARIADB).read_error(error, args[0])
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        return profile_of(Backend.POSTGRESQL).read_error(error, sqlstate)
    return None
