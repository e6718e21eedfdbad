"""Every way a connection fails is a `ConnectionLost`, and the pool drops the dead connection.

Faults are induced on the real servers without touching them: a URL to a closed
port, `pg_terminate_backend` / `KILL CONNECTION` of the test's own connections.
Each test body is sync; on the async drivers it runs inside SQLAlchemy's
greenlet, so the same lines drive asyncpg, asyncmy and aiosqlite.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.util import greenlet_spawn

from sqlmodel_production import Database
from sqlmodel_production.db import Backend, sync_url
from sqlmodel_production.db._errors import (
    ConnectionLost,
    ErrorKind,
    classify,
    mark_lost_connections,
)
from sqlmodel_production.db._runners import pooled_runner
from tests.conftest import Target

T = TypeVar("T")
SERVERS = pytest.mark.only(Backend.POSTGRESQL, Backend.MARIADB)


def on_engine(database: Database, async_: bool, fn: Callable[[sa.Engine], T]) -> T:
    """Run `fn` on the sync engine, or on the async engine's sync face in its greenlet."""
    if not async_:
        return fn(database.engine)

    async def main() -> T:
        try:
            return await greenlet_spawn(fn, database.async_engine.sync_engine)
        finally:
            await database.async_engine.dispose()

    return asyncio.run(main())


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_id(conn: sa.Connection, backend: Backend) -> int:
    query = (
        "SELECT pg_backend_pid()"
        if backend is Backend.POSTGRESQL
        else "SELECT CONNECTION_ID()"
    )
    return int(conn.exec_driver_sql(query).scalar_one())


def kill(database: Database, backend: Backend, ident: int) -> None:
    """End the server side of connection `ident` from another connection."""
    admin = sa.create_engine(
        sync_url(database.settings.database_url), poolclass=sa.pool.NullPool
    )
    try:
        with admin.connect() as conn:
            if backend is Backend.POSTGRESQL:
                # The second argument waits (ms) until the backend has exited.
                conn.execute(
                    sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": ident}
                )
            else:
                conn.exec_driver_sql(f"KILL CONNECTION {ident}")
    finally:
        admin.dispose()


def assert_lost(error: BaseException) -> None:
    # A socket error while the pool connects reaches no listener (SQLAlchemy wraps only
    # the driver's errors there): asyncpg's is raised as is, and classified the same.
    assert isinstance(error, ConnectionLost | ConnectionRefusedError), repr(error)
    found = classify(error)
    assert found is not None and found.kind is ErrorKind.CONNECTION_LOST
    assert found.kind.transient and not found.outcome_unknown


@SERVERS
def test_refused_connect_is_connection_lost(
    target: Target, make_database: Callable[..., Database]
) -> None:
    url = sa.make_url(make_database().settings.database_url).set(port=closed_port())
    database = make_database(database_url=url.render_as_string(hide_password=False))

    def connect(engine: sa.Engine) -> BaseException:
        with pytest.raises((ConnectionLost, ConnectionRefusedError)) as raised:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        return raised.value

    assert_lost(on_engine(database, target.async_, connect))


@SERVERS
def test_refused_checkout_of_a_pooled_runner_is_connection_lost(
    target: Target, make_database: Callable[..., Database]
) -> None:
    url = sa.make_url(make_database().settings.database_url).set(port=closed_port())
    database = make_database(database_url=url.render_as_string(hide_password=False))

    def read(engine: sa.Engine) -> BaseException:
        with pytest.raises(ConnectionLost) as raised:
            with pooled_runner(engine) as reads:
                reads.all(sa.select(sa.literal(1)))
        return raised.value

    assert_lost(on_engine(database, target.async_, read))


@SERVERS
def test_killed_mid_transaction_then_the_next_checkout_works(
    target: Target, database: Database
) -> None:
    def run(engine: sa.Engine) -> BaseException:
        with pytest.raises(ConnectionLost) as raised:
            with engine.connect() as conn, conn.begin():
                kill(database, target.backend, server_id(conn, target.backend))
                conn.exec_driver_sql("SELECT 1").all()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
        return raised.value

    assert_lost(on_engine(database, target.async_, run))


@SERVERS
@pytest.mark.parametrize("path", ["connection", "direct"])
def test_killed_in_the_pool_is_dropped_after_one_failure(
    target: Target, make_database: Callable[..., Database], path: str
) -> None:
    # No ping at checkout: the pool hands out the dead connection once.
    database = make_database(pool_pre_ping=False, pool_size=1, max_overflow=0)

    def select_one(engine: sa.Engine) -> int:
        if path == "direct":
            with pooled_runner(engine) as reads:
                return int(reads.all(sa.select(sa.literal(1).label("one")))[0]["one"])
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT 1").scalar_one())

    def run(engine: sa.Engine) -> BaseException:
        with engine.connect() as conn:
            ident = server_id(conn, target.backend)
        kill(database, target.backend, ident)
        with pytest.raises(ConnectionLost) as raised:
            select_one(engine)
        assert select_one(engine) == 1
        with engine.connect() as conn:
            assert server_id(conn, target.backend) != ident
        return raised.value

    assert_lost(on_engine(database, target.async_, run))


@pytest.mark.only(Backend.POSTGRESQL)
def test_lost_during_commit_says_the_outcome_is_unknown(
    target: Target, database: Database
) -> None:
    # A deferred constraint trigger runs inside COMMIT; this one ends its own session.
    with database.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS cl_commit")
        conn.exec_driver_sql("CREATE TABLE cl_commit (id int)")
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION cl_die() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$"
        )
        conn.exec_driver_sql(
            "CREATE CONSTRAINT TRIGGER cl_die AFTER INSERT ON cl_commit "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cl_die()"
        )

    def run(engine: sa.Engine) -> BaseException:
        with pytest.raises(ConnectionLost) as raised:
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO cl_commit VALUES (1)")
        with engine.connect() as conn:  # and the pool recovers
            assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
        return raised.value

    error = on_engine(database, target.async_, run)
    assert isinstance(error, ConnectionLost) and error.outcome_unknown
    found = classify(error)
    assert found is not None and found.kind is ErrorKind.CONNECTION_LOST
    assert found.outcome_unknown


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)"),
        ConnectionResetError(104, "Connection reset by peer"),
        OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 1)"),
        TimeoutError(),
        socket.gaierror(-2, "Name or service not known"),
    ],
)
def test_raw_os_errors_of_drivers_are_connection_lost(error: OSError) -> None:
    found = classify(error)
    assert found is not None and found.kind is ErrorKind.CONNECTION_LOST


def test_other_os_errors_are_not_classified() -> None:
    assert classify(FileNotFoundError(2, "No such file")) is None
    assert classify(PermissionError(13, "Permission denied")) is None


def test_the_listener_is_installed_on_every_engine(
    backend: Backend, database: Database
) -> None:
    for engine in (database.engine, database.async_engine.sync_engine):
        assert sa.event.contains(engine, "handle_error", mark_lost_connections)


SERVER_GOING_AWAY = ["57P01", "57P02", "57P03", "57P04", "57P05", "08006", "08001"]


@pytest.mark.parametrize("sqlstate", SERVER_GOING_AWAY)
def test_asyncpg_errors_of_a_server_going_away_are_connection_lost(
    sqlstate: str,
) -> None:
    asyncpg = pytest.importorskip("asyncpg")
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi

    raw = asyncpg.exceptions.PostgresError.new(
        {"C": sqlstate, "M": "the database system is starting up"}
    )
    # Raw (as asyncpg raises it while connecting), adapted, and wrapped by SQLAlchemy.
    adapted = AsyncAdapt_asyncpg_dbapi(asyncpg).Error("adapted", raw)
    adapted.__cause__ = raw
    wrapped = sa.exc.DBAPIError(None, None, adapted)
    for error in (raw, adapted, wrapped):
        found = classify(error)
        assert found is not None and found.kind is ErrorKind.CONNECTION_LOST, error


@pytest.mark.parametrize("sqlstate", SERVER_GOING_AWAY)
def test_psycopg_errors_of_a_server_going_away_are_connection_lost(
    sqlstate: str,
) -> None:
    psycopg = pytest.importorskip("psycopg")
    raw = psycopg.errors.lookup(sqlstate)("terminating connection")
    for error in (raw, sa.exc.OperationalError(None, None, raw)):
        found = classify(error)
        assert found is not None and found.kind is ErrorKind.CONNECTION_LOST, error


@pytest.mark.parametrize("errno", [2002, 2003, 2006, 2013, 1927, 1053])
def test_mariadb_client_errors_are_connection_lost(errno: int) -> None:
    pymysql = pytest.importorskip("pymysql")
    raw = pymysql.err.OperationalError(errno, "Lost connection to server")
    found = classify(sa.exc.OperationalError(None, None, raw))
    assert found is not None and found.kind is ErrorKind.CONNECTION_LOST
