"""`crud_router(max_body_size=...)`: a body over the limit is a 413, never parsed nor echoed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import crud_router, install_error_handlers
from tests.conftest import Target


class BlNote(SQLModel, table=True):
    __tablename__ = "bl_note"
    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=100)


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    tables = [BlNote.__table__]  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(database.engine, tables=tables)
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(BlNote, prefix="/notes", async_=target.async_, max_body_size=1000)
    )
    install_error_handlers(app)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        SQLModel.metadata.drop_all(database.engine, tables=tables)
        asyncio.run(database.dispose())


def test_a_body_over_the_limit_is_413(client: TestClient) -> None:
    big = {"text": "x" * 5000}
    for response in (
        client.post("/notes/", json=big),
        client.post("/notes/bulk", json=[{"text": "y"}] * 200),
        client.patch("/notes/1", json=big),
    ):
        assert response.status_code == 413
        assert response.json() == {
            "detail": "The request body is larger than 1000 bytes"
        }
    assert client.get("/notes/").json() == []  # nothing written


def test_a_chunked_body_is_counted_as_it_arrives(client: TestClient) -> None:
    def chunks(count: int) -> Iterator[bytes]:
        body = json.dumps({"text": "z" * count}).encode()
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    over = client.post(
        "/notes/", content=chunks(5000), headers={"Content-Type": "application/json"}
    )
    assert over.status_code == 413
    under = client.post(
        "/notes/", content=chunks(50), headers={"Content-Type": "application/json"}
    )
    assert under.status_code == 200 and under.json()["text"] == "z" * 50


def test_bodies_within_the_limit_pass(client: TestClient) -> None:
    created = client.post("/notes/", json={"text": "hello"})
    assert created.status_code == 200
    assert (
        client.post("/notes/bulk", json=[{"text": "a"}, {"text": "b"}]).status_code
        == 200
    )
    assert (
        client.patch(f"/notes/{created.json()['id']}", json={"text": "hi"}).status_code
        == 200
    )
