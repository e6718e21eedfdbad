"""Conditional requests on versioned rows (RFC 9110): If-Match on PATCH and DELETE, If-None-Match on GET."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import crud_router, install_error_handlers
from sqlmodel_production.db import Backend
from sqlmodel_production.models import IntPK, Versioned
from tests.conftest import Target


class CdDoc(IntPK, Versioned, table=True):
    __tablename__ = "cd_doc"
    title: str = Field(max_length=50)


class CdNote(IntPK, table=True):
    __tablename__ = "cd_note"
    title: str = Field(max_length=50)


TABLES = [CdDoc.__table__, CdNote.__table__]  # type: ignore[attr-defined]


@pytest.fixture
def make_client(
    target: Target, database: Database
) -> Iterator[Callable[..., TestClient]]:
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
    clients: list[TestClient] = []

    def make(**options: object) -> TestClient:
        app = FastAPI(lifespan=database.lifespan)
        app.include_router(
            crud_router(CdDoc, prefix="/docs", async_=target.async_, **options)  # type: ignore[arg-type]
        )
        app.include_router(
            crud_router(CdNote, prefix="/notes", async_=target.async_, **options)  # type: ignore[arg-type]
        )
        install_error_handlers(app)
        clients.append(TestClient(app).__enter__())
        return clients[-1]

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
    asyncio.run(database.dispose())


def test_if_match_on_delete(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    doc = client.post("/docs/", json={"title": "a"})
    path, etag = f"/docs/{doc.json()['id']}", doc.headers["ETag"]
    client.patch(path, json={"title": "b"}, headers={"If-Match": etag})
    stale = client.delete(path, headers={"If-Match": etag})
    assert stale.status_code == 412  # someone changed it since
    assert client.get(path).status_code == 200  # not deleted
    current = client.get(path).headers["ETag"]
    assert client.delete(path, headers={"If-Match": current}).json() == {"ok": True}
    assert client.delete(path, headers={"If-Match": current}).status_code == 404


def test_if_match_star_and_lists(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    doc = client.post("/docs/", json={"title": "a"}).json()  # version 1
    path = f"/docs/{doc['id']}"
    # A list matches any of its tags; `*` any current version.
    assert (
        client.patch(
            path, json={"title": "b"}, headers={"If-Match": '"7", "1"'}
        ).status_code
        == 200
    )
    assert (
        client.patch(
            path, json={"title": "c"}, headers={"If-Match": '"1", "3"'}
        ).status_code
        == 412
    )
    assert (
        client.patch(path, json={"title": "c"}, headers={"If-Match": "*"}).status_code
        == 200
    )
    # If-Match compares strongly: a weak tag never matches.
    assert (
        client.patch(
            path, json={"title": "d"}, headers={"If-Match": 'W/"3"'}
        ).status_code
        == 412
    )
    # `*` names a row that exists: none is a 412, not a 404.
    assert (
        client.patch(
            "/docs/999", json={"title": "x"}, headers={"If-Match": "*"}
        ).status_code
        == 412
    )
    assert client.delete("/docs/999", headers={"If-Match": "*"}).status_code == 412
    assert client.delete(path, headers={"If-Match": "*"}).status_code == 200


def test_if_match_can_be_required(make_client: Callable[..., TestClient]) -> None:
    client = make_client(require_if_match=True)
    doc = client.post("/docs/", json={"title": "a"})
    path = f"/docs/{doc.json()['id']}"
    for response in (client.patch(path, json={"title": "b"}), client.delete(path)):
        assert response.status_code == 428
        assert "If-Match" in response.json()["detail"]
    assert (
        client.patch(
            path, json={"title": "b"}, headers={"If-Match": doc.headers["ETag"]}
        ).status_code
        == 200
    )


def test_if_none_match_gives_304(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    doc = client.post("/docs/", json={"title": "a"})
    path, etag = f"/docs/{doc.json()['id']}", doc.headers["ETag"]
    same = client.get(path, headers={"If-None-Match": etag})
    assert (same.status_code, same.content, same.headers["ETag"]) == (304, b"", etag)
    assert client.get(path, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    assert client.get(path, headers={"If-None-Match": "*"}).status_code == 304
    client.patch(path, json={"title": "b"})
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["title"] == "b"


def test_an_empty_patch_does_not_bump_the_version(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    doc = client.post("/docs/", json={"title": "a"})
    path, etag = f"/docs/{doc.json()['id']}", doc.headers["ETag"]
    empty = client.patch(path, json={}, headers={"If-Match": etag})
    assert (empty.status_code, empty.headers["ETag"]) == (200, etag)
    assert client.patch(path, json={}, headers={"If-Match": '"9"'}).status_code == 412


@pytest.mark.only(Backend.SQLITE)
def test_an_etag_never_names_a_row_that_reused_an_id(
    make_client: Callable[..., TestClient],
) -> None:
    """IntPK keys are never reused (SQLite AUTOINCREMENT): a kept ETag cannot validate a new row."""
    client = make_client()
    first = client.post("/docs/", json={"title": "a"})
    client.delete(f"/docs/{first.json()['id']}")
    second = client.post("/docs/", json={"title": "b"}).json()
    assert second["id"] != first.json()["id"]
    reused = client.patch(
        f"/docs/{first.json()['id']}",
        json={"title": "x"},
        headers={"If-Match": first.headers["ETag"]},
    )
    assert reused.status_code == 404


def test_a_background_update_moves_the_etag(
    make_client: Callable[..., TestClient], database: Database
) -> None:
    client = make_client()
    doc = client.post("/docs/", json={"title": "a"})
    path, etag = f"/docs/{doc.json()['id']}", doc.headers["ETag"]
    with database.engine.begin() as conn:  # a job that writes with Core, not the ORM
        conn.execute(sa.update(CdDoc.__table__).values(title="by the job"))  # type: ignore[attr-defined]
    assert client.get(path).headers["ETag"] != etag
    stale = client.patch(path, json={"title": "b"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert client.get(path).json()["title"] == "by the job"


@pytest.mark.parametrize(
    "header",
    [
        '"99999999999999999999999"',
        '"2147483648"',
        '"\u00b2"'.encode("latin-1"),
        '"-1"',
        "1",
    ],
)
def test_an_if_match_that_names_no_possible_version_is_a_412(
    make_client: Callable[..., TestClient], header: str | bytes
) -> None:
    client = make_client()
    path = f"/docs/{client.post('/docs/', json={'title': 'a'}).json()['id']}"
    answer = client.patch(path, json={"title": "b"}, headers={"If-Match": header})
    assert answer.status_code == 412
    assert client.get(path).json()["title"] == "a"
    assert client.delete(path, headers={"If-Match": header}).status_code == 412


def test_if_match_on_a_model_without_versions_is_refused_not_ignored(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    path = f"/notes/{client.post('/notes/', json={'title': 'a'}).json()['id']}"
    refused = client.patch(path, json={"title": "b"}, headers={"If-Match": '"1"'})
    assert refused.status_code == 412
    assert "no versions" in refused.json()["detail"]
    assert client.delete(path, headers={"If-Match": '"1"'}).status_code == 412
    assert client.get(path).json()["title"] == "a"  # nothing applied
    star = client.patch(path, json={"title": "c"}, headers={"If-Match": "*"})
    assert star.status_code == 200  # `*`: the row exists
    assert client.patch(path, json={"title": "d"}).json()["title"] == "d"
