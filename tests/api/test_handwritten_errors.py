"""`install_error_handlers` answers the repository's own exceptions in hand-written endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel

from sqlmodel_production import AsyncRepository, Database, Repository
from sqlmodel_production.api import (
    AsyncSessionDep,
    SessionDep,
    install_error_handlers,
)
from sqlmodel_production.models import Versioned
from tests.conftest import Target


class HwNote(Versioned, table=True):
    __tablename__ = "hw_note"
    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=50)


TABLES = [HwNote.__table__]  # type: ignore[attr-defined]
notes = Repository(HwNote, order_by=["text"])
async_notes = AsyncRepository(notes)


def sync_app() -> FastAPI:
    app = FastAPI()

    @app.get("/notes/")
    def list_notes(session: SessionDep, cursor: str | None = None) -> Any:
        return notes.list(session, cursor=cursor).rows

    @app.patch("/notes/{note_id}")
    def edit(session: SessionDep, note_id: int, version: int, text: str) -> Any:
        row = notes.update(session, note_id, {"text": text}, version=version)
        session.commit()
        return row

    return app


def async_app() -> FastAPI:
    app = FastAPI()

    @app.get("/notes/")
    async def list_notes(session: AsyncSessionDep, cursor: str | None = None) -> Any:
        return (await async_notes.list(session, cursor=cursor)).rows

    @app.patch("/notes/{note_id}")
    async def edit(
        session: AsyncSessionDep, note_id: int, version: int, text: str
    ) -> Any:
        row = await async_notes.update(
            session, note_id, {"text": text}, version=version
        )
        await session.commit()
        return row

    return app


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
        conn.execute(HwNote.__table__.insert().values(id=1, text="a", version=1))  # type: ignore[attr-defined]
    app = async_app() if target.async_ else sync_app()
    app.router.lifespan_context = database.lifespan
    install_error_handlers(app)
    with TestClient(app) as client:
        yield client
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)


def test_a_bad_cursor_is_a_422_naming_it(client: TestClient) -> None:
    response = client.get("/notes/", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("invalid_query", ["query", "cursor"])


def test_a_stale_version_is_a_412(client: TestClient) -> None:
    assert (
        client.patch("/notes/1", params={"version": 1, "text": "b"}).status_code == 200
    )
    stale = client.patch("/notes/1", params={"version": 1, "text": "c"})
    assert stale.status_code == 412
    assert stale.json() == {
        "detail": "The row was changed by someone else; read it again"
    }
