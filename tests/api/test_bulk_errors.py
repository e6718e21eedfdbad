"""A bulk create's unique and foreign key errors name the row at fault where the database tells."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import crud_router, install_error_handlers
from sqlmodel_production.api._request_errors import MAX_ERRORS
from sqlmodel_production.db import Backend
from tests.conftest import Target


class BeTeam(SQLModel, table=True):
    __tablename__ = "be_team"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)


class BeHero(SQLModel, table=True):
    __tablename__ = "be_hero"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    team_id: int = Field(foreign_key="be_team.id", index=True)


TABLES = [BeTeam.__table__, BeHero.__table__]  # type: ignore[attr-defined]
# SQLite names neither the values nor the row: the answer stays row-less there.
TELLS = {Backend.POSTGRESQL, Backend.MARIADB}


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(crud_router(BeTeam, prefix="/teams", async_=target.async_))
    app.include_router(crud_router(BeHero, prefix="/heroes", async_=target.async_))
    install_error_handlers(app)
    with TestClient(app) as client:
        yield client
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)


def test_a_duplicate_inside_the_batch_names_the_second_row(
    target: Target, client: TestClient
) -> None:
    teams = [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "b"}]
    response = client.post("/teams/bulk", json=teams)
    assert response.status_code == 409
    body = response.json()
    assert body["fields"] == ["name"]
    if target.backend in TELLS:
        assert body["row"] == 3
        assert (
            body["detail"]
            == "Conflict: a be_team with this name already exists (row 3)"
        )
    else:
        assert "row" not in body
    assert client.get("/teams/").json() == []


def test_a_duplicate_of_a_stored_row_names_its_row(
    target: Target, client: TestClient
) -> None:
    assert client.post("/teams/", json={"name": "b"}).status_code == 200
    response = client.post("/teams/bulk", json=[{"name": "a"}, {"name": "b"}])
    assert response.status_code == 409
    assert response.json().get("row") == (1 if target.backend in TELLS else None)
    assert "'b'" not in response.text  # the value itself is never echoed


def test_a_missing_parent_names_the_row_and_field(client: TestClient) -> None:
    team = client.post("/teams/", json={"name": "t"}).json()
    heroes = [
        {"name": "x", "team_id": team["id"]},
        {"name": "y", "team_id": team["id"]},
        {"name": "z", "team_id": team["id"] + 1000},
    ]
    response = client.post("/heroes/bulk", json=heroes)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["type"] == "foreign_key_violation"
    # PostgreSQL prints the value; elsewhere the parents the rows name are looked up.
    assert error["loc"] == ["body", 2, "team_id"]
    assert client.get("/heroes/").json() == []


def test_a_missing_parent_among_repeated_ones_names_its_first_row(
    client: TestClient,
) -> None:
    team = client.post("/teams/", json={"name": "t"}).json()["id"]
    heroes = [{"name": f"h{i}", "team_id": team} for i in range(5)]
    heroes[1]["team_id"] = heroes[3]["team_id"] = team + 7
    response = client.post("/heroes/bulk", json=heroes)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 1, "team_id"]


def test_a_bulk_of_many_bad_rows_lists_the_first_errors_and_counts_them(
    client: TestClient,
) -> None:
    rows = [{"name": "x" * 60} for _ in range(1000)]  # every name too long
    response = client.post("/teams/bulk", json=rows)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert len(detail) == MAX_ERRORS
    assert [e["loc"][:2] for e in detail[:2]] == [["body", 0], ["body", 1]]
    assert response.headers["X-Error-Count"] == "1000"
    assert len(response.content) < 30_000
    few = client.post("/teams/bulk", json=rows[:3])
    assert len(few.json()["detail"]) == 3 and "X-Error-Count" not in few.headers
    assert client.get("/teams/").json() == []
