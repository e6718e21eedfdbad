"""`RowStamp`: who created or last changed a row, written from a dependency, never from the client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import Header
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database, RowScope, RowStamp
from sqlmodel_production.api import crud_router, link_router
from sqlmodel_production.models import IntPK, StringField
from tests.conftest import Target, serving


class StTask(IntPK, table=True):
    __tablename__ = "st_tasks"
    title: str = StringField(max_length=50)
    created_by: int | None = Field(default=None)
    updated_by: int | None = Field(default=None)


class StTeam(IntPK, table=True):
    __tablename__ = "st_teams"
    name: str = StringField(max_length=50)


class StMembership(SQLModel, table=True):
    __tablename__ = "st_memberships"
    team_id: int = Field(foreign_key="st_teams.id", primary_key=True)
    task_id: int = Field(foreign_key="st_tasks.id", primary_key=True, index=True)
    role: str = StringField(max_length=20, default="member")
    added_by: int | None = None
    changed_by: int | None = None


TABLES: list[sa.Table] = [
    StTask.__table__,  # type: ignore[attr-defined]
    StTeam.__table__,  # type: ignore[attr-defined]
    StMembership.__table__,  # type: ignore[attr-defined]
]


async def user_id(x_user: int = Header()) -> int:
    return x_user


STAMP = RowStamp(
    user_id, on_create=["created_by", "updated_by"], on_update=["updated_by"]
)
ANN, BOB = {"X-User": "1"}, {"X-User": "2"}


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[Any]:
    router = crud_router(StTask, prefix="/tasks", async_=target.async_, stamp=STAMP)
    links = link_router(
        StMembership,
        parent=StTeam,
        child=StTask,
        parent_prefix="/teams",
        child_prefix="/tasks",
        async_=target.async_,
        stamp=RowStamp(user_id, on_create=["added_by"], on_update=["changed_by"]),
    )

    def rows(conn: sa.Connection) -> None:
        conn.execute(sa.insert(StTeam.__table__), [{"id": 1, "name": "t"}])  # type: ignore[attr-defined]

    with serving(database, TABLES, [router, links], rows=rows) as client:
        yield client


def _stamps(row: dict[str, Any]) -> tuple[Any, Any]:
    return row["created_by"], row["updated_by"]


def test_a_create_is_stamped_and_an_update_restamped(client: Any) -> None:
    task = client.post("/tasks/", json={"title": "a"}, headers=ANN).json()
    assert _stamps(task) == (1, 1)
    path = f"/tasks/{task['id']}"
    changed = client.patch(path, json={"title": "b"}, headers=BOB).json()
    assert _stamps(changed) == (1, 2)
    assert _stamps(client.get(path).json()) == (1, 2)


def test_an_empty_patch_stamps_nothing(client: Any) -> None:
    task = client.post("/tasks/", json={"title": "a"}, headers=ANN).json()
    path = f"/tasks/{task['id']}"
    assert _stamps(client.patch(path, json={}, headers=BOB).json()) == (1, 1)


def test_bulk_rows_are_stamped(client: Any) -> None:
    rows = client.post(
        "/tasks/bulk", json=[{"title": "a"}, {"title": "b"}], headers=BOB
    )
    assert [_stamps(r) for r in rows.json()] == [(2, 2), (2, 2)]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/tasks/", {"title": "a", "created_by": 9}),
        ("POST", "/tasks/bulk", [{"title": "a", "updated_by": 9}]),
        ("PATCH", "/tasks/{id}", {"updated_by": 9}),
    ],
)
def test_a_client_cannot_send_a_stamped_column(
    client: Any, method: str, path: str, body: Any
) -> None:
    task = client.post("/tasks/", json={"title": "kept"}, headers=ANN).json()
    answer = client.request(method, path.format(id=task["id"]), json=body, headers=ANN)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "extra_forbidden"
    assert [_stamps(r) for r in client.get("/tasks/").json()] == [(1, 1)]


def test_without_the_dependencys_input_nothing_is_written(client: Any) -> None:
    assert client.post("/tasks/", json={"title": "a"}).status_code == 422
    assert client.get("/tasks/").json() == []


def test_a_stamp_is_checked_at_start_up() -> None:
    with pytest.raises(ValueError, match="does not have: made_by"):
        crud_router(StTask, prefix="/t", stamp=RowStamp(user_id, on_create=["made_by"]))

    async def owner(x_user: int = Header()) -> dict[str, int]:
        return {"created_by": x_user}

    with pytest.raises(ValueError, match="both write created_by"):
        crud_router(
            StTask,
            prefix="/t",
            scope=RowScope(owner, "created_by"),
            stamp=RowStamp(user_id, on_create=["created_by"]),
        )
    with pytest.raises(TypeError, match="needs the columns"):
        RowStamp(user_id)


def test_a_link_keeps_who_made_it_and_who_changed_it_last(client: Any) -> None:
    task = client.post("/tasks/", json={"title": "a"}, headers=ANN).json()
    path = f"/teams/1/tasks/{task['id']}"
    made = client.put(path, json={"role": "lead"}, headers=ANN).json()
    assert (made["added_by"], made["changed_by"]) == (1, 1)
    changed = client.put(path, json={"role": "member"}, headers=BOB).json()
    assert (changed["role"], changed["added_by"], changed["changed_by"]) == (
        "member",
        1,
        2,
    )
    sent = client.put(path, json={"role": "x", "added_by": 9}, headers=BOB)
    assert sent.status_code == 422
    assert sent.json()["detail"][0]["loc"] == ["body", "added_by"]
