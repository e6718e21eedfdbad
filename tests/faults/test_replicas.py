"""A replica cut off from its primary, or whose replay is paused, serves nothing stale past the bound.

Run on a throwaway PostgreSQL primary and a streaming replica of its own
(`make faults`), directly and through a PgBouncer in front of each, with the
sync and the async router. Replicas are PostgreSQL streaming replicas only;
the read-your-writes marker these tests also route by is the same on every
backend (`tests/api/test_read_your_writes.py`).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel

from faults._servers import PostgresReplica, PostgresServer, ServerMissing
from sqlmodel_production import Database, DatabaseSettings, health_router
from sqlmodel_production.api import (
    AsyncSessionDep,
    ReadYourWritesMiddleware,
    SessionDep,
    crud_router,
    install_error_handlers,
)
from sqlmodel_production.db import Backend
from tests.conftest import Target

pytestmark = [pytest.mark.faults, pytest.mark.only(Backend.POSTGRESQL)]

MAX_LAG = 1.0
INTERVAL = 0.2
BOUND = MAX_LAG + INTERVAL
"""No read misses a write committed longer ago than this."""


class RpNote(SQLModel, table=True):
    __tablename__ = "rp_note"
    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=50)


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[PostgresServer, PostgresReplica]]:
    """A throwaway primary with the table, and a streaming replica of it."""
    try:
        primary = PostgresServer()
    except ServerMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}; CI runs the fault suite", pytrace=False)
        pytest.skip(str(exc))
    try:
        engine = sa.create_engine(primary.admin_url)
        with engine.begin() as conn:
            SQLModel.metadata.create_all(conn, tables=[RpNote.__table__])  # type: ignore[attr-defined]
        engine.dispose()
        replica = PostgresReplica(primary)
        try:
            yield primary, replica
        finally:
            replica.close()
    finally:
        primary.close()


def build_app(database: Database, async_: bool) -> FastAPI:
    """The router on `rp_note`, a hand-written create, the details, and where a read-only session lands."""
    app = FastAPI(lifespan=database.lifespan)
    install_error_handlers(app)
    app.include_router(crud_router(RpNote, prefix="/notes", async_=async_))
    app.include_router(health_router(database, async_=async_, details=[]))
    port = sa.text("SELECT inet_server_port()")
    if async_:

        @app.get("/where")
        async def where() -> int:
            async with database.async_read_only_session() as session:
                found = await session.exec(port)  # type: ignore[call-overload]
                return int(found.scalar_one())

        @app.post("/handwritten")
        async def create(session: AsyncSessionDep, text: str) -> int:
            note = RpNote(text=text)
            session.add(note)
            await session.commit()
            assert note.id is not None
            return note.id

    else:

        @app.get("/where")
        def where() -> int:
            with database.read_only_session() as session:
                return int(session.exec(port).scalar_one())  # type: ignore[call-overload]

        @app.post("/handwritten")
        def create(session: SessionDep, text: str) -> int:
            note = RpNote(text=text)
            session.add(note)
            session.commit()
            assert note.id is not None
            return note.id

    return app


@pytest.fixture
def serve(target: Target) -> Iterator[Callable[..., TestClient]]:
    made: list[tuple[TestClient, Database]] = []

    def serve(*, middleware: bool = False, **settings: Any) -> TestClient:
        database = Database(DatabaseSettings(_env_file=None, **settings))  # type: ignore[arg-type]
        app = build_app(database, target.async_)
        if middleware:
            app.add_middleware(ReadYourWritesMiddleware, window=BOUND + 5)
        client = TestClient(app).__enter__()
        made.append((client, database))
        return client

    yield serve
    for client, database in made:
        client.__exit__(None, None, None)
        asyncio.run(database.dispose())


def poll(check: Callable[[], bool], what: str, bound: float = 60.0) -> None:
    deadline = time.monotonic() + bound
    while not check():
        assert time.monotonic() < deadline, f"{what} within {bound:g} s"
        time.sleep(0.05)


def on_replica(replica: PostgresReplica, note: int) -> bool:
    """Whether the replica itself has replayed the note."""
    with replica.connect() as conn:
        found = conn.execute(
            sa.text("SELECT 1 FROM rp_note WHERE id = :id"), {"id": note}
        )
        return found.first() is not None


@pytest.mark.parametrize("through", ["direct", "pgbouncer"])
@pytest.mark.parametrize("fault", ["cut_off", "replay_paused"])
def test_a_replica_behind_its_primary_serves_nothing_older_than_the_bound(
    pair: tuple[PostgresServer, PostgresReplica],
    serve: Callable[..., TestClient],
    fault: str,
    through: str,
) -> None:
    primary, replica = pair
    pooled = through == "pgbouncer"
    client = serve(
        database_url=primary.pooled_url if pooled else primary.url,
        database_replica_urls=[replica.pooled() if pooled else replica.url],
        database_pooler="pgbouncer" if pooled else "none",
        replica_max_lag=MAX_LAG,
        replica_check_interval=INTERVAL,
    )
    poll(
        lambda: client.get("/where").json() == replica.port, "the replica serving reads"
    )

    if fault == "cut_off":
        replica.cut()
    else:
        replica.pause()
    try:
        note = client.post("/notes/", json={"text": f"{fault}-{through}"}).json()["id"]
        written = time.monotonic()
        assert not on_replica(replica, note)  # the fault is real: the replica is stale
        # Until the bound, a read may miss the note; once past it, none does.
        while time.monotonic() < written + BOUND:
            assert client.get(f"/notes/{note}").status_code in (200, 404)
        statuses = [client.get(f"/notes/{note}").status_code for _ in range(20)]
        assert statuses == [200] * 20
        assert client.get("/where").json() == primary.port  # reads go to the primary
        assert not on_replica(
            replica, note
        )  # still stale: those reads did not come from it
        details = client.get("/health/details").json()["replicas"][0]
        assert details["usable"] is False
        if fault == "cut_off":
            assert details["streaming"] is False
            assert "not streaming from the primary" in details["error"]
        else:
            assert (details["streaming"], details["replay_paused"]) == (True, True)
            assert details["lag"] > MAX_LAG
            assert "lags" in details["error"] and "replay is paused" in details["error"]
    finally:
        if fault == "cut_off":
            replica.join()
        else:
            replica.pause(False)
    # Once it has caught up, the replica serves reads again.
    poll(
        lambda: client.get("/where").json() == replica.port, "the replica serving again"
    )
    assert on_replica(replica, note)
    details = client.get("/health/details").json()["replicas"][0]
    assert (details["usable"], details["streaming"], details["error"]) == (
        True,
        True,
        None,
    )
    assert details["lag"] <= MAX_LAG


@pytest.fixture
def delayed(pair: tuple[PostgresServer, PostgresReplica]) -> Iterator[None]:
    """The replica applies each commit 300 ms late, so a read right after a write finds it stale."""
    _, replica = pair

    def delay(value: str) -> None:
        with replica.connect(None) as conn:
            conn.exec_driver_sql(
                f"ALTER SYSTEM SET recovery_min_apply_delay = '{value}'"
            )
            conn.exec_driver_sql("SELECT pg_reload_conf()")

    delay("300ms")
    try:
        yield
    finally:
        delay("0")


PAIRS = 1000


@pytest.mark.parametrize("client_kind", ["none", "header", "cookie"])
def test_create_then_read_pairs_read_their_write(
    pair: tuple[PostgresServer, PostgresReplica],
    serve: Callable[..., TestClient],
    delayed: None,
    client_kind: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Hand-written creates, each read back at once through the router: 0 stale reads.

    A `header` client keeps no cookies and sends the last `X-Primary-Until`
    value back: 1,000 pairs. A `cookie` client keeps its cookie: 200 pairs.
    Without the middleware (`none`) 200 pairs read stale, which shows the test
    can see a stale read.
    """
    primary, replica = pair
    client = serve(
        middleware=client_kind != "none",
        database_url=primary.url,
        database_replica_urls=[replica.url],
        replica_max_lag=5,
        replica_check_interval=INTERVAL,
    )
    poll(
        lambda: client.get("/where").json() == replica.port, "the replica serving reads"
    )
    pairs = PAIRS if client_kind == "header" else 200
    stale, token = 0, None
    for index in range(pairs):
        written = client.post("/handwritten", params={"text": f"{client_kind}-{index}"})
        assert written.status_code == 200
        if client_kind == "header":
            client.cookies.clear()
            token = written.headers["x-primary-until"]
        headers = {"X-Primary-Until": token} if token else {}
        read = client.get(f"/notes/{written.json()}", headers=headers)
        assert read.status_code in (200, 404)
        stale += read.status_code == 404
    # The replica serves the clients that did not write (it lags, so they read stale).
    poll(
        lambda: client.get("/where").json() == replica.port, "the replica serving reads"
    )
    client.cookies.clear()
    last = client.post("/handwritten", params={"text": f"{client_kind}-last"}).json()
    client.cookies.clear()
    assert client.get(f"/notes/{last}").status_code == 404
    with capsys.disabled():
        sys.stdout.write(
            f"\nread-your-writes, {client_kind}: {stale} stale of {pairs} create-then-read pairs\n"
        )
    if client_kind == "none":
        assert stale > 0
    else:
        assert stale == 0
