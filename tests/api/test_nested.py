"""Included relationships on the read endpoint: bounded per row, in a fixed order, in constant queries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import crud_router
from sqlmodel_production.api._nested import TRUNCATED
from sqlmodel_production.crud._related import INCLUDE_LIMIT, include_limits
from sqlmodel_production.models import derive_schemas
from sqlmodel_production.testing import assert_queries
from tests.conftest import Target
from tests.crud._books import (
    FbAuthor,
    FbBook,
    FbBookTag,
    FbTag,
    create_books,
    drop_books,
)

BOOK = FbBook.__table__  # type: ignore[attr-defined]
LINK = FbBookTag.__table__  # type: ignore[attr-defined]
AuthorPublic = derive_schemas(FbAuthor).Public
BookPublic = derive_schemas(FbBook).Public
TagPublic = derive_schemas(FbTag).Public
MANY = 3001  # books added to author 4 and to tag 3


class FbBookWithTags(BookPublic):  # type: ignore[misc, valid-type]
    """Not flat: only the ORM loads it."""

    tags: list[TagPublic] = []  # type: ignore[valid-type]


@pytest.fixture
def make_client(
    target: Target, database: Database
) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(model: type[SQLModel], prefix: str, **options: Any) -> TestClient:
        app = FastAPI(lifespan=database.lifespan)
        app.include_router(
            crud_router(model, prefix=prefix, async_=target.async_, **options)
        )
        # Async pools belong to one client's event loop: end the previous client first.
        while clients:
            clients.pop().__exit__(None, None, None)
        clients.append(TestClient(app).__enter__())
        return clients[-1]

    with database.engine.connect() as conn:
        create_books(conn)
        # Inserted in descending ids: the physical order must not be the answer's order.
        rows = [
            {"id": 1000 + i, "title": f"b{i}", "price": i, "author_id": 4}
            for i in range(MANY, 0, -1)
        ]
        conn.execute(sa.insert(BOOK), rows)
        conn.execute(sa.insert(LINK), [{"book_id": r["id"], "tag_id": 3} for r in rows])
        conn.commit()
    yield make
    for client in clients:
        client.__exit__(None, None, None)
    with database.engine.connect() as conn:
        drop_books(conn)
    asyncio.run(database.dispose())


def book_ids(response: Any, key: str = "books") -> list[int]:
    assert response.status_code == 200, response.text
    return [book["id"] for book in response.json()[key]]


def test_a_to_many_include_stops_at_the_default_limit(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(FbAuthor, "/authors", include={"books": BookPublic})
    with assert_queries(2):
        response = client.get("/authors/4")
    # Author 4 wrote books 2 and 6, then 1001..4001: the first 100 by id.
    assert book_ids(response) == [2, 6, *range(1001, 1001 + INCLUDE_LIMIT - 2)]
    assert response.headers[TRUNCATED] == "books"
    assert response.json()["name"] == "Neil Gaiman"
    # Under the limit: every book, and no header.
    small = client.get("/authors/1")
    assert book_ids(small) == [1, 3]
    assert TRUNCATED not in small.headers


def test_the_limit_is_set_per_router_or_per_relationship(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(
        FbAuthor, "/authors", include={"books": BookPublic}, include_limit=2
    )
    response = client.get("/authors/4")
    assert (book_ids(response), response.headers[TRUNCATED]) == ([2, 6], "books")
    exact = client.get("/authors/1")  # exactly the limit: nothing was left out
    assert (book_ids(exact), exact.headers.get(TRUNCATED)) == ([1, 3], None)
    client = make_client(
        FbAuthor, "/writers", include={"books": BookPublic}, include_limit={"books": 5}
    )
    assert book_ids(client.get("/writers/4")) == [2, 6, 1001, 1002, 1003]


def test_a_link_table_include_is_bounded_in_constant_queries(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(FbTag, "/tags", include={"books": BookPublic}, include_limit=4)
    with assert_queries(2):
        response = client.get("/tags/3")
    assert (book_ids(response), response.headers[TRUNCATED]) == (
        [2, 5, 6, 1001],
        "books",
    )
    assert book_ids(client.get("/tags/2")) == [1, 2, 8, 9]


def test_a_to_one_include_is_not_limited(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(
        FbBook, "/books", include={"author": AuthorPublic}, include_limit=1
    )
    response = client.get("/books/3")
    assert response.json()["author"] == {"id": 1, "name": "Terry Pratchett"}
    assert TRUNCATED not in response.headers
    assert client.get("/books/7").json()["author"] is None


def test_a_nested_schema_read_by_the_orm_is_bounded_and_ordered(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(
        FbAuthor, "/authors", include={"books": FbBookWithTags}, include_limit=3
    )
    response = client.get("/authors/4")
    assert (book_ids(response), response.headers[TRUNCATED]) == (
        [2, 6, 1001],
        "books",
    )
    assert [tag["id"] for tag in response.json()["books"][0]["tags"]] == [1, 2, 3]


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        (0, "the include limit of 'books' must be a whole number of 1 or more, not 0"),
        ({"books": True}, "the include limit of 'books' must be a whole number"),
        ({"tags": 3}, "include_limit names relationships that are not included: tags"),
    ],
)
def test_a_bad_include_limit_fails_at_start_up(limit: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        include_limits({"books": BookPublic}, limit)
    with pytest.raises(ValueError, match=message):
        crud_router(
            FbAuthor, prefix="/a", include={"books": BookPublic}, include_limit=limit
        )
