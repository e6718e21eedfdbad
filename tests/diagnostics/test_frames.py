"""The caller of a query: the user's line, past the HTTP client that served the request."""

from __future__ import annotations

import asyncio
import os

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from sqlmodel_production import Database, crud_router
from sqlmodel_production.api import AsyncSessionDep
from sqlmodel_production.db import Backend
from sqlmodel_production.testing import assert_queries, override_session

from ._app import DgTeam, line_of, seeded


def teams_app() -> FastAPI:
    app = FastAPI()
    app.include_router(crud_router(DgTeam, prefix="/teams", async_=True))

    @app.get("/names")
    async def team_names(session: AsyncSessionDep) -> list[str]:
        return list((await session.exec(select(DgTeam.name))).all())  # endpoint

    return app


async def get_teams(database: Database, path: str) -> str:
    """The `assert_queries` failure of a request served in this event loop."""
    app = teams_app()
    transport = httpx.ASGITransport(app=app)
    try:
        async with database.async_session() as session:
            with override_session(app, session):
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://t"
                ) as client:
                    with pytest.raises(AssertionError) as raised, assert_queries(0):
                        response = await client.get(path)  # request
                    assert response.status_code == 200, response.text
    finally:
        await database.dispose()
    return str(raised.value)


# Async endpoints only: sync ones run in a worker thread, away from the test's line.
def test_a_generated_route_names_the_line_of_the_request(
    backend: Backend, database: Database
) -> None:
    with seeded(database):
        message = asyncio.run(get_teams(database, "/teams/"))
    filename, lineno = line_of(get_teams, "request")
    first, query = message.splitlines()
    assert first == "1 query ran, expected 0:"
    assert query.startswith("1. SELECT dgteam.id, dgteam.name")
    assert query.endswith(f"[{_relative(filename)}:{lineno} in get_teams]")


def test_a_hand_written_endpoint_names_its_own_line(
    backend: Backend, database: Database
) -> None:
    with seeded(database):
        message = asyncio.run(get_teams(database, "/names"))
    filename, lineno = line_of(teams_app, "endpoint")
    assert message.endswith(f"[{_relative(filename)}:{lineno} in team_names]")


def _relative(filename: str) -> str:
    return os.path.relpath(filename)
