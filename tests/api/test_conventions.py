"""`Conventions`: the shapes of FastAPI's full-stack template, served by `crud_router`, on six targets.

A list in an envelope with its count, `PUT` as a partial update, the delete's
own message, `id` as the path parameter, `skip` for the offset and a 403 for
an item of another user: what the template's clients expect.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, Header
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import Conventions, RowScope, crud_router
from tests.conftest import Target, serving


class CvItem(SQLModel, table=True):
    __tablename__ = "cv_item"
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(index=True)
    title: str = Field(max_length=50)
    description: str | None = Field(default=None, max_length=200)


class CvLesson(SQLModel, table=True):
    """A model with a field called like a paging parameter of some conventions."""

    __tablename__ = "cv_lesson"
    id: int | None = Field(default=None, primary_key=True)
    skip: bool = False


TABLES = [CvItem.__table__]  # type: ignore[attr-defined]
TEMPLATE = Conventions(
    list_envelope=("data", "count"),
    update_methods=("PUT",),
    deleted_body={"message": "Item deleted successfully"},
    id_name="id",
    offset_name="skip",
    outside_scope=403,
)
ANN, BOB = {"X-User": "1"}, {"X-User": "2"}


def owner(x_user: int = Header()) -> dict[str, int]:
    return {"owner_id": x_user}


def _router(async_: bool, conventions: Conventions = TEMPLATE) -> APIRouter:
    return crud_router(
        CvItem,
        prefix="/items",
        name="Item",
        async_=async_,
        scope=RowScope(owner, "owner_id"),
        order_by=["title"],
        conventions=conventions,
    )


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    with serving(database, TABLES, [_router(target.async_)]) as client:
        yield client


def test_the_template_s_shapes(client: TestClient) -> None:
    for title in ("a", "b", "c"):
        created = client.post("/items/", json={"title": title}, headers=ANN)
        assert created.status_code == 200, created.text
    client.post("/items/", json={"title": "z"}, headers=BOB)
    page = client.get("/items/?skip=1&limit=1&order_by=title", headers=ANN)
    assert page.status_code == 200, page.text
    assert page.json()["count"] == 3
    assert [row["title"] for row in page.json()["data"]] == ["b"]
    assert client.get("/items/?offset=1", headers=ANN).status_code == 422
    key = created.json()["id"]
    # PUT changes only what it is sent, as PATCH does.
    put = client.put(f"/items/{key}", json={"description": "d"}, headers=ANN)
    assert put.status_code == 200, put.text
    assert put.json()["title"] == "c" and put.json()["description"] == "d"
    assert (
        client.patch(f"/items/{key}", json={"title": "x"}, headers=ANN).status_code
        == 405
    )
    # Another user's item is a 403 with the template's message; a missing one a 404.
    for answer in (
        client.get(f"/items/{key}", headers=BOB),
        client.put(f"/items/{key}", json={"title": "x"}, headers=BOB),
        client.delete(f"/items/{key}", headers=BOB),
    ):
        assert answer.status_code == 403
        assert answer.json() == {"detail": "Not enough permissions"}
    assert client.get("/items/424242", headers=BOB).json() == {
        "detail": "Item not found"
    }
    assert client.get("/items/424242", headers=BOB).status_code == 404
    deleted = client.delete(f"/items/{key}", headers=ANN)
    assert deleted.json() == {"message": "Item deleted successfully"}
    assert client.get(f"/items/{key}", headers=ANN).status_code == 404
    assert client.get("/items/", headers=ANN).json()["count"] == 2


def test_openapi_shows_the_conventions(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/items/{id}"]) == {"get", "put", "delete"}
    listed = paths["/items/"]["get"]
    names = [p["name"] for p in listed["parameters"]]
    assert "skip" in names and "limit" in names and "offset" not in names
    answer = listed["responses"]["200"]["content"]["application/json"]["schema"]
    envelope = spec["components"]["schemas"][answer["$ref"].rsplit("/", 1)[1]]
    assert set(envelope["properties"]) == {"data", "count"}
    read = paths["/items/{id}"]["get"]["parameters"]
    assert [p["name"] for p in read if p["in"] == "path"] == ["id"]
    deleted = paths["/items/{id}"]["delete"]["responses"]["200"]["content"]
    schema = deleted["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(spec["components"]["schemas"][schema]["properties"]) == {"message"}


@pytest.mark.only("sqlite")
def test_patch_and_put_side_by_side(target: Target, database: Database) -> None:
    both = Conventions(update_methods=("PATCH", "PUT"))
    with serving(database, TABLES, [_router(target.async_, both)]) as client:
        key = client.post("/items/", json={"title": "a"}, headers=ANN).json()["id"]
        assert (
            client.patch(f"/items/{key}", json={"title": "b"}, headers=ANN).json()[
                "title"
            ]
            == "b"
        )
        assert (
            client.put(f"/items/{key}", json={"title": "c"}, headers=ANN).json()[
                "title"
            ]
            == "c"
        )
        # The defaults stay: a bare list, 404 outside the scope, {"ok": true}.
        assert client.get("/items/", headers=ANN).json()[0]["title"] == "c"
        assert client.get(f"/items/{key}", headers=BOB).status_code == 404
        assert client.delete(f"/items/{key}", headers=ANN).json() == {"ok": True}
        operations = {
            op["operationId"]
            for path in client.get("/openapi.json").json()["paths"].values()
            for op in path.values()
        }
        assert len(operations) == 7  # create, bulk, list, read, PATCH, PUT, delete


@pytest.mark.parametrize(
    "options",
    [
        {"list_envelope": ("data", "data")},
        {"list_envelope": ("data",)},
        {"id_name": "item id"},
        {"offset_name": "limit"},
        {"update_methods": ()},
        {"update_methods": ("POST",)},
        {"outside_scope": 401},
    ],
)
def test_conventions_are_checked_when_made(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Conventions(**options)


def test_a_filter_may_not_take_a_paging_name() -> None:
    crud_router(CvLesson, prefix="/lessons", filters={"skip": ["eq"]})
    with pytest.raises(ValueError, match="clash with the list endpoint's own"):
        crud_router(
            CvLesson,
            prefix="/lessons",
            filters={"skip": ["eq"]},
            conventions=Conventions(offset_name="skip"),
        )


class CvMessage(SQLModel):
    message: str


@pytest.mark.only("sqlite")
def test_schemas_can_keep_the_names_clients_know(
    target: Target, database: Database
) -> None:
    named = Conventions(
        list_envelope=("data", "count"),
        list_schema="{label}sPublic",
        deleted_body=CvMessage(message="Item deleted successfully"),
    )
    with serving(database, TABLES, [_router(target.async_, named)]) as client:
        key = client.post("/items/", json={"title": "a"}, headers=ANN).json()["id"]
        answer = client.delete(f"/items/{key}", headers=ANN)
        assert answer.json() == {"message": "Item deleted successfully"}
        spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "ItemsPublic" in schemas and "CvMessage" in schemas
    listed = spec["paths"]["/items/"]["get"]["responses"]["200"]["content"]
    assert listed["application/json"]["schema"]["$ref"].endswith("/ItemsPublic")
