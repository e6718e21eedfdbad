"""`Database`: lazy engines, sessions for both styles, the lifespan and the session dependencies."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from sqlmodel_production import Database
from sqlmodel_production.api import AsyncSessionDep, SessionDep
from sqlmodel_production.db import Backend, EngineInfo, Environment, Pooler


def test_engines_are_created_on_first_use(backend: Backend, database: Database) -> None:
    assert database._engine is None and database._async_engine is None
    assert database.engine is database.engine
    assert database._async_engine is None


def test_lifespan_attaches_and_disposes(backend: Backend, database: Database) -> None:
    app = FastAPI(lifespan=database.lifespan)

    @app.get("/sync")
    def read_sync(session: SessionDep) -> int:
        return session.exec(text("SELECT 1")).one()[0]  # type: ignore[call-overload,no-any-return]

    @app.get("/async")
    async def read_async(session: AsyncSessionDep) -> int:
        return (await session.exec(text("SELECT 2"))).one()[0]  # type: ignore[call-overload,no-any-return]

    with TestClient(app) as client:
        assert client.get("/sync").json() == 1
        assert client.get("/async").json() == 2
        engine, async_engine = database.engine, database.async_engine
        assert engine.pool.checkedin() >= 1
    # The pools are closed, the engines stay: a module-level `engine = database.engine`
    # is still the database's, and opens a connection when used again.
    assert engine.pool.checkedin() == 0
    assert database.engine is engine and database.async_engine is async_engine
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT 3").scalar() == 3


@pytest.mark.only(Backend.SQLITE)
@pytest.mark.parametrize(
    ("environment", "gc_freeze", "frozen"),
    [
        ("production", True, True),
        ("production", False, False),
        ("development", True, False),
    ],
)
def test_lifespan_freezes_start_up_objects_in_production(
    backend: Backend,
    make_database: Callable[..., Database],
    environment: Environment,
    gc_freeze: bool,
    frozen: bool,
) -> None:
    database = make_database(environment=environment, gc_freeze=gc_freeze)
    app = FastAPI(lifespan=database.lifespan)
    started_with = gc.get_freeze_count()
    with TestClient(app):
        assert (gc.get_freeze_count() > started_with) is frozen
    assert gc.get_freeze_count() == started_with


def test_a_sync_app_opens_no_async_pool(backend: Backend, database: Database) -> None:
    made: list[EngineInfo] = []
    database.on_engine(made.append)
    app = FastAPI(lifespan=database.lifespan)

    @app.get("/")
    def read(session: SessionDep) -> int:
        return session.exec(text("SELECT 1")).one()[0]  # type: ignore[call-overload,no-any-return]

    with TestClient(app) as client:
        assert client.get("/").json() == 1
    assert [info.async_ for info in made] == [False]


@pytest.mark.only(Backend.POSTGRESQL)
def test_the_start_up_check_runs_on_a_connection_of_its_own(
    backend: Backend, make_database: Callable[..., Database]
) -> None:
    # Told it is behind PgBouncer, the service sends no statement timeout at connect;
    # directly connected, the server's default (none) then holds outside transactions.
    database = make_database(database_pooler=Pooler.PGBOUNCER)
    (problem,) = asyncio.run(database.check())
    assert problem.startswith("statement_timeout is 0 ms outside transactions, not ")
    assert database._async_engine is None


# One `Database` in a fresh interpreter (a test process holds many): an app without
# its lifespan, sync and async endpoints, two requests each.
WITHOUT_LIFESPAN = """
import asyncio, json, sys

import httpx2 as httpx
from fastapi import FastAPI
from sqlalchemy import text

from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.api import AsyncSessionDep, SessionDep

database = Database(DatabaseSettings(_env_file=None, database_url=sys.argv[1]))
app = FastAPI()


@app.get("/sync")
def read_sync(session: SessionDep) -> int:
    return session.exec(text("SELECT 1")).one()[0]


@app.get("/async")
async def read_async(session: AsyncSessionDep) -> int:
    return (await session.exec(text("SELECT 2"))).one()[0]


async def main() -> list[object]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        answers = [(await client.get(p)).json() for p in ["/sync", "/async"] * 2]
    await database.dispose()
    return answers


print(json.dumps(asyncio.run(main())))
"""


def test_session_dependencies_use_the_only_database_without_a_lifespan(
    backend: Backend, database_url: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_LIFESPAN, database_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [1, 2, 1, 2]
    warnings = [line for line in done.stderr.splitlines() if "lifespan" in line]
    assert len(warnings) == 1
    assert (
        "does not run its lifespan: its pools open on first use and are never "
        in (warnings[0])
    )


def test_session_dependency_without_lifespan_says_how_to_fix(
    backend: Backend, make_database: Callable[..., Database]
) -> None:
    # Two Databases and an app that runs neither's lifespan: which one is meant?
    first, second = make_database(), make_database()
    app = FastAPI()

    @app.get("/")
    def read(session: SessionDep) -> None:
        pass

    with (
        TestClient(app) as client,
        pytest.raises(RuntimeError, match="lifespan=database.lifespan"),
    ):
        client.get("/")
    assert first is not second


def test_sessions_do_not_expire_on_commit(backend: Backend, database: Database) -> None:
    """Objects stay readable after commit: no lazy reload (a MissingGreenlet on async sessions)."""
    with database.session() as session:
        assert session.expire_on_commit is False

    async def check() -> bool:
        async with database.async_session() as session:
            return session.sync_session.expire_on_commit

    assert asyncio.run(check()) is False
