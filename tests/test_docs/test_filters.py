"""docs/filters.md: related filters, search, the unknown-parameter 422 and the include bound."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from docs_src.filters.tutorial001 import Novel, Writer, create_app
from sqlmodel_production import Database
from sqlmodel_production.api._nested import TRUNCATED
from sqlmodel_production.testing import assert_queries
from tests.conftest import Target
from tests.test_docs._helpers import tables

WRITERS = ["Terry Pratchett", "terry pratchett", "Neil Gaiman"]
NOVELS = [
    ("Mort", 8, 1),
    ("Discworld 100%", 30, 2),
    ("Coraline", 7, 3),
    ("Good Omens", 12, 3),
    ("Anonymous 1000", 5, None),
]


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    with tables(database, Writer, Novel):
        with database.engine.begin() as conn:
            conn.execute(
                sa.insert(Writer.__table__),  # type: ignore[attr-defined]
                [{"id": i, "name": name} for i, name in enumerate(WRITERS, 1)],
            )
            conn.execute(
                sa.insert(Novel.__table__),  # type: ignore[attr-defined]
                [
                    {"title": t, "price": p, "writer_id": w}
                    for t, p, w in NOVELS + [(f"Novel {i}", i, 1) for i in range(30)]
                ],
            )
        with TestClient(create_app(database, async_=target.async_)) as client:
            yield client
        asyncio.run(database.dispose())


def titles(client: TestClient, **params: object) -> list[str]:
    response = client.get("/novels/", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return [row["title"] for row in response.json()]


def test_filters_and_search_through_the_writer(client: TestClient) -> None:
    assert titles(client, writer__name="Terry Pratchett", price__ge=8) == [
        "Mort",
        *(f"Novel {i}" for i in range(8, 30)),
    ]
    assert titles(client, writer__name="terry pratchett") == ["Discworld 100%"]
    assert titles(client, writer__name__ilike="%gaiman") == ["Coraline", "Good Omens"]
    assert titles(client, q="GAIMAN", order_by="-price") == ["Good Omens", "Coraline"]
    assert titles(client, q="100%") == ["Discworld 100%"]
    with assert_queries(1):
        assert titles(client, q="pratchett", price__le=8, order_by="price")[:2] == [
            "Novel 0",
            "Novel 1",
        ]


def test_a_filter_the_field_does_not_allow_is_named_in_a_422(
    client: TestClient,
) -> None:
    response = client.get("/novels/", params={"price__gt": 10})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "unknown_parameter",
                "loc": ["query", "price__gt"],
                "msg": "Novel cannot be filtered with 'price__gt'; "
                "the filters of price: price__ge, price__le",
                "input": "10",
            }
        ]
    }


def test_a_writer_includes_at_most_20_novels(client: TestClient) -> None:
    with assert_queries(2):
        response = client.get("/writers/1")
    novels = response.json()["novels"]
    assert [n["title"] for n in novels] == ["Mort", *(f"Novel {i}" for i in range(19))]
    assert response.headers[TRUNCATED] == "novels"
    small = client.get("/writers/3")
    assert len(small.json()["novels"]) == 2
    assert TRUNCATED not in small.headers
