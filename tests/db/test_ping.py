"""The pre-ping tests a connection only after it sat idle in the pool, on the real servers.

A connection is killed on the server while it sits in the pool: whether the next
checkout replaces it (the query succeeds on a new server connection) or hands it out
(the query fails with a disconnect) shows whether the pool pinged it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.db import Backend, sync_url
from sqlmodel_production.db._engine import engine_options
from tests.conftest import Target

pytestmark = pytest.mark.only(Backend.POSTGRESQL, Backend.MARIADB)

Checkout = Callable[[Callable[[sa.Connection], Any]], Any]

# Longer than the threshold the tests set; the pool's idle clock is monotonic.
THRESHOLD = 0.05
IDLE = 0.1


@contextmanager
def checkouts(database: Database, async_: bool) -> Iterator[Checkout]:
    """Run functions each on a new checkout from one pool, sync or async.

    The async pool keeps its connections across checkouts (one event loop for the
    whole test), unlike `run_on_connection`, which disposes it after each call.
    """
    if not async_:

        def run(fn: Callable[[sa.Connection], Any]) -> Any:
            with database.engine.connect() as conn:
                return fn(conn)

        yield run
        return

    async def one(fn: Callable[[sa.Connection], Any]) -> Any:
        async with database.async_engine.connect() as conn:
            return await conn.run_sync(fn)

    with asyncio.Runner() as runner:
        try:
            yield lambda fn: runner.run(one(fn))
        finally:
            runner.run(database.async_engine.dispose())


def server_id(conn: sa.Connection) -> int:
    """The server's id of this connection's session."""
    query = (
        "SELECT pg_backend_pid()"
        if conn.dialect.name == "postgresql"
        else "SELECT CONNECTION_ID()"
    )
    return int(conn.exec_driver_sql(query).scalar_one())


def kill(database: Database, session: int) -> None:
    """End a server session from another connection, and wait until it is gone."""
    admin = sa.create_engine(
        sync_url(database.settings.database_url),
        poolclass=sa.NullPool,
        isolation_level="AUTOCOMMIT",
    )
    if admin.dialect.name == "postgresql":
        kill_sql = f"SELECT pg_terminate_backend({session})"
        alive_sql = f"SELECT count(*) FROM pg_stat_activity WHERE pid = {session}"
    else:
        kill_sql = f"KILL {session}"
        alive_sql = (
            f"SELECT count(*) FROM information_schema.processlist WHERE id = {session}"
        )
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(kill_sql)
            for _ in range(500):
                if not conn.exec_driver_sql(alive_sql).scalar_one():
                    return
                time.sleep(0.01)
        raise AssertionError(f"server session {session} still alive after the kill")
    finally:
        admin.dispose()


def test_connection_killed_while_idle_is_replaced_at_checkout(
    target: Target, make_database: Callable[..., Database]
) -> None:
    database = make_database(pool_size=1, max_overflow=0, pool_ping_after=THRESHOLD)
    with checkouts(database, target.async_) as checkout:
        first = checkout(server_id)
        kill(database, first)
        time.sleep(IDLE)
        second = checkout(server_id)
    assert second != first


def test_connection_reused_at_once_is_not_pinged(
    target: Target, make_database: Callable[..., Database]
) -> None:
    """Below the threshold the pool hands the dead connection out: no ping happened."""
    database = make_database(pool_size=1, max_overflow=0, pool_ping_after=60)
    with checkouts(database, target.async_) as checkout:
        first = checkout(server_id)
        kill(database, first)
        with pytest.raises(sa.exc.DBAPIError) as raised:
            checkout(server_id)
        assert raised.value.connection_invalidated
        # The failed query invalidated the connection: the next checkout gets a new one.
        assert checkout(server_id) != first


@pytest.mark.parametrize(
    "changes, overrides",
    [
        pytest.param({"pool_ping_after": 0}, {}, id="threshold-0"),
        pytest.param({"pool_ping_after": 60}, {"pool_pre_ping": True}, id="override"),
    ],
)
def test_every_checkout_is_pinged(
    target: Target,
    settings: DatabaseSettings,
    changes: dict[str, object],
    overrides: dict[str, object],
) -> None:
    """Threshold 0, or `pool_pre_ping=True` passed to the engine, is SQLAlchemy's own pre-ping."""
    database = Database(
        settings.model_copy(update={"pool_size": 1, "max_overflow": 0, **changes}),
        **overrides,
    )
    try:
        with checkouts(database, target.async_) as checkout:
            first = checkout(server_id)
            kill(database, first)
            second = checkout(server_id)
        assert second != first
    finally:
        asyncio.run(database.dispose())


def test_null_pool_connects_anew_at_every_checkout(
    target: Target, settings: DatabaseSettings
) -> None:
    """The PgBouncer set-up: no connection ever sits in the pool, none is pinged."""
    database = Database(
        settings.model_copy(update={"pool_ping_after": THRESHOLD}),
        poolclass=sa.NullPool,
    )
    try:
        with checkouts(database, target.async_) as checkout:
            first = checkout(server_id)
            time.sleep(IDLE)
            second = checkout(server_id)
        assert second != first
    finally:
        asyncio.run(database.dispose())


@pytest.mark.parametrize(
    "url, pre_ping, ping_after, expected",
    [
        ("postgresql://app@db/app", True, 1.0, False),
        ("postgresql://app@db/app", True, 0, True),
        ("postgresql://app@db/app", False, 0, False),
        ("mariadb://app@db/app", True, 1.0, False),
        ("mariadb://app@db/app", True, 0, True),
        ("sqlite:///app.db", True, 0, False),
    ],
)
def test_sqlalchemy_pre_ping_only_at_threshold_0(
    url: str, pre_ping: bool, ping_after: float, expected: bool
) -> None:
    """Above 0 the ping is the engine's checkout listener; SQLite has no server to ping."""
    settings = DatabaseSettings(
        _env_file=None,
        database_url=url,
        pool_pre_ping=pre_ping,
        pool_ping_after=ping_after,
    )
    for async_ in (False, True):
        assert engine_options(settings, async_=async_)[1]["pool_pre_ping"] is expected


def test_setting_reads_environment_and_rejects_negative(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert DatabaseSettings().pool_ping_after == 1.0
    monkeypatch.setenv("POOL_PING_AFTER", "0.25")
    assert DatabaseSettings().pool_ping_after == 0.25
    monkeypatch.setenv("POOL_PING_AFTER", "-1")
    with pytest.raises(ValidationError, match="pool_ping_after"):
        DatabaseSettings()
