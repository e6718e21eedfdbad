"""Soft delete, complete: a deleted row read and purged by admins, a parent's delete reaching its children, no child under a deleted parent.

On six targets: a project's soft delete cascades to its tasks or is refused
while it has live notes (or, on another router, live tasks), in one
transaction; a task or note naming a soft-deleted project gets the 422 of a
missing one; admins read one deleted row and purge it.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import Depends, Header, HTTPException
from fastapi.testclient import TestClient
from sqlmodel import Field, Relationship, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import crud_router
from sqlmodel_production.models import SoftDelete
from tests.conftest import Target, serving


class SdProject(SoftDelete, table=True):
    __tablename__ = "sd_project"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    tasks: list["SdTask"] = Relationship(back_populates="project")
    notes: list["SdNote"] = Relationship()


class SdTask(SoftDelete, table=True):
    __tablename__ = "sd_task"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=50)
    project_id: int | None = Field(
        default=None, foreign_key="sd_project.id", index=True
    )
    project: SdProject | None = Relationship(back_populates="tasks")


class SdNote(SQLModel, table=True):
    """A child without soft delete."""

    __tablename__ = "sd_note"
    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=50)
    project_id: int | None = Field(
        default=None, foreign_key="sd_project.id", index=True
    )


TABLES = [t.__table__ for t in (SdProject, SdTask, SdNote)]  # type: ignore[attr-defined]
ADMIN = {"X-Admin": "yes"}
# Project 1 (tasks 11 and 12, and task 13 deleted long ago), project 2 (task 14),
# project 3 deleted long ago, project 4 with a note. (Task ids clear of those
# PostgreSQL's sequence gives the tasks the tests create.)
LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)
MISSING = 999


def admin(x_admin: str = Header(default="")) -> None:
    if x_admin != "yes":
        raise HTTPException(status_code=403, detail="Admins only")


def _rows(conn: sa.Connection) -> None:
    conn.execute(
        sa.insert(SdProject),
        [
            {"id": 1, "name": "one", "deleted_at": None},
            {"id": 2, "name": "two", "deleted_at": None},
            {"id": 3, "name": "gone", "deleted_at": LONG_AGO},
            {"id": 4, "name": "noted", "deleted_at": None},
        ],
    )
    conn.execute(
        sa.insert(SdTask),
        [
            {"id": 11, "title": "a", "project_id": 1, "deleted_at": None},
            {"id": 12, "title": "b", "project_id": 1, "deleted_at": None},
            {"id": 13, "title": "c", "project_id": 1, "deleted_at": LONG_AGO},
            {"id": 14, "title": "z", "project_id": 2, "deleted_at": None},
        ],
    )
    conn.execute(sa.insert(SdNote), [{"id": 1, "text": "n", "project_id": 4}])


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    deleted_rows = [Depends(admin)]
    routers = [
        crud_router(
            SdProject,
            prefix="/projects",
            name="Project",
            async_=target.async_,
            on_delete={"tasks": "cascade", "notes": "refuse"},
            deleted_rows=deleted_rows,
        ),
        crud_router(
            SdProject,
            prefix="/boards",
            name="Board",
            async_=target.async_,
            on_delete={"tasks": "refuse"},
            exclude={"create", "list", "bulk"},
        ),
        crud_router(
            SdTask, prefix="/tasks", async_=target.async_, deleted_rows=deleted_rows
        ),
        crud_router(SdNote, prefix="/notes", async_=target.async_),
    ]
    with serving(database, TABLES, routers, rows=_rows) as client:
        yield client


def marks(database: Database, model: Any) -> dict[int, datetime | None]:
    """Each row's `deleted_at`, by id, straight from the table."""
    with database.engine.connect() as conn:
        rows = conn.execute(sa.select(model.id, model.deleted_at)).all()
    return {row.id: row.deleted_at for row in rows}


def titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(row["title"] for row in response.json())


def test_a_parent_s_soft_delete_cascades_to_its_live_children(
    client: TestClient, database: Database
) -> None:
    assert client.delete("/projects/1").json() == {"ok": True}
    assert titles(client.get("/tasks/")) == ["z"]
    assert titles(client.get("/tasks/deleted/", headers=ADMIN)) == ["a", "b", "c"]
    tasks = marks(database, SdTask)
    assert tasks[11] is not None and tasks[12] is not None and tasks[14] is None
    # A child deleted before keeps its own mark.
    assert tasks[13] is not None and tasks[13].replace(tzinfo=UTC) == LONG_AGO
    assert client.get("/projects/1").status_code == 404
    assert client.get("/projects/2").status_code == 200


def test_a_refusing_relationship_is_a_409_while_live_children_exist(
    client: TestClient, database: Database
) -> None:
    client.post("/tasks/", json={"title": "t", "project_id": 4})
    before = marks(database, SdTask)
    refused = client.delete("/projects/4")
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert (body["code"], body["fields"]) == ("still_referenced", ["notes"])
    # Nothing changed: neither the project nor the tasks its delete would cascade to.
    assert client.get("/projects/4").status_code == 200
    assert marks(database, SdTask) == before
    assert client.delete("/notes/1").status_code == 200
    assert client.delete("/projects/4").status_code == 200
    assert titles(client.get("/tasks/")) == ["a", "b", "z"]


def test_soft_deleted_children_do_not_hold_a_refusing_parent(
    client: TestClient,
) -> None:
    refused = client.delete("/boards/2")
    assert refused.status_code == 409, refused.text
    assert refused.json()["fields"] == ["tasks"]
    assert client.get("/boards/2").status_code == 200
    assert client.delete("/tasks/14").status_code == 200
    assert client.delete("/boards/2").status_code == 200
    assert client.get("/boards/2").status_code == 404


def _refused(response: Any) -> Any:
    assert response.status_code == 422, response.text
    return response.json()


def test_a_child_cannot_name_a_soft_deleted_parent(
    client: TestClient, database: Database
) -> None:
    deleted = _refused(client.post("/tasks/", json={"title": "x", "project_id": 3}))
    missing = _refused(
        client.post("/tasks/", json={"title": "x", "project_id": MISSING})
    )
    assert deleted == missing
    assert deleted["detail"][0]["loc"] == ["body", "project_id"]
    assert deleted["detail"][0]["type"] == "foreign_key_violation"
    # A child without soft delete of its own, too.
    note = _refused(client.post("/notes/", json={"text": "x", "project_id": 3}))
    assert note["detail"][0]["loc"] == ["body", "project_id"]
    # An update cannot move a row under a deleted parent.
    moved = _refused(client.patch("/tasks/14", json={"project_id": 3}))
    assert moved == _refused(client.patch("/tasks/14", json={"project_id": MISSING}))
    assert client.get("/tasks/14").json()["project_id"] == 2
    # A bulk create names the row at fault and writes nothing.
    rows = [{"title": "p", "project_id": 2}, {"title": "q", "project_id": 3}]
    bulk = _refused(client.post("/tasks/bulk", json=rows))
    assert bulk["detail"][0]["loc"] == ["body", 1, "project_id"]
    assert titles(client.get("/tasks/")) == ["a", "b", "z"]
    # A parent deleted through the API is as gone; live and absent parents behave as before.
    client.delete("/projects/2")
    _refused(client.post("/tasks/", json={"title": "y", "project_id": 2}))
    assert (
        client.post("/tasks/", json={"title": "y", "project_id": 1}).status_code == 200
    )
    assert client.post("/tasks/", json={"title": "w"}).status_code == 200
    assert len(marks(database, SdTask)) == 6


def test_admins_read_one_deleted_row(client: TestClient) -> None:
    assert client.get("/projects/deleted/3").status_code == 403
    found = client.get("/projects/deleted/3", headers=ADMIN)
    assert found.status_code == 200, found.text
    assert found.json()["name"] == "gone" and found.json()["deleted_at"] is not None
    live = client.get("/projects/deleted/1", headers=ADMIN)
    assert live.status_code == 404
    assert live.json() == {"detail": "Deleted project not found"}
    assert client.get(f"/projects/deleted/{MISSING}", headers=ADMIN).status_code == 404


def test_admins_purge_deleted_rows_for_good(
    client: TestClient, database: Database
) -> None:
    assert client.delete("/projects/deleted/3").status_code == 403
    assert client.delete("/projects/deleted/1", headers=ADMIN).status_code == 404
    assert 1 in marks(database, SdProject)  # a live row is never purged
    client.delete("/projects/1")
    # Its deleted tasks still refer to it: the database refuses.
    held = client.delete("/projects/deleted/1", headers=ADMIN)
    assert held.status_code == 409, held.text
    assert held.json()["code"] == "still_referenced"
    assert 1 in marks(database, SdProject)
    for task in (11, 12, 13):
        purged = client.delete(f"/tasks/deleted/{task}", headers=ADMIN)
        assert purged.json() == {"ok": True}
    assert client.delete("/projects/deleted/1", headers=ADMIN).json() == {"ok": True}
    assert set(marks(database, SdProject)) == {2, 3, 4}
    assert set(marks(database, SdTask)) == {14}
    assert client.delete("/projects/deleted/1", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(
    ("model", "on_delete", "error", "message"),
    [
        (SdProject, {"task": "cascade"}, ValueError, "not a relationship of SdProject"),
        (SdProject, {"tasks": "nullify"}, ValueError, "must be 'cascade' or 'refuse'"),
        (SdProject, {"notes": "cascade"}, TypeError, "needs soft delete on SdNote"),
        (SdTask, {"project": "refuse"}, ValueError, "only a one-to-many"),
        (SdNote, {"project": "refuse"}, TypeError, "needs soft delete on SdNote"),
    ],
    ids=["unknown", "action", "child", "many-to-one", "parent"],
)
def test_on_delete_is_checked_at_start_up(
    model: Any, on_delete: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        crud_router(model, prefix="/x", on_delete=on_delete)


def test_the_deleted_rows_endpoints_can_be_left_out_one_by_one() -> None:
    def paths(**options: Any) -> set[tuple[str, str]]:
        router = crud_router(
            SdProject, prefix="/p", deleted_rows=[], name="Project", **options
        )
        return {
            (method, route.path)  # type: ignore[attr-defined]
            for route in router.routes
            for method in route.methods  # type: ignore[attr-defined]
            if "deleted" in route.path or "restore" in route.path  # type: ignore[attr-defined]
        }

    every = {
        ("GET", "/p/deleted/"),
        ("GET", "/p/deleted/{project_id}"),
        ("DELETE", "/p/deleted/{project_id}"),
        ("POST", "/p/{project_id}/restore"),
    }
    assert paths() == every
    assert paths(exclude={"purge"}) == every - {("DELETE", "/p/deleted/{project_id}")}
    assert paths(exclude={"read_deleted"}) == every - {
        ("GET", "/p/deleted/{project_id}")
    }
