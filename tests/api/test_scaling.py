"""The router behind PgBouncer (transaction mode) and with a streaming read replica, sync and async.

Run on the real components (`scripts/topology.sh`): PgBouncer on 6432 and a
replica of the machine's PostgreSQL on 5433.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database, DatabaseSettings, health_router
from sqlmodel_production._compat import greenlet_spawn
from sqlmodel_production.api import (
    ReadYourWritesMiddleware,
    crud_router,
    install_error_handlers,
)
from sqlmodel_production.db import Backend, EngineInfo, sync_url
from tests._topology import at_port, require, scratch_database
from tests.conftest import Target

pytestmark = pytest.mark.only(Backend.POSTGRESQL)


class ScItem(SQLModel, table=True):
    __tablename__ = "sc_item"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)


TABLES = [ScItem.__table__]  # type: ignore[attr-defined]


@pytest.fixture
def serve(target: Target) -> Iterator[Callable[..., TestClient]]:
    """Serve `crud_router(ScItem)` on a Database made of the given settings; all closed after the test."""
    made: list[tuple[TestClient, Database]] = []

    def serve(*, middleware: bool = False, **settings: object) -> TestClient:
        database = Database(DatabaseSettings(_env_file=None, **settings))  # type: ignore[arg-type]
        app = FastAPI(lifespan=database.lifespan)
        app.include_router(crud_router(ScItem, prefix="/items", async_=target.async_))
        install_error_handlers(app)
        if middleware:
            app.add_middleware(ReadYourWritesMiddleware, window=30)
        client = TestClient(app).__enter__()
        made.append((client, database))
        return client

    yield serve
    for client, database in made:
        client.__exit__(None, None, None)
        asyncio.run(database.dispose())


def create_tables(url: str) -> None:
    engine = sa.create_engine(sync_url(url))
    with engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
    engine.dispose()


# --- PgBouncer ---------------------------------------------------------------------------


@pytest.fixture(params=["30s"])
def pooled_url(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(direct URL, PgBouncer URL) of a database whose default statement timeout is the param."""
    require("pgbouncer")
    with scratch_database(statement_timeout=request.param) as url:
        create_tables(url)
        yield url, at_port(url, 6432)


def test_many_concurrent_clients_through_pgbouncer(
    serve: Callable[..., TestClient], pooled_url: tuple[str, str]
) -> None:
    """16 clients at once, creates, reads, pages, updates and deletes: never an error."""
    direct, url = pooled_url
    client = serve(database_url=url, database_pooler="pgbouncer", pool_size=4)

    def work(worker: int) -> tuple[list[int], dict[int, str | None]]:
        statuses, kept = [], {}
        for n in range(12):
            created = client.post("/items/", json={"name": f"w{worker}-{n}"})
            statuses.append(created.status_code)
            item = created.json()["id"]
            statuses.append(client.get(f"/items/{item}").status_code)
            statuses.append(client.get("/items/?limit=5").status_code)
            statuses.append(
                client.patch(
                    f"/items/{item}", json={"name": f"v{worker}-{n}"}
                ).status_code
            )
            kept[item] = f"v{worker}-{n}"
            if n % 3 == 0:
                statuses.append(client.delete(f"/items/{item}").status_code)
                kept[item] = None
        return statuses, kept

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(work, range(16)))
    statuses = [s for result, _ in results for s in result]
    assert len(statuses) == 16 * (12 * 4 + 4)
    assert set(statuses) <= {200, 201, 204}, sorted(set(statuses))
    # Every write was committed: patched names read back, deleted rows are gone.
    engine = sa.create_engine(sync_url(direct))
    try:
        with engine.connect() as conn:
            names = dict(conn.execute(sa.text("SELECT id, name FROM sc_item")).all())
    finally:
        engine.dispose()
    expected = {i: name for _, kept in results for i, name in kept.items() if name}
    assert len(expected) == 16 * 8
    assert names == expected


def test_behind_pgbouncer_no_prepared_statement_stays_on_a_server(
    target: Target, pooled_url: tuple[str, str]
) -> None:
    """Statements in transactions, through SQLAlchemy's adapter, leave nothing on the servers.

    PgBouncer hands a server connection to the next client after each
    transaction: a named statement left there would stay until the server
    connection ends, one more per transaction.
    """
    _, url = pooled_url
    database = Database(
        DatabaseSettings(_env_file=None, database_url=url, database_pooler="pgbouncer")  # type: ignore[call-arg]
    )
    items = ScItem.__table__  # type: ignore[attr-defined]

    def work(conn: sa.Connection) -> None:
        for n in range(30):
            conn.execute(items.insert(), {"name": f"p{n}"})
            conn.execute(sa.select(items).where(items.c.name == f"p{n}")).one()
            conn.commit()

    if target.async_:

        async def main() -> None:
            try:
                async with database.async_engine.connect() as conn:
                    await conn.run_sync(work)
            finally:
                await database.async_engine.dispose()

        asyncio.run(main())
    else:
        with database.engine.connect() as conn:
            work(conn)
        database.engine.dispose()
    # A new client gets the server connection the work used last (PgBouncer reuses
    # the most recent one first), and any other on later tries.
    probe = sa.create_engine(sync_url(url), connect_args={"prepare_threshold": None})
    try:
        for _ in range(5):
            with probe.connect() as conn:
                left = conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_prepared_statements"
                ).scalar_one()
                assert left == 0
    finally:
        probe.dispose()


@pytest.mark.parametrize("pooled_url", ["500ms"], indirect=True)
def test_statement_timeout_holds_behind_pgbouncer(
    serve: Callable[..., TestClient], pooled_url: tuple[str, str]
) -> None:
    """A statement waiting on a lock is cancelled and answered 504, in and out of transactions."""
    direct, url = pooled_url
    client = serve(database_url=url, database_pooler="pgbouncer", statement_timeout=0.5)
    item = client.post("/items/", json={"name": "locked"}).json()["id"]
    # Read once: asyncpg sends later runs of the statement through its own `fetch`.
    assert client.get(f"/items/{item}").status_code == 200
    locker = sa.create_engine(sync_url(direct))
    try:
        with locker.connect() as conn:
            conn.exec_driver_sql("SET lock_timeout = 0")
            conn.exec_driver_sql("LOCK TABLE sc_item IN ACCESS EXCLUSIVE MODE")
            read = client.get(f"/items/{item}")  # a read on a pooled connection
            bulk = client.post("/items/bulk", json=[{"name": "x"}])  # a transaction
            conn.rollback()
    finally:
        locker.dispose()
    assert (read.status_code, bulk.status_code) == (504, 504), (read.text, bulk.text)
    assert client.get(f"/items/{item}").status_code == 200


def test_a_transaction_gets_the_timeout_without_a_database_default(
    serve: Callable[..., TestClient], target: Target
) -> None:
    """SET LOCAL carries STATEMENT_TIMEOUT into every transaction the engine begins."""
    require("pgbouncer")
    with scratch_database() as direct:
        create_tables(direct)
        client = serve(
            database_url=at_port(direct, 6432),
            database_pooler="pgbouncer",
            statement_timeout=0.5,
        )
        locker = sa.create_engine(sync_url(direct))
        try:
            with locker.connect() as conn:
                conn.exec_driver_sql("LOCK TABLE sc_item IN ACCESS EXCLUSIVE MODE")
                bulk = client.post("/items/bulk", json=[{"name": "x"}])
                conn.rollback()
        finally:
            locker.dispose()
        assert bulk.status_code == 504, bulk.text


# --- replicas ------------------------------------------------------------------------------


@pytest.fixture
def replicated(database_url: str) -> Iterator[tuple[str, str]]:
    """(primary URL, replica URL) of the test's scratch database, with its table."""
    require("replica")
    create_tables(database_url)
    replica = at_port(database_url, 5433)
    engine = sa.create_engine(sync_url(replica))
    for _ in range(200):  # the replica replays the database and its table
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1 FROM sc_item")
            break
        except sa.exc.DBAPIError:
            time.sleep(0.05)
    engine.dispose()
    yield database_url, replica
    paused(replica, False)


def paused(replica: str, pause: bool) -> None:
    """Pause (or resume) the replica's replay of the primary's changes."""
    engine = sa.create_engine(sync_url(replica), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_wal_replay_pause()" if pause else "SELECT pg_wal_replay_resume()"
        )
        state = "paused" if pause else "not paused"
        for _ in range(1000):  # a pause is requested, then taken at the next record
            if (
                conn.exec_driver_sql("SELECT pg_get_wal_replay_pause_state()").scalar()
                == state
            ):
                break
    engine.dispose()


def test_reads_go_to_the_replica_and_writes_to_the_primary(
    serve: Callable[..., TestClient], replicated: tuple[str, str]
) -> None:
    primary, replica = replicated
    client = serve(
        database_url=primary,
        database_replica_urls=replica,
        replica_max_lag=3600,
        replica_check_interval=0.05,  # a first check short of the primary is redone soon
    )
    old = client.post("/items/", json={"name": "old"}).json()["id"]
    for _ in range(100):  # the replica replays it
        if client.get(f"/items/{old}").status_code == 200:
            break
    assert client.get(f"/items/{old}").status_code == 200
    paused(replica, True)
    new = client.post("/items/", json={"name": "new"})
    assert new.status_code == 200  # written on the primary
    # The replica has not replayed it: a read from a replica does not find it.
    assert client.get(f"/items/{new.json()['id']}").status_code == 404
    assert [row["name"] for row in client.get("/items/").json()] == ["old"]


def test_a_client_that_wrote_reads_its_write(
    serve: Callable[..., TestClient], replicated: tuple[str, str]
) -> None:
    primary, replica = replicated
    client = serve(
        middleware=True,
        database_url=primary,
        database_replica_urls=replica,
        replica_max_lag=3600,
        replica_check_interval=0.05,
    )
    # A first read measures the replica against the primary's position before the write
    # (a first check that finds it short of that position is done again 0.05 s later).
    assert client.get("/items/").status_code == 200
    paused(replica, True)
    created = client.post("/items/", json={"name": "mine"})
    assert "smp_primary_until=" in created.headers["set-cookie"]
    item = created.json()["id"]
    assert client.get(f"/items/{item}").status_code == 200  # the cookie: the primary
    client.cookies.clear()
    assert (
        client.get(f"/items/{item}").status_code == 404
    )  # another client: the replica


def test_a_lagging_replica_is_skipped(
    serve: Callable[..., TestClient], replicated: tuple[str, str]
) -> None:
    primary, replica = replicated
    client = serve(
        database_url=primary,
        database_replica_urls=replica,
        replica_max_lag=0.2,
        replica_check_interval=0.05,
    )
    paused(replica, True)
    item = client.post("/items/", json={"name": "fresh"}).json()["id"]
    # Once the replica's lag passes 0.2 s, reads go to the primary and find the row.
    statuses = [client.get(f"/items/{item}").status_code for _ in range(400)]
    assert statuses[-1] == 200
    assert set(statuses) <= {200, 404}


def test_the_primary_and_the_replica_are_read_once_per_check_interval(
    target: Target, replicated: tuple[str, str]
) -> None:
    primary, replica = replicated
    database = Database(
        DatabaseSettings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=primary,
            database_replica_urls=[replica],
            replica_check_interval=3000,
            replica_max_lag=3600,
        )
    )
    seen: list[tuple[str, str]] = []

    def watch(info: EngineInfo) -> None:
        def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            seen.append((info.node, statement.split()[1]))

        sa.event.listen(info.engine, "before_cursor_execute", record)

    database.on_engine(watch)
    if target.async_:

        async def picks() -> list[object]:
            try:
                return [
                    await greenlet_spawn(database.async_replicas.pick)
                    for _ in range(50)
                ]
            finally:
                await database.dispose()

        picked = asyncio.run(picks())
    else:
        picked = [database.replicas.pick() for _ in range(50)]
        asyncio.run(database.dispose())
    assert None not in picked
    # One check for 50 reads: the primary's position, then the replica's state.
    assert seen == [
        ("primary", "pg_current_wal_lsn()"),
        ("replica", "pg_is_in_recovery(),"),
    ]


def test_a_replica_that_is_down_is_skipped(
    serve: Callable[..., TestClient], database_url: str
) -> None:
    create_tables(database_url)
    down = at_port(database_url, 1)  # nothing listens there
    client = serve(database_url=database_url, database_replica_urls=down)
    item = client.post("/items/", json={"name": "here"}).json()["id"]
    assert client.get(f"/items/{item}").status_code == 200
    assert client.get("/items/").status_code == 200


def test_read_only_sessions_land_on_the_replica(
    target: Target, replicated: tuple[str, str]
) -> None:
    primary, replica = replicated
    database = Database(
        DatabaseSettings(
            _env_file=None, database_url=primary, database_replica_urls=[replica]
        )  # type: ignore[call-arg]
    )
    port = sa.text("SELECT inet_server_port(), pg_is_in_recovery()")
    if target.async_:

        async def read() -> tuple[int, bool]:
            async with database.async_read_only_session() as session:
                row = (await session.exec(port)).one()  # type: ignore[call-overload]
            await database.dispose()
            return row[0], row[1]

        assert asyncio.run(read()) == (5433, True)
    else:
        with database.read_only_session() as session:
            assert tuple(session.execute(port).one()) == (5433, True)
        asyncio.run(database.dispose())


def test_readiness_details_each_replica_only_behind_its_dependency(
    target: Target, replicated: tuple[str, str], database_url: str
) -> None:
    primary, replica = replicated
    down = at_port(database_url, 1)
    database = Database(
        DatabaseSettings(  # type: ignore[call-arg]
            _env_file=None, database_url=primary, database_replica_urls=[replica, down]
        )
    )

    def operator(x_token: str = Header(default="")) -> None:
        if x_token != "ops":
            raise HTTPException(status_code=403, detail="Operators only")

    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        health_router(database, async_=target.async_, details=[Depends(operator)])
    )
    with TestClient(app) as client:
        public = client.get("/health/ready")
        refused = client.get("/health/details")
        # A replica is used once it has replayed a primary position this
        # process read: on a busy server that can take a check or two.
        for _ in range(100):
            body = client.get("/health/details", headers={"X-Token": "ops"}).json()
            if body["replicas"][0]["usable"]:
                break
            time.sleep(0.1)
    asyncio.run(database.dispose())
    assert public.json() == {
        "status": "ok",
        "database": "ok",
    }  # no hosts, users, errors
    assert refused.status_code == 403
    assert body["status"] == "ok"
    up, gone = body["replicas"]
    assert (up["usable"], up["error"]) == (True, None) and up["lag"] >= 0
    assert gone["usable"] is False and gone["lag"] is None and gone["error"]
    assert "127.0.0.1:1/" in gone["url"]
