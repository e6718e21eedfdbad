"""Connection leaks, pool statistics and health endpoints on the real databases."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import SAWarning

from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.db import Backend
from sqlmodel_production.diagnostics import (
    ConnectionLeakError,
    DiagnosticsMiddleware,
    LeakDetector,
    health_router,
    pool_stats,
)
from tests.conftest import Target

from ._app import line_of


# The app with the problem, and the fixed one.
def leaky(database: Database) -> None:
    conn = database.engine.connect()  # checkout
    conn.execute(sa.text("SELECT 1"))


async def leaky_async(database: Database) -> None:
    conn = await database.async_engine.connect()  # checkout
    await conn.execute(sa.text("SELECT 1"))


def fixed(database: Database) -> None:
    with database.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


async def fixed_async(database: Database) -> None:
    async with database.async_engine.connect() as conn:
        await conn.execute(sa.text("SELECT 1"))


async def settle() -> None:
    """Let the loop take the result of aiosqlite's close of the collected connection."""
    for _ in range(200):
        if not any(
            "_connection_worker_thread" in t.name for t in threading.enumerate()
        ):
            return
        await asyncio.sleep(0.01)


def engine_of(database: Database, target: Target) -> Any:
    return database.async_engine if target.async_ else database.engine


def test_garbage_collected_connection_is_a_leak(
    target: Target, database: Database
) -> None:
    detector = LeakDetector(engine_of(database, target)).install()

    async def async_main() -> None:
        try:
            await fixed_async(database)
            assert detector.leaks == []
            # SQLAlchemy warns about this one itself (async pools only); we say where.
            with pytest.warns(SAWarning, match="garbage collector"):
                await leaky_async(database)
                gc.collect()
            await settle()
        finally:
            await database.dispose()

    if target.async_:
        asyncio.run(async_main())
    else:
        fixed(database)
        assert detector.leaks == []
        leaky(database)  # the sync pool takes it back without a word
        gc.collect()
    [leak] = detector.leaks
    assert leak.reason == "garbage-collected without being returned to the pool"
    fn = leaky_async if target.async_ else leaky
    assert (leak.checkout.site.filename, leak.checkout.site.lineno) == line_of(
        fn, "checkout"
    )  # type: ignore[union-attr]
    assert str(leak).startswith(
        "Connection leak: a connection checked out at tests/diagnostics/test_leaks.py:"
    )
    assert detector.checked_out() == []


def test_held_connections_and_pool_stats(target: Target, database: Database) -> None:
    engine = engine_of(database, target)
    detector = LeakDetector(engine, hold_threshold=3600).install()
    sync_engine = engine.sync_engine if target.async_ else engine
    size, overflow = database.settings.pool_size, database.settings.max_overflow

    def check(conn: sa.Connection) -> None:
        with sync_engine.connect() as second:  # second
            stats = pool_stats(engine)
            assert stats is not None
            assert (stats.size, stats.checked_out, stats.max_overflow) == (
                size,
                2,
                overflow,
            )
            assert stats.available == size + overflow - 2
            assert detector.held_longer_than() == []
            held = detector.held_longer_than(0)
            assert len(held) == 2
            assert held[1].site.lineno == line_of(check, "second")[1]  # type: ignore[union-attr]
            second.execute(sa.text("SELECT 1"))

    async def async_main() -> None:
        try:
            async with engine.connect() as conn:
                await conn.run_sync(check)
        finally:
            await database.dispose()

    if target.async_:
        asyncio.run(async_main())
    else:
        with engine.connect() as conn:
            check(conn)
    assert detector.checked_out() == []
    assert detector.leaks == []


def make_app(database: Database, detector: LeakDetector) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.add_middleware(DiagnosticsMiddleware, leaks=detector)
    kept: list[Any] = []

    @app.get("/sync/leak")
    def sync_leak() -> dict[str, int]:
        kept.append(database.engine.connect())  # checkout
        return {"ok": 1}

    @app.get("/sync/fine")
    def sync_fine() -> dict[str, int]:
        fixed(database)
        return {"ok": 1}

    @app.get("/sync/release")
    def sync_release() -> dict[str, int]:
        for conn in kept:
            conn.close()
        return {"ok": 1}

    @app.get("/async/leak")
    async def async_leak() -> dict[str, int]:
        kept.append(await database.async_engine.connect())  # checkout
        return {"ok": 1}

    @app.get("/async/fine")
    async def async_fine() -> dict[str, int]:
        await fixed_async(database)
        return {"ok": 1}

    @app.get("/async/release")
    async def async_release() -> dict[str, int]:
        for conn in kept:
            await conn.close()
        return {"ok": 1}

    app.state.kept = kept
    return app


@pytest.mark.parametrize("mode", ["log", "raise"])
def test_connection_not_returned_at_request_end(
    target: Target, database: Database, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = "/async" if target.async_ else "/sync"
    detector = LeakDetector(engine_of(database, target), mode=mode)
    app = make_app(database, detector)
    caplog.set_level(logging.WARNING, logger="sqlmodel_production.diagnostics")
    with TestClient(app) as client:
        assert client.get(f"{prefix}/fine").status_code == 200
        assert detector.leaks == []
        if mode == "raise":
            with pytest.raises(
                ConnectionLeakError, match="not returned when the request ended"
            ):
                client.get(f"{prefix}/leak")
        else:
            assert client.get(f"{prefix}/leak").status_code == 200
        client.get(f"{prefix}/release")
    [leak] = detector.leaks
    assert leak.reason == "not returned when the request ended"
    endpoint = app.routes[
        -1 if target.async_ else 0
    ]  # unused; the site is what matters
    del endpoint
    assert leak.checkout.site is not None
    assert leak.checkout.site.function == (
        "async_leak" if target.async_ else "sync_leak"
    )
    if mode == "log":
        assert [r.getMessage() for r in caplog.records] == [str(leak)]


def test_health_ready_and_live(target: Target, database: Database) -> None:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(health_router(database, async_=target.async_))
    with TestClient(app) as client:
        assert client.get("/health/live").json() == {"status": "ok"}
        response = client.get("/health/ready")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "database": "ok"},
    )


def check_ready_503(
    database: Database, async_: bool, deadline: float, reason: str
) -> None:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        health_router(database, deadline=deadline, retry_after=7, async_=async_)
    )
    with TestClient(app) as client:
        assert client.get("/health/live").status_code == 200
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json() == {"status": "unavailable", "database": reason}


# A probe abandoned at the deadline races the test's teardown where the driver cannot
# be interrupted cleanly: a sync probe's thread connects on after the response, and
# aiosqlite's worker thread answers into a closed event loop. asyncpg and asyncmy cancel
# cleanly, so the async probe is checked on the servers and the sync probe on SQLite.
@pytest.mark.only(Backend.POSTGRESQL, Backend.MARIADB)
def test_health_ready_503_past_the_deadline_async(
    backend: Backend, database: Database
) -> None:
    check_ready_503(database, True, 1e-9, "timeout")


@pytest.mark.only(Backend.SQLITE)
def test_health_ready_503_past_the_deadline_sync(
    backend: Backend, database: Database
) -> None:
    check_ready_503(database, False, 1e-9, "timeout")


@pytest.mark.sqlite
@pytest.mark.parametrize("async_", [False, True], ids=["sync", "async"])
def test_health_ready_503_when_unreachable(async_: bool, tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path}/missing/dir/x.db"  # cannot be opened
    database = Database(DatabaseSettings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    check_ready_503(database, async_, 5.0, "unavailable")
