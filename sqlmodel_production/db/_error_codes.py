"""What went wrong, independent of the database that said so (pure: no I/O).

`ErrorKind` and `ClassifiedError`: what each backend's profile (`db/_backends`)
reads from its own exceptions, and `_classify` reads from a chain of them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from typing_extensions import deprecated

__all__ = ["ClassifiedError", "DatabaseError", "ErrorKind"]


class ErrorKind(enum.StrEnum):
    """What went wrong, independent of the database that said so."""

    UNIQUE_VIOLATION = "unique_violation"
    MISSING_REFERENCE = "foreign_key_violation"
    STILL_REFERENCED = "still_referenced"
    NOT_NULL_VIOLATION = "not_null_violation"
    CHECK_VIOLATION = "check_violation"
    ROW_SECURITY_VIOLATION = "row_security_violation"
    """A written row is outside what the row-level security policies allow (PostgreSQL)."""
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
