"""What an OpenAPI fuzzer sends is answered with a documented 4xx, never a 500, on every backend and driver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import crud_router, install_error_handlers
from sqlmodel_production.db import Backend
from tests.conftest import Target


class BiItem(SQLModel, table=True):
    __tablename__ = "bi_item"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)


TABLES = [BiItem.__table__]  # type: ignore[attr-defined]
JSON = {"content-type": "application/json"}


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(BiItem, prefix="/items", async_=target.async_, order_by=["name"])
    )
    install_error_handlers(app)
    with TestClient(app) as client:
        yield client
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)


def test_an_empty_cursor_or_order_is_the_same_as_none(client: TestClient) -> None:
    assert client.post("/items/", json={"name": "a"}).status_code == 200
    expected = client.get("/items/").json()
    assert len(expected) == 1
    assert client.get("/items/?cursor=").json() == expected
    assert client.get("/items/?order_by=").json() == expected
    assert client.get("/items/?cursor=&order_by=").json() == expected


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/items/", "GET, POST"),
        ("PUT", "/items/", "GET, POST"),
        ("OPTIONS", "/items/1", "DELETE, GET, PATCH"),
        ("POST", "/items/1", "DELETE, GET, PATCH"),
        ("PATCH", "/items/bulk", "POST"),
        ("GET", "/items/bulk", "POST"),
        ("DELETE", "/items/bulk", "POST"),
    ],
)
def test_every_405_lists_all_methods_of_its_path(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert response.json() == {"detail": "Method Not Allowed"}


def test_an_id_that_is_not_a_number_is_still_a_422(client: TestClient) -> None:
    response = client.patch("/items/abc", json={"name": "x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "bi_item_id"]


def test_a_nul_character_is_refused_where_the_database_cannot_store_it(
    target: Target, client: TestClient
) -> None:
    response = client.post("/items/", json={"name": "a\x00b"})
    if target.backend is Backend.POSTGRESQL:
        assert response.status_code == 422
        (error,) = response.json()["detail"]
        assert error["type"] == "invalid_character"
        assert error["msg"] == "A value contains a character the database cannot store"
    else:  # MariaDB and SQLite store it as sent
        assert response.status_code == 200
        read = client.get(f"/items/{response.json()['id']}")
        assert read.json()["name"] == "a\x00b"


@pytest.mark.parametrize(
    "body",
    [b'{"name": "a\\ud800b"}', b'{"name": "a\\udfff"}', b'{"nome": "\\ud800"}'],
    ids=["lone-high", "lone-low", "unknown-field"],
)
def test_a_lone_surrogate_is_a_422_whose_echo_encodes(
    client: TestClient, body: bytes
) -> None:
    response = client.post("/items/", content=body, headers=JSON)
    assert response.status_code == 422
    for error in response.json()["detail"]:
        assert "\ud800" not in str(error) and "\udfff" not in str(error)
    assert client.get("/items/").json() == []


def test_a_422_echoes_only_a_short_excerpt(client: TestClient) -> None:
    long_name = "x" * 5000
    response = client.post("/items/", json={"name": long_name})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["type"] == "string_too_long"
    assert error["input"] == "x" * 80 + "…"

    big_list = ["y" * 100] * 100
    response = client.post("/items/", json=big_list)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert "input" not in error and len(response.content) < 300

    short = client.post("/items/", json={"name": 5})
    assert short.json()["detail"][0]["input"] == 5


@pytest.mark.parametrize(
    ("literal", "echo"),
    [(b"NaN", "NaN"), (b"Infinity", "Infinity"), (b"-Infinity", "-Infinity")],
)
def test_nan_or_infinity_in_a_body_is_a_422_that_names_it(
    client: TestClient, literal: bytes, echo: str
) -> None:
    """Python's JSON parser (FastAPI's) reads these non-JSON literals; the 422 that echoes them must encode."""
    response = client.post(
        "/items/", content=b'{"name": ' + literal + b"}", headers=JSON
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "name"] and error["input"] == echo
    assert client.get("/items/").json() == []
