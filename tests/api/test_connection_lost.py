"""A lost database is answered 503 + Retry-After, never 500, and the service recovers by itself.

Outages are real: the app reaches the server through a TCP forwarder the test
takes down and brings back (`tests/_proxy.py`), or its connections are ended
with `pg_terminate_backend` / `KILL CONNECTION`. The shared servers keep running.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import crud_router, install_error_handlers
from sqlmodel_production.db import Backend, sync_url
from sqlmodel_production.diagnostics import health_router
from tests._proxy import Proxy
from tests.conftest import Target

pytestmark = pytest.mark.only(Backend.POSTGRESQL, Backend.MARIADB)


class ClItem(SQLModel, table=True):
    __tablename__ = "cl_item"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)


TABLES = [ClItem.__table__]  # type: ignore[attr-defined]


@pytest.fixture
def tables(database: Database) -> Iterator[None]:
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
    yield
    database.engine.dispose()  # its pooled connections may have been killed
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)


@pytest.fixture
def make_client(
    target: Target, tables: None
) -> Iterator[Callable[[Database], TestClient]]:
    clients: list[TestClient] = []

    def make(database: Database) -> TestClient:
        app = FastAPI(lifespan=database.lifespan)
        app.include_router(crud_router(ClItem, prefix="/items", async_=target.async_))
        app.include_router(health_router(database, async_=target.async_))
        install_error_handlers(app)
        clients.append(TestClient(app).__enter__())
        return clients[-1]

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def kill_all(database: Database, backend: Backend) -> int:
    """End every server connection of the test's database but the killer's own."""
    admin = sa.create_engine(
        sync_url(database.settings.database_url), poolclass=sa.pool.NullPool
    )
    try:
        with admin.connect() as conn:
            if backend is Backend.POSTGRESQL:
                return len(
                    conn.exec_driver_sql(
                        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    ).all()
                )
            ids = conn.exec_driver_sql(
                "SELECT id FROM information_schema.processlist "
                "WHERE db = DATABASE() AND id <> CONNECTION_ID()"
            ).scalars()
            killed = 0
            for ident in list(ids):
                conn.exec_driver_sql(f"KILL CONNECTION {int(ident)}")
                killed += 1
            return killed
    finally:
        admin.dispose()


def assert_unavailable(response: object) -> None:
    assert response.status_code == 503, response.text  # type: ignore[attr-defined]
    assert response.headers["Retry-After"]  # type: ignore[attr-defined]


def test_killed_connections_are_answered_503_then_the_service_recovers(
    target: Target,
    make_database: Callable[..., Database],
    make_client: Callable[[Database], TestClient],
) -> None:
    # No ping at checkout, one connection: the next request gets the dead one.
    database = make_database(pool_pre_ping=False, pool_size=1, max_overflow=0)
    client = make_client(database)
    assert client.post("/items/", json={"name": "before"}).status_code == 200
    for request in (
        lambda: client.get("/items/"),
        lambda: client.post("/items/", json={"name": "lost"}),
        lambda: client.get("/items/1"),
    ):
        assert kill_all(database, target.backend) >= 1
        lost = request()
        assert_unavailable(lost)
        assert lost.json()["code"] == "connection_lost"
        assert request().status_code == 200  # the dead connection was dropped
    assert client.get("/health/ready").status_code == 200


@pytest.mark.only(Backend.POSTGRESQL)
def test_a_write_that_loses_its_connection_in_autocommit_has_an_unknown_outcome(
    target: Target,
    database: Database,
    make_client: Callable[[Database], TestClient],
) -> None:
    # A single write on PostgreSQL runs in autocommit: the statement is its own commit.
    with database.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION cl_die() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER cl_die BEFORE INSERT ON cl_item "
            "FOR EACH ROW WHEN (NEW.name = 'die') EXECUTE FUNCTION cl_die()"
        )
    client = make_client(database)
    response = client.post("/items/", json={"name": "die"})
    assert_unavailable(response)
    assert response.json()["outcome"] == "unknown"
    assert client.post("/items/", json={"name": "live"}).status_code == 200


def test_ready_is_200_when_only_pooled_connections_died(
    target: Target,
    make_database: Callable[..., Database],
    make_client: Callable[[Database], TestClient],
) -> None:
    database = make_database(pool_pre_ping=False, pool_size=1, max_overflow=0)
    client = make_client(database)
    assert client.get("/health/ready").status_code == 200
    assert kill_all(database, target.backend) >= 1
    assert client.get("/health/ready").json() == {"status": "ok", "database": "ok"}


def test_an_outage_is_503_everywhere_and_the_next_request_after_it_succeeds(
    target: Target,
    database: Database,
    make_database: Callable[..., Database],
    make_client: Callable[[Database], TestClient],
) -> None:
    real = sa.make_url(database.settings.database_url)
    with Proxy((real.host or "127.0.0.1", int(real.port or 0))) as proxy:
        url = real.set(host="127.0.0.1", port=proxy.port)
        app_database = make_database(
            database_url=url.render_as_string(hide_password=False)
        )
        client = make_client(app_database)
        assert client.post("/items/", json={"name": "before"}).status_code == 200
        assert client.get("/health/ready").status_code == 200

        proxy.down()
        for _ in range(2):  # the open connections reset, then new ones refused
            assert_unavailable(client.get("/items/"))
            assert_unavailable(client.get("/items/1"))
            assert_unavailable(client.post("/items/", json={"name": "during"}))
            assert_unavailable(client.get("/health/ready"))
        assert client.get("/health/live").status_code == 200

        proxy.up()
        assert client.get("/health/ready").status_code == 200
        assert client.get("/items/").status_code == 200
        assert client.post("/items/", json={"name": "after"}).status_code == 200
        names = [item["name"] for item in client.get("/items/").json()]
        assert names == ["before", "after"]


def test_ready_is_503_when_the_server_refuses(
    make_database: Callable[..., Database],
    make_client: Callable[[Database], TestClient],
    database: Database,
) -> None:
    proxy = Proxy(("127.0.0.1", 9))  # never up: its port refuses
    url = sa.make_url(database.settings.database_url).set(port=proxy.port)
    client = make_client(
        make_database(database_url=url.render_as_string(hide_password=False))
    )
    ready = client.get("/health/ready")
    assert_unavailable(ready)
    assert ready.json() == {"status": "unavailable", "database": "unavailable"}
    assert_unavailable(client.get("/items/"))
