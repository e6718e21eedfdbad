"""Failures induced on the real servers reach clients as clear 4xx / 5xx answers, and lose nothing."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from sqlmodel_production import Database
from sqlmodel_production.db import Backend
from sqlmodel_production.demo.app import create_app
from tests.conftest import Target
from tests.demo.conftest import create_tables, drop_tables


@pytest.fixture
def serve(
    target: Target, make_database: Callable[..., Database]
) -> Iterator[Callable[..., tuple[TestClient, Database]]]:
    """Serve the router-built reference service on a database with some settings changed."""
    opened: list[tuple[TestClient, Database]] = []

    def serve(
        prepare: Callable[[sa.Engine], None] | None = None, **settings: object
    ) -> tuple[TestClient, Database]:
        database = make_database(**settings)
        if prepare is not None:  # before the first connection of either engine
            prepare(database.engine)
            prepare(database.async_engine.sync_engine)
        create_tables(database)
        client = TestClient(create_app(database, async_=target.async_)).__enter__()
        opened.append((client, database))
        return client, database

    yield serve
    for client, database in opened:
        client.__exit__(None, None, None)
        drop_tables(database)


@pytest.mark.only(Backend.POSTGRESQL, Backend.MARIADB)
def test_twenty_concurrent_creates_of_one_name_give_one_team(
    serve: Callable[..., tuple[TestClient, Database]],
) -> None:
    client, _ = serve(pool_size=10, max_overflow=10)
    start = threading.Barrier(20)

    def create(_: int) -> int:
        start.wait()
        return client.post(
            "/teams/", json={"name": "Z-Force", "headquarters": "Bar"}
        ).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(pool.map(create, range(20)))
    assert statuses == [200] + [409] * 19
    assert len(client.get("/teams/").json()) == 1


def test_exhausted_pool_is_503_with_retry_after(
    target: Target, serve: Callable[..., tuple[TestClient, Database]]
) -> None:
    client, database = serve(pool_size=1, max_overflow=0, pool_timeout=0.2)

    async def hold_async(held: asyncio.Event, release: threading.Event) -> None:
        async with database.async_engine.connect():
            held.set()
            await asyncio.to_thread(release.wait)

    release = threading.Event()
    if target.async_:
        # Async connections belong to the app's event loop: hold one there.
        held = client.portal.call(asyncio.Event)  # type: ignore[union-attr]
        future = client.portal.start_task_soon(hold_async, held, release)  # type: ignore[union-attr]
        client.portal.call(held.wait)  # type: ignore[union-attr]
    else:
        connection = database.engine.connect()
    try:
        response = client.get("/heroes/")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert response.json()["code"] == "pool_timeout"
    finally:
        release.set()
        if target.async_:
            future.result(timeout=5)
        else:
            connection.close()
    assert client.get("/heroes/").status_code == 200


@pytest.mark.only(Backend.POSTGRESQL)
def test_statement_timeout_while_waiting_for_a_lock_is_504(
    serve: Callable[..., tuple[TestClient, Database]],
) -> None:
    client, database = serve(statement_timeout=0.3)
    hero = client.post("/heroes/", json={"name": "A", "secret_name": "s"}).json()
    with database.engine.connect() as blocker, blocker.begin():
        blocker.execute(
            sa.text("SELECT id FROM hero WHERE id = :id FOR UPDATE"), {"id": hero["id"]}
        )
        response = client.patch(f"/heroes/{hero['id']}", json={"name": "B"})
        assert response.status_code == 504
        assert response.json()["code"] == "statement_timeout"
    assert client.get(f"/heroes/{hero['id']}").json()["name"] == "A"


def short_lock_waits(engine: sa.Engine) -> None:
    sa.event.listen(
        engine,
        "connect",
        lambda dbapi, _: dbapi.cursor().execute(
            "SET SESSION innodb_lock_wait_timeout = 1"
        ),
    )


@pytest.mark.only(Backend.MARIADB)
def test_lock_wait_timeout_is_retried_then_503(
    serve: Callable[..., tuple[TestClient, Database]],
) -> None:
    client, database = serve(prepare=short_lock_waits)
    hero = client.post("/heroes/", json={"name": "A", "secret_name": "s"}).json()
    with database.engine.connect() as blocker, blocker.begin():
        blocker.execute(
            sa.text("SELECT id FROM hero WHERE id = :id FOR UPDATE"), {"id": hero["id"]}
        )
        response = client.patch(f"/heroes/{hero['id']}", json={"name": "B"})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert response.json()["code"] == "lock_timeout"
    assert client.get(f"/heroes/{hero['id']}").json()["name"] == "A"


@pytest.mark.only(Backend.SQLITE)
def test_sqlite_database_locked_is_retried_then_503(
    target: Target, serve: Callable[..., tuple[TestClient, Database]]
) -> None:
    client, database = serve(sqlite_busy_timeout=0.05)
    other = Database(database.settings)
    try:
        with other.engine.begin() as blocker:
            blocker.exec_driver_sql(
                "SELECT 1"
            )  # BEGIN IMMEDIATE: another writer holds the lock
            response = client.post("/teams/", json={"name": "Z", "headquarters": "h"})
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "1"
            assert response.json()["code"] == "database_locked"
        assert (
            client.post("/teams/", json={"name": "Z", "headquarters": "h"}).status_code
            == 200
        )
    finally:
        other.engine.dispose()


LOCK = {
    Backend.POSTGRESQL: (
        "LOCK TABLE team IN SHARE MODE",
        # This database's only: tests of other workers lock tables of the same OIDs.
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'team'::regclass "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    ),
    Backend.MARIADB: (
        "LOCK TABLES team READ",
        "SELECT count(*) FROM information_schema.processlist "
        "WHERE state LIKE 'Waiting for table%' AND db = DATABASE()",
    ),
}


@pytest.mark.only(Backend.POSTGRESQL, Backend.MARIADB)
def test_a_real_deadlock_between_two_requests_is_retried(
    target: Target,
    serve: Callable[..., tuple[TestClient, Database]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two bulk creates insert the same names in opposite orders and deadlock on the unique index.

    A third connection holds a table lock until both INSERTs wait behind it, so they start
    together and meet in the middle. The database picks a victim; its whole transaction is
    run again, finds the other's rows committed, and answers 409. Neither request sees a
    500 or a 503, and exactly one batch lands.
    """
    client, database = serve(pool_size=4)
    caplog.set_level(logging.INFO, logger="sqlmodel_production.transactions")
    lock, waiting = LOCK[target.backend]
    size, rounds = 500, 30  # a busy machine (parallel test workers) may need many

    def create(rows: list[str]) -> int:
        body = [{"name": name, "headquarters": "HQ"} for name in rows]
        return client.post("/teams/bulk", json=body).status_code

    # Who wins the race is the database's choice: repeat until it deadlocks.
    for round_ in range(rounds):
        batch = [f"r{round_}-team-{i:04}" for i in range(size)]
        with database.engine.connect() as blocker, ThreadPoolExecutor(2) as pool:
            blocker.exec_driver_sql(lock)
            futures = [pool.submit(create, rows) for rows in (batch, batch[::-1])]
            with database.engine.connect() as probe:
                for _ in range(200):  # at most ~10 s for both INSERTs to queue
                    if probe.execute(sa.text(waiting)).scalar_one() >= 2:
                        break
                    time.sleep(0.05)
                else:
                    pytest.fail("the two INSERTs never waited behind the lock")
            if target.backend is Backend.MARIADB:
                blocker.exec_driver_sql("UNLOCK TABLES")
            else:
                blocker.commit()
            statuses = sorted(future.result(timeout=60) for future in futures)
        assert statuses == [200, 409]
        if any(getattr(r, "error_kind", None) == "deadlock" for r in caplog.records):
            break
    else:
        pytest.fail(f"no deadlock in {rounds} rounds: the test did not induce it")
    teams = client.get("/teams/", params={"limit": 1, "count": True})
    assert teams.headers["X-Total-Count"] == str(size * (round_ + 1))


def early_deadlock_detection(engine: sa.Engine) -> None:
    def on_connect(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("SET deadlock_timeout = '2s'")
        cursor.close()
        dbapi_connection.commit()  # type: ignore[attr-defined]

    sa.event.listen(engine, "connect", on_connect)


@pytest.mark.only(Backend.POSTGRESQL)
def test_a_single_statement_write_that_deadlocks_is_retried(
    serve: Callable[..., tuple[TestClient, Database]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A PATCH (one UPDATE, in autocommit) deadlocks with another transaction and is run again.

    The other transaction locks the team; the PATCH locks the hero, then waits for a key
    share of the team; the other transaction then wants the hero. The PATCH's server
    process looks for deadlocks first (2 s against 20 s), so it is the victim. PostgreSQL
    looks once, when the timeout ends: the other transaction must be waiting by then.
    """
    client, database = serve(prepare=early_deadlock_detection)
    caplog.set_level(logging.INFO, logger="sqlmodel_production.transactions")
    team = client.post("/teams/", json={"name": "T", "headquarters": "h"}).json()
    hero = client.post("/heroes/", json={"name": "A", "secret_name": "s"}).json()
    with database.engine.connect() as other, ThreadPoolExecutor(1) as pool:
        other.exec_driver_sql("SET deadlock_timeout = '20s'")
        other.execute(
            sa.text("SELECT id FROM team WHERE id = :id FOR UPDATE"), {"id": team["id"]}
        )
        patched = pool.submit(
            client.patch, f"/heroes/{hero['id']}", json={"team_id": team["id"]}
        )
        for _ in range(200):
            waiting = (  # behind this connection: other test workers wait on locks too
                "SELECT count(*) FROM pg_locks WHERE NOT granted "
                "AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
            )
            if other.exec_driver_sql(waiting).scalar_one() >= 1:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the PATCH never waited for the team's lock")
        other.execute(
            sa.text("UPDATE hero SET name = 'B' WHERE id = :id"), {"id": hero["id"]}
        )
        other.commit()
        response = patched.result(timeout=30)
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["team_id"]) == ("B", team["id"])
    retried = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert [getattr(r, "error_kind", None) for r in retried] == ["deadlock"]
