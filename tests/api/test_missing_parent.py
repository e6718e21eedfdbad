"""A reference to a missing row names its field, on a table with several foreign keys.

SQLite's error names no constraint and no column; the field is found by looking up
the parents the write named, in its transaction. PostgreSQL and MariaDB name the
constraint themselves. The same answer on every target, sync and async.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Field

from sqlmodel_production import Database
from sqlmodel_production.api import crud_router
from sqlmodel_production.models import IntPK, StringField
from tests.conftest import Target, serving


class MpProject(IntPK, table=True):
    __tablename__ = "mp_projects"
    name: str = StringField(max_length=50)


class MpPerson(IntPK, table=True):
    __tablename__ = "mp_people"
    name: str = StringField(max_length=50)


class MpTask(IntPK, table=True):
    __tablename__ = "mp_tasks"
    title: str = StringField(max_length=50)
    project_id: int = Field(foreign_key="mp_projects.id", index=True)
    owner_id: int | None = Field(default=None, foreign_key="mp_people.id", index=True)


TABLES: list[sa.Table] = [
    MpProject.__table__,  # type: ignore[attr-defined]
    MpPerson.__table__,  # type: ignore[attr-defined]
    MpTask.__table__,  # type: ignore[attr-defined]
]


def _rows(conn: sa.Connection) -> None:
    conn.execute(sa.insert(TABLES[0]), [{"id": 1, "name": "p"}])
    conn.execute(sa.insert(TABLES[1]), [{"id": 1, "name": "ann"}])


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[Any]:
    router = crud_router(MpTask, prefix="/tasks", async_=target.async_)
    with serving(database, TABLES, [router], rows=_rows) as client:
        yield client


def _field(answer: Any) -> list[Any]:
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["detail"]
    assert error["type"] == "foreign_key_violation"
    return list(error["loc"])


def test_create_names_the_missing_parents_field(client: Any) -> None:
    good = {"title": "t", "project_id": 1, "owner_id": 1}
    assert _field(client.post("/tasks/", json={**good, "owner_id": 9})) == [
        "body",
        "owner_id",
    ]
    assert _field(client.post("/tasks/", json={**good, "project_id": 9})) == [
        "body",
        "project_id",
    ]
    assert client.get("/tasks/").json() == []  # nothing written


def test_update_names_the_missing_parents_field(client: Any) -> None:
    task = client.post("/tasks/", json={"title": "t", "project_id": 1}).json()
    answer = client.patch(f"/tasks/{task['id']}", json={"owner_id": 9})
    assert _field(answer) == ["body", "owner_id"]
    assert client.get(f"/tasks/{task['id']}").json()["owner_id"] is None


def test_bulk_create_names_the_row_and_the_field(client: Any) -> None:
    rows = [
        {"title": "a", "project_id": 1, "owner_id": 1},
        {"title": "b", "project_id": 1, "owner_id": 7},
    ]
    assert _field(client.post("/tasks/bulk", json=rows)) == ["body", 1, "owner_id"]
    assert client.get("/tasks/").json() == []
