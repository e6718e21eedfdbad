"""Lost connections: one exception, and a `handle_error` listener that raises it (pure: no I/O).

A connection can fail in more ways than a driver reports with a code: a
refused or reset socket surfaces as a plain `OSError` (asyncpg's adapter
re-raises it unwrapped), a failed connect as an `OperationalError` without a
SQLSTATE. `mark_lost_connections`, a `handle_error` listener that every engine
of the package carries, raises all of them as one `ConnectionLost` and tells
the pool to drop the connection.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext

from sqlmodel_production._exceptions import ConnectionLost
from sqlmodel_production.db._classify import classify_chain
from sqlmodel_production.db._error_codes import ErrorKind

__all__ = [
    "ConnectionLost",
    "connection_failed",
    "lost_connection",
    "mark_lost_connections",
]


def connection_failed(error: BaseException) -> bool:
    """True when `error` (a SQLAlchemy, driver or `OSError`) says the connection failed."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    found = classify_chain(error)
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


_WRITE = re.compile(r"^\s*(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


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
    return isinstance(error, dbapi.OperationalError) and classify_chain(error) is None


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
