"""The list endpoint's query parameters over HTTP: unknown ones refused, related filters, search."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from sqlmodel_production import Database
from sqlmodel_production.api import crud_router, install_error_handlers
from sqlmodel_production.testing import assert_queries
from tests.conftest import Target
from tests.crud._books import FbBook, create_books, drop_books


def region(region: str | None = None) -> None:
    """A dependency with a query parameter of its own: the list must let it through."""


@pytest.fixture
def make_client(
    target: Target, database: Database
) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**options: Any) -> TestClient:
        app = FastAPI(lifespan=database.lifespan)
        settings: dict[str, Any] = {
            "filters": {
                "price": ("ge", "le"),
                "author.name": ("eq", "ilike"),
                "tags.name": ("eq", "in"),
            },
            "search": ["title", "author.name"],
            "order_by": ["price"],
            "route_dependencies": {"list": [Depends(region)]},
        }
        app.include_router(
            crud_router(
                FbBook, prefix="/books", async_=target.async_, **(settings | options)
            )
        )
        install_error_handlers(app)
        clients.append(TestClient(app).__enter__())
        return clients[-1]

    with database.engine.connect() as conn:
        create_books(conn)
    yield make
    for client in clients:
        client.__exit__(None, None, None)
    with database.engine.connect() as conn:
        drop_books(conn)
    asyncio.run(database.dispose())


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"price__gt": 100},
            [
                (
                    "price__gt",
                    "FbBook cannot be filtered with 'price__gt'; "
                    "the filters of price: price__ge, price__le",
                )
            ],
        ),
        (
            {"price": 10},
            [
                (
                    "price",
                    "FbBook cannot be filtered with 'price'; "
                    "the filters of price: price__ge, price__le",
                )
            ],
        ),
        (
            {"author__name__like": "T%"},
            [
                (
                    "author__name__like",
                    "FbBook cannot be filtered with 'author__name__like'; "
                    "the filters of author.name: author__name, author__name__ilike",
                )
            ],
        ),
        (
            {"nope": 1, "title": "Mort", "price__ge": 1},
            [
                (
                    "nope",
                    "unknown query parameter 'nope'; this list takes: author__name, "
                    "author__name__ilike, count, cursor, limit, offset, order_by, price__ge, "
                    "price__le, q, region, tags__name, tags__name__in",
                ),
                ("title", None),
            ],
        ),
    ],
)
def test_unknown_or_not_allowed_parameters_are_422_naming_each(
    client: TestClient, params: dict[str, Any], errors: list[tuple[str, str | None]]
) -> None:
    response = client.get("/books/", params=params)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert [(e["loc"], e["type"]) for e in detail] == [
        (["query", name], "unknown_parameter") for name, _ in errors
    ]
    for error, (_, message) in zip(detail, errors, strict=True):
        if message is not None:
            assert error["msg"] == message


def test_every_declared_parameter_passes(client: TestClient) -> None:
    params: dict[str, Any] = {
        "offset": 0,
        "limit": 2,
        "count": "true",
        "order_by": "-price",
        "q": "o",
        "region": "eu",
        "price__ge": 1,
        "price__le": 100,
        "tags__name__in": ["fantasy", "comic"],
        "author__name__ilike": "%",
    }
    response = client.get("/books/", params=params)
    assert ids(response) == [2, 8]
    assert response.headers["X-Total-Count"] == "6"
    cursor = response.headers["X-Next-Cursor"]
    del params["offset"]
    assert ids(client.get("/books/", params={**params, "cursor": cursor})) == [9, 1]


def test_without_search_q_is_unknown(make_client: Callable[..., TestClient]) -> None:
    client = make_client(search=(), order_by=())
    for name in ("q", "order_by"):
        response = client.get("/books/", params={name: "x"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", name]


def test_a_single_valued_parameter_given_twice_is_a_422(client: TestClient) -> None:
    for name, values in (
        ("limit", ["1", "2"]),
        ("order_by", ["price", "-price"]),
        ("author__name", ["Terry Pratchett", "Neil Gaiman"]),
    ):
        response = client.get("/books/", params={name: values})
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert (error["type"], error["loc"]) == ("repeated_parameter", ["query", name])
    both = client.get("/books/", params={"tags__name__in": ["fantasy", "comic"]})
    assert both.status_code == 200  # a list parameter takes repeated values


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"author__name": "Terry Pratchett"}, [1, 3]),
        ({"author__name": "terry pratchett"}, [4]),
        ({"author__name__ilike": "terry%"}, [1, 3, 4, 8, 9]),
        ({"tags__name__in": ["fantasy", "comic"]}, [1, 2, 3, 5, 8, 9]),
        ({"tags__name": "old", "price__le": 9}, [5, 6]),
        ({"q": "DISC"}, [4]),
        ({"q": "100%"}, [5, 7]),
        ({"q": "small_"}, [8]),
        ({"q": "gaiman", "tags__name": "comic"}, [2]),
    ],
)
def test_related_filters_and_search_in_one_query(
    client: TestClient, params: dict[str, Any], expected: list[int]
) -> None:
    with assert_queries(1):
        response = client.get("/books/", params=params)
    assert ids(response) == expected
