"""Detached and expired objects: an app with the problem gets the class, attribute, line and fix."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import DetachedInstanceError
from sqlmodel import Session, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production import Database
from sqlmodel_production.diagnostics import (
    DetachedObjectError,
    DiagnosticsMiddleware,
    explain_detached,
)
from tests.conftest import Target

from ._app import DgHero, line_of, seeded


# The app with the problem: helpers that close their session before the caller
# reads the object, sync and async.
def load_hero(database: Database, hero_id: int) -> DgHero:
    with database.session() as session:
        hero = session.get(DgHero, hero_id)
        assert hero is not None
        return hero


async def load_hero_async(database: Database, hero_id: int) -> DgHero:
    async with database.async_session() as session:
        hero = await session.get(DgHero, hero_id)
        assert hero is not None
        return hero


def rename_hero(database: Database, hero_id: int, name: str) -> DgHero:
    with Session(database.engine) as session:  # expire_on_commit=True, the default
        hero = session.get(DgHero, hero_id)
        assert hero is not None
        hero.name = name
        session.commit()
        return hero


async def rename_hero_async(database: Database, hero_id: int, name: str) -> DgHero:
    async with AsyncSession(database.async_engine) as session:
        hero = await session.get(DgHero, hero_id)
        assert hero is not None
        hero.name = name
        await session.commit()
        return hero


# The fixed app: the relationship loaded with the query, the object refreshed
# after commit, both before the session closes.
def load_hero_fixed(database: Database, hero_id: int) -> DgHero:
    with database.session() as session:
        statement = (
            select(DgHero)
            .where(DgHero.id == hero_id)
            .options(selectinload(DgHero.team))  # type: ignore[arg-type]
        )
        return session.exec(statement).one()


async def load_hero_fixed_async(database: Database, hero_id: int) -> DgHero:
    async with database.async_session() as session:
        statement = (
            select(DgHero)
            .where(DgHero.id == hero_id)
            .options(selectinload(DgHero.team))  # type: ignore[arg-type]
        )
        return (await session.exec(statement)).one()


def rename_hero_fixed(database: Database, hero_id: int, name: str) -> DgHero:
    with Session(database.engine) as session:
        hero = session.get(DgHero, hero_id)
        assert hero is not None
        hero.name = name
        session.commit()
        session.refresh(hero)
        return hero


async def rename_hero_fixed_async(
    database: Database, hero_id: int, name: str
) -> DgHero:
    async with AsyncSession(database.async_engine) as session:
        hero = await session.get(DgHero, hero_id)
        assert hero is not None
        hero.name = name
        await session.commit()
        await session.refresh(hero)
        return hero


def create_app(database: Database, async_: bool, *, fixed: bool) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.add_middleware(DiagnosticsMiddleware)

    if async_:
        load_async = load_hero_fixed_async if fixed else load_hero_async
        rename_async = rename_hero_fixed_async if fixed else rename_hero_async

        @app.get("/heroes/{hero_id}/team")
        async def hero_team_async(hero_id: int) -> dict[str, str]:
            hero = await load_async(database, hero_id)
            return {"team": hero.team.name if hero.team else ""}  # touched

        @app.put("/heroes/{hero_id}/name/{name}")
        async def rename_async_endpoint(hero_id: int, name: str) -> dict[str, str]:
            hero = await rename_async(database, hero_id, name)
            return {"name": hero.name}  # touched

    else:
        load = load_hero_fixed if fixed else load_hero
        rename = rename_hero_fixed if fixed else rename_hero

        @app.get("/heroes/{hero_id}/team")
        def hero_team(hero_id: int) -> dict[str, str]:
            hero = load(database, hero_id)
            return {"team": hero.team.name if hero.team else ""}  # touched

        @app.put("/heroes/{hero_id}/name/{name}")
        def rename_endpoint(hero_id: int, name: str) -> dict[str, str]:
            hero = rename(database, hero_id, name)
            return {"name": hero.name}  # touched

    return app


def endpoint(app: FastAPI, path: str) -> object:
    return next(r.endpoint for r in app.routes if getattr(r, "path", None) == path)  # type: ignore[attr-defined]


def test_a_lazy_load_on_a_detached_object_names_the_relationship_and_the_fix(
    target: Target, database: Database
) -> None:
    with seeded(database):
        app = create_app(database, target.async_, fixed=False)
        with TestClient(app) as client, pytest.raises(DetachedObjectError) as raised:
            client.get("/heroes/1/team")
    error = raised.value
    filename, lineno = line_of(endpoint(app, "/heroes/{hero_id}/team"), "touched")  # type: ignore[arg-type]
    function = "hero_team_async" if target.async_ else "hero_team"
    assert isinstance(error, DetachedInstanceError)
    assert (error.access.model, error.access.attribute) == ("DgHero", "team")
    assert error.access.caller is not None
    assert (error.access.caller.filename, error.access.caller.lineno) == (
        filename,
        lineno,
    )
    assert str(error).startswith(
        f"DgHero.team was lazy-loaded at tests/diagnostics/test_detached.py:{lineno} "
        f"in {function}, but the DgHero object is detached: the session that loaded "
        "it is closed, so the relationship cannot be loaded (DetachedInstanceError). "
        "Fix: load it while the session is open: .options(selectinload(DgHero.team)) "
        "on the query that fetched the DgHero, or session.refresh(obj, ['team']) "
        "before the session closes; or attach it to an open session again with "
        "session.merge(obj)."
    ), str(error)
    assert "is not bound to a Session" in str(error.__cause__)


def test_an_expired_attribute_on_a_detached_object_names_it_and_the_fix(
    target: Target, database: Database
) -> None:
    with seeded(database):
        app = create_app(database, target.async_, fixed=False)
        with TestClient(app) as client, pytest.raises(DetachedObjectError) as raised:
            client.put("/heroes/1/name/Renamed")
    _, lineno = line_of(endpoint(app, "/heroes/{hero_id}/name/{name}"), "touched")  # type: ignore[arg-type]
    function = "rename_async_endpoint" if target.async_ else "rename_endpoint"
    assert (raised.value.access.model, raised.value.access.attribute) == (
        "DgHero",
        "name",
    )
    assert str(raised.value).startswith(
        f"DgHero.name was read at tests/diagnostics/test_detached.py:{lineno} in "
        f"{function}, but the DgHero object is detached and its attributes were "
        "expired (commit() expires every attribute unless expire_on_commit=False), "
        "so there is no session to reload them from (DetachedInstanceError). "
        "Fix: call session.refresh(obj) after commit() and before the session "
        "closes (before returning the object), or make the session with "
        "expire_on_commit=False"
    ), str(raised.value)


def test_the_fixed_app_answers(target: Target, database: Database) -> None:
    with seeded(database):
        app = create_app(database, target.async_, fixed=True)
        with TestClient(app) as client:
            team = client.get("/heroes/1/team")
            renamed = client.put("/heroes/1/name/Renamed")
    assert (team.status_code, team.json()) == (200, {"team": "team 0"})
    assert (renamed.status_code, renamed.json()) == (200, {"name": "Renamed"})


def test_the_middleware_can_leave_the_error_alone(
    target: Target, database: Database
) -> None:
    with seeded(database):
        app = create_app(database, target.async_, fixed=False)
        app.user_middleware.clear()
        app.add_middleware(DiagnosticsMiddleware, explain_detached=False)
        with TestClient(app) as client, pytest.raises(DetachedInstanceError) as raised:
            client.get("/heroes/1/team")
    assert type(raised.value) is DetachedInstanceError


def test_explain_detached_outside_a_request(target: Target, database: Database) -> None:
    def touch(hero: DgHero) -> object:
        return hero.team  # touched

    async def touch_async() -> object:
        hero = await load_hero_async(database, 2)
        try:
            with explain_detached():
                return touch(hero)
        finally:
            await database.dispose()

    with seeded(database), pytest.raises(DetachedObjectError) as raised:
        if target.async_:
            asyncio.run(touch_async())
        else:
            hero = load_hero(database, 2)
            with explain_detached():
                touch(hero)
    _, lineno = line_of(touch, "touched")
    assert str(raised.value).startswith(
        f"DgHero.team was lazy-loaded at tests/diagnostics/test_detached.py:{lineno} in touch,"
    )
