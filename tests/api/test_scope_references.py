"""Foreign keys inside the row scope: a tenant cannot point its rows at another tenant's.

An org's task may name only a project and an assignee of the same org, live;
another org's id gets exactly the 422 a missing id gets, so ids cannot be
probed. Creates, bulk creates and updates, on six targets.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import Header
from fastapi.testclient import TestClient
from sqlmodel import Field, Relationship, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import RowScope, crud_router, link_router
from sqlmodel_production.models import SoftDelete
from tests.conftest import Target, serving


class SrProject(SoftDelete, table=True):
    __tablename__ = "sr_project"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(index=True)
    name: str = Field(max_length=50)


class SrMember(SQLModel, table=True):
    __tablename__ = "sr_member"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(index=True)
    name: str = Field(max_length=50)


class SrLabel(SQLModel, table=True):
    """Shared by every org: no org_id, nothing to check."""

    __tablename__ = "sr_label"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)


class SrTask(SQLModel, table=True):
    __tablename__ = "sr_task"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(index=True)
    title: str = Field(max_length=50)
    project_id: int | None = Field(
        default=None, foreign_key="sr_project.id", index=True
    )
    assignee_id: int | None = Field(
        default=None, foreign_key="sr_member.id", index=True
    )
    label_id: int | None = Field(default=None, foreign_key="sr_label.id", index=True)
    project: SrProject | None = Relationship()


class SrTaskLabel(SQLModel, table=True):
    """A label on a task, and the project it was given for: a reference in the link's data."""

    __tablename__ = "sr_task_label"
    task_id: int = Field(foreign_key="sr_task.id", primary_key=True)
    label_id: int = Field(foreign_key="sr_label.id", primary_key=True)
    for_project: int | None = Field(default=None, foreign_key="sr_project.id")


TABLES = [t.__table__ for t in (SrProject, SrMember, SrLabel, SrTask, SrTaskLabel)]  # type: ignore[attr-defined]


def current_org(x_org: int = Header()) -> dict[str, int]:
    return {"org_id": x_org}


ORG1, ORG2 = {"X-Org": "1"}, {"X-Org": "2"}
# Org 1 owns project 1 (and the deleted project 3) and member 1; org 2 owns project 2 and member 2.
OWN, OTHERS, DELETED, MISSING = 1, 2, 3, 999


def _rows(conn: object) -> None:
    conn.execute(  # type: ignore[attr-defined]
        SrProject.__table__.insert(),  # type: ignore[attr-defined]
        [
            {"id": 1, "org_id": 1, "name": "ours", "deleted_at": None},
            {"id": 2, "org_id": 2, "name": "theirs", "deleted_at": None},
            {
                "id": 3,
                "org_id": 1,
                "name": "gone",
                "deleted_at": datetime(2024, 1, 1, tzinfo=UTC),
            },
        ],
    )
    conn.execute(  # type: ignore[attr-defined]
        SrMember.__table__.insert(),  # type: ignore[attr-defined]
        [{"id": 1, "org_id": 1, "name": "ann"}, {"id": 2, "org_id": 2, "name": "bob"}],
    )
    conn.execute(SrLabel.__table__.insert(), [{"id": 1, "name": "urgent"}])  # type: ignore[attr-defined]


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    tasks = crud_router(
        SrTask,
        prefix="/tasks",
        async_=target.async_,
        scope=RowScope(current_org, "org_id"),
        created_status=201,
    )
    labels = link_router(
        SrTaskLabel,
        parent=SrTask,
        child=SrLabel,
        parent_prefix="/labelled",
        child_prefix="/labels",
        async_=target.async_,
        scope=RowScope(current_org, "org_id"),
    )
    with serving(database, TABLES, [tasks, labels], rows=_rows) as client:
        yield client


def _refused(response: object) -> object:
    """A 422 without what differs between apps (nothing should differ between ids)."""
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    return response.json()  # type: ignore[attr-defined]


def test_a_create_names_only_live_rows_of_its_own_scope(client: TestClient) -> None:
    ok = client.post(
        "/tasks/",
        json={"title": "a", "project_id": OWN, "assignee_id": 1, "label_id": 1},
        headers=ORG1,
    )
    assert ok.status_code == 201, ok.text
    assert client.post("/tasks/", json={"title": "b"}, headers=ORG1).status_code == 201
    missing = _refused(
        client.post("/tasks/", json={"title": "c", "project_id": MISSING}, headers=ORG1)
    )
    others = _refused(
        client.post("/tasks/", json={"title": "c", "project_id": OTHERS}, headers=ORG1)
    )
    deleted = _refused(
        client.post("/tasks/", json={"title": "c", "project_id": DELETED}, headers=ORG1)
    )
    assert missing == others == deleted
    assert missing["detail"][0]["loc"] == ["body", "project_id"]  # type: ignore[index]
    assignee = _refused(
        client.post("/tasks/", json={"title": "c", "assignee_id": 2}, headers=ORG1)
    )
    assert assignee["detail"][0]["loc"] == ["body", "assignee_id"]  # type: ignore[index]
    # Org 2 may use its own project and member.
    theirs = client.post(
        "/tasks/",
        json={"title": "d", "project_id": OTHERS, "assignee_id": 2},
        headers=ORG2,
    )
    assert theirs.status_code == 201, theirs.text
    titles = {t["title"] for t in client.get("/tasks/", headers=ORG1).json()}
    assert titles == {"a", "b"}


def test_an_update_cannot_move_a_row_to_another_scope_s_reference(
    client: TestClient,
) -> None:
    task = client.post(
        "/tasks/", json={"title": "a", "project_id": OWN}, headers=ORG1
    ).json()
    path = f"/tasks/{task['id']}"
    missing = _refused(client.patch(path, json={"project_id": MISSING}, headers=ORG1))
    others = _refused(client.patch(path, json={"project_id": OTHERS}, headers=ORG1))
    assert missing == others
    assert client.get(path, headers=ORG1).json()["project_id"] == OWN
    assert (
        client.patch(path, json={"project_id": None}, headers=ORG1).status_code == 200
    )
    moved = client.patch(path, json={"project_id": OWN, "title": "b"}, headers=ORG1)
    assert moved.status_code == 200 and moved.json()["project_id"] == OWN
    # Another org's task stays absent, whatever the body names.
    assert (
        client.patch(path, json={"project_id": OTHERS}, headers=ORG2).status_code == 404
    )
    assert (
        client.patch(path, json={"project_id": MISSING}, headers=ORG2).status_code
        == 404
    )


def test_a_bulk_create_names_the_row_at_fault_and_writes_nothing(
    client: TestClient,
) -> None:
    rows = [
        {"title": "a", "project_id": OWN},
        {"title": "b"},
        {"title": "c", "project_id": OTHERS},
    ]
    refused = _refused(client.post("/tasks/bulk", json=rows, headers=ORG1))
    assert refused["detail"][0]["loc"] == ["body", 2, "project_id"]  # type: ignore[index]
    rows[2]["project_id"] = MISSING
    assert _refused(client.post("/tasks/bulk", json=rows, headers=ORG1)) == refused
    assert client.get("/tasks/", headers=ORG1).json() == []
    rows[2]["project_id"] = OWN
    assert client.post("/tasks/bulk", json=rows, headers=ORG1).status_code == 201
    assert len(client.get("/tasks/", headers=ORG1).json()) == 3


def test_a_link_s_data_names_only_live_rows_of_its_own_scope(
    client: TestClient,
) -> None:
    task = client.post("/tasks/", json={"title": "a"}, headers=ORG1).json()
    path = f"/labelled/{task['id']}/labels/1"
    ok = client.put(path, json={"for_project": OWN}, headers=ORG1)
    assert ok.status_code == 200, ok.text
    missing = _refused(client.put(path, json={"for_project": MISSING}, headers=ORG1))
    others = _refused(client.put(path, json={"for_project": OTHERS}, headers=ORG1))
    deleted = _refused(client.put(path, json={"for_project": DELETED}, headers=ORG1))
    assert missing == others == deleted
    assert missing["detail"][0]["loc"] == ["body", "for_project"]  # type: ignore[index]
    # The refused writes changed nothing; org 2 does not see org 1's task at all.
    read = client.get(f"/labelled/{task['id']}", headers=ORG1).json()
    assert [label["for_project"] for label in read["labels"]] == [OWN]
    assert (
        client.put(path, json={"for_project": OTHERS}, headers=ORG2).status_code == 404
    )
