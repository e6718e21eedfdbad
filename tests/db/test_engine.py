"""Engine tuning, checked on the real servers through both drivers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from sqlmodel_production import Database
from sqlmodel_production.db import Backend
from sqlmodel_production.db._errors import ErrorKind, classify
from tests.conftest import Target, run_on_connection

DRIVERS = {
    (Backend.SQLITE, False): "pysqlite",
    (Backend.SQLITE, True): "aiosqlite",
    (Backend.POSTGRESQL, False): "psycopg",
    (Backend.POSTGRESQL, True): "asyncpg",
    (Backend.MARIADB, False): "pymysql",
    (Backend.MARIADB, True): "asyncmy",
}


def sync_engine_of(database: Database, target: Target) -> sa.Engine:
    return database.async_engine.sync_engine if target.async_ else database.engine


def test_driver_matches_backend(target: Target, database: Database) -> None:
    assert (
        sync_engine_of(database, target).dialect.driver
        == DRIVERS[(target.backend, target.async_)]
    )
    assert (
        run_on_connection(
            database, target.async_, lambda c: c.scalar(sa.text("SELECT 1"))
        )
        == 1
    )


def test_pool_is_bounded(target: Target, database: Database) -> None:
    # The pre-ping (only after `pool_ping_after` seconds idle) is tested in test_ping.py.
    pool = sync_engine_of(database, target).pool
    assert pool.timeout() == database.settings.pool_timeout  # type: ignore[attr-defined]
    assert pool.size() == database.settings.pool_size  # type: ignore[attr-defined]


def test_pool_keeps_its_connections_and_reuses_the_last_returned(
    target: Target, make_database: Callable[..., Database]
) -> None:
    """Under load up to `pool_size` nothing is closed; the last connection returned goes out first."""
    database = make_database(pool_size=3, max_overflow=2)

    def dbapi(conn: sa.Connection) -> int:
        return id(conn.connection.dbapi_connection)

    def sync_rounds() -> list[list[int]]:
        rounds = []
        for _ in range(2):
            with database.engine.connect() as a, database.engine.connect() as b:
                with database.engine.connect() as c:
                    rounds.append([dbapi(a), dbapi(b), dbapi(c)])
        with database.engine.connect() as a:
            rounds.append([dbapi(a)])
        return rounds

    async def async_rounds() -> list[list[int]]:
        engine = database.async_engine
        rounds = []
        try:
            for _ in range(2):
                async with engine.connect() as a, engine.connect() as b:
                    async with engine.connect() as c:
                        rounds.append([await x.run_sync(dbapi) for x in (a, b, c)])
            async with engine.connect() as a:
                rounds.append([await a.run_sync(dbapi)])
            return rounds
        finally:
            await engine.dispose()

    first, second, last = (
        asyncio.run(async_rounds()) if target.async_ else sync_rounds()
    )
    assert len(set(first)) == 3
    assert set(second) == set(first)  # none closed on return, none opened anew
    # The context managers return c, b, a: `a`, returned last, goes out first.
    assert last == [second[0]]


@pytest.mark.only(Backend.POSTGRESQL, Backend.MARIADB)
def test_statement_timeout_cancels_long_statements(
    target: Target, make_database: Callable[..., Database]
) -> None:
    database = make_database(statement_timeout=0.2)
    sleep = (
        "SELECT pg_sleep(3)"
        if target.backend is Backend.POSTGRESQL
        # SLEEP() is interrupted silently; a long computation is cancelled with error 1969.
        else (
            "SELECT COUNT(*) FROM information_schema.columns a, information_schema.columns b, information_schema.columns c"
        )
    )
    with pytest.raises(sa.exc.DBAPIError) as raised:
        run_on_connection(
            database, target.async_, lambda c: c.exec_driver_sql(sleep).all()
        )
    found = classify(raised.value)
    assert found is not None and found.kind is ErrorKind.STATEMENT_TIMEOUT


@pytest.mark.only(Backend.POSTGRESQL)
def test_postgresql_session_settings(
    target: Target, make_database: Callable[..., Database]
) -> None:
    database = make_database(application_name="heroes-api", statement_timeout=12.5)

    def read(conn: sa.Connection) -> tuple[object, ...]:
        return (
            conn.scalar(
                sa.text(
                    "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()"
                )
            ),
            conn.scalar(sa.text("SHOW statement_timeout")),
        )

    assert run_on_connection(database, target.async_, read) == ("heroes-api", "12500ms")


@pytest.mark.only(Backend.MARIADB)
def test_mariadb_session_settings(
    target: Target, make_database: Callable[..., Database]
) -> None:
    # A recycle above the server's default wait_timeout: the session timeout is raised past it.
    database = make_database(pool_recycle=40000, statement_timeout=7)

    def read(conn: sa.Connection) -> tuple[object, ...]:
        return tuple(
            conn.execute(
                sa.text(
                    "SELECT @@character_set_connection, @@session.time_zone, @@session.wait_timeout,"
                    " @@session.max_statement_time, @@session.sql_mode"
                )
            ).one()
        )

    charset, time_zone, wait_timeout, max_time, sql_mode = run_on_connection(
        database, target.async_, read
    )
    assert (charset, time_zone) == ("utf8mb4", "+00:00")
    assert int(wait_timeout) > 40000
    assert float(max_time) == 7
    assert "STRICT_ALL_TABLES" in str(sql_mode)


@pytest.mark.only(Backend.MARIADB)
def test_mariadb_default_recycle_is_below_server_wait_timeout(
    backend: Backend, database: Database
) -> None:
    global_wait = run_on_connection(
        database, False, lambda c: c.scalar(sa.text("SELECT @@global.wait_timeout"))
    )
    assert database.settings.pool_recycle < int(global_wait)


@pytest.mark.only(Backend.SQLITE)
def test_sqlite_pragmas(target: Target, make_database: Callable[..., Database]) -> None:
    database = make_database(sqlite_busy_timeout=2.5)

    def pragmas(conn: sa.Connection) -> tuple[object, ...]:
        return (
            conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
            conn.exec_driver_sql("PRAGMA foreign_keys").scalar(),
            conn.exec_driver_sql("PRAGMA busy_timeout").scalar(),
        )

    assert run_on_connection(database, target.async_, pragmas) == ("wal", 1, 2500)


@pytest.mark.only(Backend.SQLITE)
def test_sqlite_concurrent_read_modify_write_is_never_locked(
    backend: Backend, make_database: Callable[..., Database]
) -> None:
    """Eight threads each increment a counter 25 times with read-then-write transactions.

    With SQLite's default deferred BEGIN, two readers that both try to write deadlock
    and one gets "database is locked" at once; BEGIN IMMEDIATE queues them instead.
    """
    database = make_database(pool_size=8)
    with database.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (0)")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        for _ in range(25):
            try:
                with database.engine.begin() as conn:
                    n = conn.exec_driver_sql("SELECT n FROM counter").scalar_one()
                    conn.exec_driver_sql("UPDATE counter SET n = ?", (n + 1,))
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.engine.connect() as conn:
        total = conn.exec_driver_sql("SELECT n FROM counter").scalar_one()
    assert errors == []
    assert total == 200
