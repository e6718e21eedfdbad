"""`override_session`: a generated router served with the test's session, and the wrong kind refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from sqlmodel import Field, Session, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production import Database, crud_router
from sqlmodel_production.api import AsyncSessionDep, SessionDep
from sqlmodel_production.testing import override_session
from tests.conftest import Target

from .test_plugin_database import run_pytest

ROUTER_APP = """
import os

from fastapi import FastAPI
from sqlmodel import Field, SQLModel, func, select

from sqlmodel_production import crud_router, install_error_handlers
from sqlmodel_production.testing import override_session

ASYNC = os.environ["INNER_ASYNC"] == "1"


class SmpHero(SQLModel, table=True):
    __tablename__ = "smp_hero"  # made and dropped by smp_tables
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)
    age: int | None = None


app = FastAPI()
app.include_router(crud_router(SmpHero, prefix="/heroes", async_=ASYNC))
install_error_handlers(app)
AGES = select(SmpHero.name, SmpHero.age).order_by(SmpHero.id)
COUNT = select(func.count()).select_from(SmpHero)
"""

SYNC_ROUTER_TESTS = """
from fastapi.testclient import TestClient


def test_create_patch_delete(smp_session):
    with override_session(app, smp_session), TestClient(app) as client:
        created = client.post("/heroes/", json={"name": "Deadpond", "age": 48})
        assert created.status_code == 200, created.text
        hero_id = created.json()["id"]
        assert smp_session.exec(AGES).all() == [("Deadpond", 48)]

        patched = client.patch(f"/heroes/{hero_id}", json={"age": 49})
        assert patched.status_code == 200, patched.text
        assert smp_session.exec(AGES).all() == [("Deadpond", 49)]

        deleted = client.delete(f"/heroes/{hero_id}")
        assert deleted.json() == {"ok": True}, deleted.text
        assert smp_session.exec(AGES).all() == []
        assert client.post("/heroes/", json={"name": "Rusty"}).status_code == 200


def test_the_next_test_sees_none_of_it(smp_session):
    assert smp_session.exec(COUNT).one() == 0
"""

ASYNC_ROUTER_TESTS = """
import httpx2 as httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_create_patch_delete(smp_async_session):
    session = smp_async_session
    transport = httpx.ASGITransport(app=app)
    with override_session(app, session):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            created = await client.post("/heroes/", json={"name": "Deadpond", "age": 48})
            assert created.status_code == 200, created.text
            hero_id = created.json()["id"]
            assert (await session.exec(AGES)).all() == [("Deadpond", 48)]

            patched = await client.patch(f"/heroes/{hero_id}", json={"age": 49})
            assert patched.status_code == 200, patched.text
            assert (await session.exec(AGES)).all() == [("Deadpond", 49)]

            deleted = await client.delete(f"/heroes/{hero_id}")
            assert deleted.json() == {"ok": True}, deleted.text
            assert (await session.exec(AGES)).all() == []
            created = await client.post("/heroes/", json={"name": "Rusty"})
            assert created.status_code == 200


async def test_the_next_test_sees_none_of_it(smp_async_session):
    assert (await smp_async_session.exec(COUNT)).one() == 0
"""


def test_a_generated_router_writes_in_the_test_transaction(
    target: Target, database_url: str, tmp_path: Path
) -> None:
    tests = ASYNC_ROUTER_TESTS if target.async_ else SYNC_ROUTER_TESTS
    result = run_pytest(
        tmp_path,
        ROUTER_APP + tests,
        f"--smp-database-url={database_url}",
        env={"INNER_ASYNC": "1" if target.async_ else "0"},
    )
    assert result.stdout.splitlines()[-1].startswith("2 passed"), (
        result.stdout + result.stderr
    )


class OvHero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)


def generated_app(*, async_: bool) -> FastAPI:
    app = FastAPI()
    outer = APIRouter()
    outer.include_router(crud_router(OvHero, prefix="/heroes", async_=async_))
    app.include_router(outer, prefix="/v1")
    return app


def hand_written_app(*, async_: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/health")  # no session: says nothing about the kind
    async def health() -> dict[str, bool]:
        return {"ok": True}

    if async_:

        @app.get("/heroes")
        async def read_heroes(session: AsyncSessionDep) -> list[str]:
            return []

    else:

        @app.get("/heroes")
        def read_heroes_sync(session: SessionDep) -> list[str]:
            return []

    return app


SYNC_GIVEN = (
    "override_session() got a sync Session, but this app's endpoints are async "
    "(AsyncSessionDep, crud_router(..., async_=True)): they would ignore it and run "
    "on the app's own database. Pass an AsyncSession instead (the smp_async_session "
    "fixture, in an async test that serves the app with "
    "httpx.AsyncClient(transport=httpx.ASGITransport(app))), or make the endpoints sync."
)
ASYNC_GIVEN = (
    "override_session() got an AsyncSession, but this app's endpoints are sync "
    "(SessionDep, crud_router(..., async_=False)): they would ignore it and run on "
    "the app's own database. Pass a Session instead (the smp_session fixture, with "
    "TestClient(app)), or make the endpoints async."
)


@pytest.mark.parametrize("make_app", [generated_app, hand_written_app])
def test_a_session_of_the_other_kind_is_refused(
    target: Target, database: Database, make_app: Callable[..., FastAPI]
) -> None:
    # The endpoints are of the target's kind; the session of the other one.
    app = make_app(async_=target.async_)
    wrong: Session | AsyncSession
    if target.async_:
        wrong, right = Session(database.engine), AsyncSession(database.async_engine)
    else:
        wrong, right = AsyncSession(database.async_engine), Session(database.engine)
    with pytest.raises(TypeError) as raised, override_session(app, wrong):
        pass
    assert str(raised.value) == (SYNC_GIVEN if target.async_ else ASYNC_GIVEN)
    assert app.dependency_overrides == {}
    with override_session(app, right):
        assert len(app.dependency_overrides) == 1


@pytest.mark.sqlite
def test_an_app_with_both_kinds_takes_either() -> None:
    app = generated_app(async_=True)
    app.include_router(crud_router(OvHero, prefix="/sync-heroes", async_=False))
    for session in (Session(), AsyncSession()):
        with override_session(app, session):
            assert len(app.dependency_overrides) == 1
    for session in (Session(), AsyncSession()):  # no session used: nothing to check
        with override_session(FastAPI(), session):
            pass
