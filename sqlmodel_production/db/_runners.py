"""Where a statement runs: the execution seam of routes and repositories.

Every statement a route or a repository runs goes to a `Runner`: a session's
connection in its transaction (`ConnectionRunner`) or a pooled connection of its
own (`PooledRunner`, in autocommit where the backend's profile allows it, on the
driver for `Prepared` statements). `where_to_run` is the one pure decision of where a
unit of work runs; the endpoints carry it out, sync and async alike.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ._backends import autocommits, profile_of
from ._driver import checkout, on_driver, run_on_driver
from ._prepared import NO_PARAMS, Prepared, Row, dicts, execute
from ._row_security import row_settings_active

__all__ = [
    "DIRECT_READS",
    "WROTE",
    "WROTE_NOW",
    "WROTE_RECENTLY",
    "ConnectionRunner",
    "Runner",
    "PooledRunner",
    "SessionState",
    "SessionLike",
    "RunOn",
    "WorkKind",
    "where_to_run",
    "connection_of",
    "runner_of",
    "pooled_runner",
    "session_state",
]


class Runner(Protocol):
    """Where statements run: `all` rows or the `first` one as dicts, `connection()` for the rest."""

    def all(
        self, statement: Prepared | sa.Select[Any], params: Mapping[str, Any] = ...
    ) -> list[Row]: ...

    def first(
        self, statement: Prepared | sa.Select[Any], params: Mapping[str, Any] = ...
    ) -> Row | None: ...

    def connection(self) -> sa.Connection: ...


class _FirstOfAll:
    """`first`, from a runner's `all`."""

    __slots__ = ()

    def all(
        self,
        statement: Prepared | sa.Select[Any],
        params: Mapping[str, Any] = NO_PARAMS,
    ) -> list[Row]:
        raise NotImplementedError  # each runner has its own

    def first(
        self,
        statement: Prepared | sa.Select[Any],
        params: Mapping[str, Any] = NO_PARAMS,
    ) -> Row | None:
        rows = self.all(statement, params)
        return rows[0] if rows else None


class ConnectionRunner(_FirstOfAll):
    """Statements on a SQLAlchemy `Connection` (a session's: in its transaction)."""

    __slots__ = ("_connection",)

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def all(
        self,
        statement: Prepared | sa.Select[Any],
        params: Mapping[str, Any] = NO_PARAMS,
    ) -> list[Row]:
        return dicts(self._connection.execute(execute(statement), params))

    def connection(self) -> sa.Connection:
        return self._connection


class PooledRunner(_FirstOfAll):
    """Statements on one pooled connection of their own, `Prepared` ones straight on the driver.

    Where the backend's profile allows it (PostgreSQL) the connection is in
    autocommit: each statement is its own transaction, with no `BEGIN`,
    `COMMIT` or `ROLLBACK` round trips, and reads see the latest committed data.
    Elsewhere the statements share one transaction, rolled back when the
    connection goes back to the pool: use it there for reads only. With
    `transaction` (row settings are active) they run in a transaction the
    `Connection` begins, so that its `begin` listeners set them: no autocommit,
    no driver path, reads only. Made by `pooled_runner(engine)`; not
    thread-safe, like the connection it holds.
    """

    def __init__(
        self, engine: Engine, pooled: Any, *, transaction: bool = False
    ) -> None:
        self.engine = engine
        self._pooled = pooled
        self._connection: sa.Connection | None = None
        self._transaction = transaction
        dialect = engine.dialect
        self._native = profile_of(dialect.name).native.get(dialect.driver)

    def all(
        self,
        statement: Prepared | sa.Select[Any],
        params: Mapping[str, Any] = NO_PARAMS,
    ) -> list[Row]:
        driver = None
        if not self._transaction:
            options = self.engine.get_execution_options()
            driver = on_driver(statement, self.engine, options)
        if driver is None:
            return dicts(self.connection().execute(execute(statement), params))
        return run_on_driver(
            *driver,
            params,
            self.engine,
            self._pooled,
            self._pooled.invalidate,
            self._native,
        )

    def connection(self) -> sa.Connection:
        """A `Connection` on the same pooled connection (in autocommit where the runner is)."""
        if self._connection is None:
            self._connection = sa.Connection(self.engine, connection=self._pooled)
            if self._transaction:
                self._connection.begin()
        return self._connection

    def close(self) -> None:
        """Give the connection back to the pool (a `Connection` made on it rolls back first)."""
        if self._connection is not None:
            self._connection.close()
        else:
            self._pooled.close()


@contextmanager
def pooled_runner(engine: Engine) -> Iterator[PooledRunner]:
    """A `PooledRunner` on a connection checked out of `engine`'s pool, returned on exit.

    On PostgreSQL the connection is put in autocommit (no `BEGIN`, no
    `ROLLBACK` on return) and set back before it goes back to the pool; on
    MariaDB the statements share one snapshot, rolled back on return; on SQLite
    each read sees the latest commit. While row settings are active
    (`db/_row_security.py`) the statements run in a transaction that sets them,
    rolled back on return.
    """
    pooled = checkout(engine)
    dbapi_connection: Any = pooled.dbapi_connection
    dialect = engine.dialect
    autocommit = autocommits(engine)
    runner = None
    try:
        if autocommit:
            dialect.set_isolation_level(dbapi_connection, "AUTOCOMMIT")
        runner = PooledRunner(engine, pooled, transaction=row_settings_active())
        yield runner
    finally:
        if autocommit and pooled.is_valid:
            try:
                dialect.reset_isolation_level(dbapi_connection)
            except (
                Exception
            ) as exc:  # a connection that broke: never raised over the work's error
                pooled.invalidate(exc)
        if runner is not None:
            runner.close()
        else:
            pooled.close()


SessionLike = Session | sa.Connection | Runner
"""What repository methods take: a session (its transaction), a connection, or a `Runner`."""


def runner_of(target: SessionLike) -> Runner:
    """The `Runner` of a session (its connection, in its transaction), of a connection, or `target` itself."""
    if isinstance(target, Session):
        return ConnectionRunner(target.connection())
    if isinstance(target, sa.Connection):
        return ConnectionRunner(target)
    return target


def connection_of(target: SessionLike) -> sa.Connection:
    """The `Connection` a write runs on: a session's, the connection itself, or a runner's."""
    if isinstance(target, sa.Connection):
        return target
    return target.connection()


# --- where a unit of work runs: one pure decision ------------------------------------


class WorkKind(enum.Enum):
    """What a unit of work does to the database."""

    READ = "read"
    """SELECTs only, on any `Runner`."""
    ORM_READ = "orm_read"
    """Reads through a session (ORM queries, loaders)."""
    SINGLE_WRITE = "single_write"
    """Changes the database with one statement (reads around it are fine)."""
    WRITE = "write"
    """Anything else that writes: a transaction, run again on a deadlock."""


class SessionState(enum.Enum):
    """The session a request brings to a unit of work."""

    NONE = "none"
    """No session: the request has none, one would be made for the work."""
    UNTOUCHED = "untouched"
    """The request's own session (`Database.session()`), which nothing used yet."""
    IDLE = "idle"
    """A session given to the request (an override, a test's), outside a transaction."""
    IN_TRANSACTION = "in_transaction"
    """A session with a transaction in progress (a dependency used it; a test's rolled-back one)."""


class RunOn(enum.Enum):
    """Where a unit of work runs."""

    POOLED = "pooled"
    """A pooled connection of its own (`PooledRunner`), retried on a deadlock."""
    REPLICA = "replica"
    """A pooled connection to a read replica, else as `POOLED` on the primary."""
    NEW_TRANSACTION = "new_transaction"
    """A transaction of the session, begun for the work, committed after it, retried on a deadlock."""
    OPEN_TRANSACTION = "open_transaction"
    """The session's transaction in progress: the work joins it and a write commits it; no retry,
    since the earlier work in it cannot be run again."""
    SESSION = "session"
    """Reads on the session (or its connection), seeing what the session sees."""


WROTE = "sqlmodel_production.wrote"
"""ASGI scope key: this request wrote (`WROTE_NOW`), or its client did recently (`WROTE_RECENTLY`):
its reads go to the primary."""
WROTE_NOW = "now"
WROTE_RECENTLY = "recently"

DIRECT_READS = "sqlmodel_production.direct_reads"
"""`session.info` key: the session is the per-request one `Database` made, so work may bypass it while it is untouched."""


def session_state(session: Session | None) -> SessionState:
    """The state of the session a request brings (None: it brings none)."""
    if session is None:
        return SessionState.NONE
    if session.in_transaction():
        return SessionState.IN_TRANSACTION
    if session.info.get(DIRECT_READS) and isinstance(session.bind, Engine):
        return SessionState.UNTOUCHED
    return SessionState.IDLE


def where_to_run(
    work: WorkKind, session: SessionState, *, autocommit: bool, replica: bool = False
) -> RunOn:
    """Where `work` runs, given the request's session and whether statements can autocommit.

    Reads, and single writes where a statement can be its own transaction,
    take a pooled connection of their own while the request has no session or
    an untouched one of its own; reads go to a replica when `replica` (there
    are replicas, and neither this request nor, recently, its client wrote).
    With any other session they run where that session would see them. Other
    writes begin a transaction of the session, or join the one in progress.
    """
    pooled = work is WorkKind.READ or (work is WorkKind.SINGLE_WRITE and autocommit)
    if pooled and session in (SessionState.NONE, SessionState.UNTOUCHED):
        return RunOn.REPLICA if replica and work is WorkKind.READ else RunOn.POOLED
    if work in (WorkKind.READ, WorkKind.ORM_READ):
        return RunOn.SESSION
    if session is SessionState.IN_TRANSACTION:
        return RunOn.OPEN_TRANSACTION
    return RunOn.NEW_TRANSACTION
