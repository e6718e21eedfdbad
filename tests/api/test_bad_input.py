"""What an OpenAPI fuzzer sends is answered with a documented 4xx, never a 500, on every backend and driver."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import crud_router, install_error_handlers
from sqlmodel_production.crud.internal import CURSOR_PATTERN
from tests.conftest import Target


class BiItem(SQLModel, table=True):
    __tablename__ = "bi_item"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)


class BiNumber(SQLModel, table=True):
    __tablename__ = "bi_number"
    id: int | None = Field(default=None, primary_key=True)
    count: int = 0


TABLES = [BiItem.__table__, BiNumber.__table__]  # type: ignore[attr-defined]
JSON = {"content-type": "application/json"}


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(
            BiItem,
            prefix="/items",
            async_=target.async_,
            order_by=["name"],
            filters={"name": ["eq", "like"], "id": ["ge"]},
        )
    )
    app.include_router(crud_router(BiNumber, prefix="/numbers", async_=target.async_))
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


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    [
        ("POST", "/items/", {"name": "a\x00b"}, ["body", "name"]),
        ("POST", "/items/bulk", [{"name": "a"}, {"name": "\x00"}], ["body", 1, "name"]),
        ("PATCH", "/items/1", {"name": "\x00"}, ["body", "name"]),
        ("GET", "/items/?name=a%00", None, ["query", "name"]),
        ("GET", "/items/?name__like=%00%25", None, ["query", "name__like"]),
    ],
    ids=["create", "bulk", "patch", "filter", "pattern"],
)
def test_a_nul_character_is_a_422_naming_the_field_on_every_database(
    client: TestClient, method: str, path: str, body: Any, loc: list[Any]
) -> None:
    """No database is given a NUL: PostgreSQL refuses one, the others cut strings there."""
    assert client.post("/items/", json={"name": "kept"}).status_code == 200
    response = client.request(method, path, json=body)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("string_pattern_mismatch", loc)
    assert error["ctx"] == {"pattern": "^[^\\x00]*$"}
    assert [row["name"] for row in client.get("/items/").json()] == ["kept"]


@pytest.mark.parametrize(
    ("query", "loc", "kind"),
    [
        ("cursor=a", "cursor", "string_pattern_mismatch"),
        ("cursor=WyI%3D", "cursor", "string_pattern_mismatch"),
        ("cursor=" + "A" * 4097, "cursor", "string_too_long"),
        ("cursor=AAAA", "cursor", "invalid_query"),
        ("offset=1&cursor=AAAA", "cursor", "invalid_query"),
        ("order_by=name,,name", "order_by", "string_pattern_mismatch"),
        ("order_by=nome", "order_by", "string_pattern_mismatch"),
        ("id__ge=99999999999999999999", "id__ge", "less_than_equal"),
    ],
    ids=[
        "length",
        "padding",
        "too-long",
        "not-sent",
        "with-offset",
        "empty-key",
        "unknown-key",
        "out-of-range",
    ],
)
def test_a_parameter_outside_its_declared_shape_is_a_422_naming_it(
    client: TestClient, query: str, loc: str, kind: str
) -> None:
    response = client.get(f"/items/?{query}")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["type"], error["loc"]) == (kind, ["query", loc])


def test_what_the_declared_shapes_allow_is_accepted(client: TestClient) -> None:
    """A key named again adds nothing; offset 0 is no offset; a cursor the API sent is taken back."""
    for name in ("b", "a", "c"):
        assert client.post("/items/", json={"name": name}).status_code == 200
    names = [
        row["name"] for row in client.get("/items/?order_by=name,-name,%20name").json()
    ]
    assert names == ["a", "b", "c"]
    first = client.get("/items/?order_by=name&limit=1")
    cursor = first.headers["x-next-cursor"]
    assert re.fullmatch(CURSOR_PATTERN, cursor)
    rest = client.get(f"/items/?order_by=name&limit=5&offset=0&cursor={cursor}")
    assert [row["name"] for row in rest.json()] == ["b", "c"]


@pytest.mark.parametrize(
    "value", [False, "5", "x"], ids=["boolean", "numeric-string", "string"]
)
def test_a_number_field_takes_numbers_only(client: TestClient, value: Any) -> None:
    response = client.post("/numbers/", json={"count": value})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("int_type", ["body", "count"])
    assert client.post("/numbers/", json={"count": 5.0}).json()["count"] == 5


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
