"""Scope shapes: several values (a user in several orgs) and every row (a super-admin), on six targets.

A create writes one org: the stamp the dependency gives, or, with
`named_on_create=True`, the org the body names (one of the request's).
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Header
from fastapi.testclient import TestClient
from sqlmodel import SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import RowScope, crud_router
from tests.api.test_scope_references import TABLES, SrTask, _rows
from tests.conftest import Target, serving


def orgs(x_orgs: str = Header(), x_stamp: str = Header(default="")) -> dict[str, Any]:
    """`X-Orgs: 1,2` (several), `X-Orgs: *` (every org); `X-Stamp`: a create's org."""
    stamp = {"stamp": int(x_stamp)} if x_stamp else {}
    if x_orgs == "*":
        return {"org_id": RowScope.all(**stamp) if stamp else RowScope.ALL}
    values = [int(v) for v in x_orgs.split(",")]
    if len(values) == 1:
        return {"org_id": values[0]}
    return {"org_id": RowScope.any_of(*values, **stamp)}


class SrProjectPublic(SQLModel):
    id: int
    name: str


class SrProjectNoted(SQLModel):
    """A field that is no column: the ORM loads the included project."""

    id: int
    name: str
    note: str | None = None


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    tasks = crud_router(
        SrTask,
        prefix="/tasks",
        async_=target.async_,
        scope=RowScope(orgs, "org_id"),
        filters={"title": ["eq"]},
        include={"project": SrProjectPublic},
    )
    plain = crud_router(
        SrTask, prefix="/plain", async_=target.async_, scope=RowScope(orgs, "org_id")
    )
    named = crud_router(
        SrTask,
        prefix="/named",
        async_=target.async_,
        scope=RowScope(orgs, "org_id", named_on_create=True),
        include={"project": SrProjectNoted},
    )
    with serving(database, TABLES, [tasks, plain, named], rows=_rows) as client:
        for org, title in ((1, "a"), (2, "b"), (3, "c")):
            created = client.post(
                "/plain/", json={"title": title}, headers={"X-Orgs": str(org)}
            )
            assert created.status_code == 200, created.text
        yield client


def titles(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {row["title"] for row in response.json()}


def test_several_values_see_the_rows_of_each(client: TestClient) -> None:
    both = {"X-Orgs": "1,2"}
    assert titles(client.get("/plain/", headers=both)) == {"a", "b"}
    assert titles(client.get("/plain/?count=true", headers=both)) == {"a", "b"}
    rows = {
        r["title"]: r["id"]
        for r in client.get("/plain/", headers={"X-Orgs": "*"}).json()
    }
    assert client.get(f"/plain/{rows['b']}", headers=both).status_code == 200
    assert client.get(f"/plain/{rows['c']}", headers=both).status_code == 404
    assert (
        client.patch(
            f"/plain/{rows['a']}", json={"title": "a2"}, headers=both
        ).status_code
        == 200
    )
    assert (
        client.patch(
            f"/plain/{rows['c']}", json={"title": "c2"}, headers=both
        ).status_code
        == 404
    )
    # A create needs one org: the stamp, one of them.
    refused = client.post("/plain/", json={"title": "d"}, headers=both)
    assert refused.status_code == 500 and refused.json()["code"] == "invalid_scope"
    created = client.post(
        "/plain/", json={"title": "d"}, headers={**both, "X-Stamp": "2"}
    )
    assert created.status_code == 200 and created.json()["org_id"] == 2
    bulk = client.post(
        "/plain/bulk", json=[{"title": "e"}], headers={**both, "X-Stamp": "1"}
    )
    assert bulk.status_code == 200 and bulk.json()[0]["org_id"] == 1
    assert client.delete(f"/plain/{rows['b']}", headers=both).status_code == 200
    assert titles(client.get("/plain/", headers=both)) == {"a2", "d", "e"}


def test_every_row_for_a_super_admin(client: TestClient) -> None:
    admin = {"X-Orgs": "*"}
    assert titles(client.get("/plain/", headers=admin)) == {"a", "b", "c"}
    assert titles(client.get("/tasks/?title=c", headers=admin)) == {"c"}
    c = client.get("/tasks/?title=c", headers=admin).json()[0]
    assert (
        client.patch(
            f"/plain/{c['id']}", json={"title": "c2"}, headers=admin
        ).status_code
        == 200
    )
    refused = client.post("/plain/", json={"title": "d"}, headers=admin)
    assert refused.status_code == 500 and refused.json()["code"] == "invalid_scope"
    created = client.post(
        "/plain/", json={"title": "d"}, headers={**admin, "X-Stamp": "5"}
    )
    assert created.json()["org_id"] == 5
    assert client.delete(f"/plain/{c['id']}", headers=admin).status_code == 200
    assert titles(client.get("/plain/", headers=admin)) == {"a", "b", "d"}


def test_references_stay_in_the_row_s_own_org(client: TestClient) -> None:
    """Project 1 is org 1's, project 2 org 2's: an admin's task of org 1 may not name project 2."""
    admin = {"X-Orgs": "*", "X-Stamp": "1"}
    refused = client.post(
        "/plain/", json={"title": "x", "project_id": 2}, headers=admin
    )
    assert refused.status_code == 422, refused.text
    task = client.post(
        "/plain/", json={"title": "x", "project_id": 1}, headers=admin
    ).json()
    moved = client.patch(
        f"/plain/{task['id']}", json={"project_id": 2}, headers={"X-Orgs": "*"}
    )
    assert moved.status_code == 422, moved.text
    assert (
        client.get(f"/plain/{task['id']}", headers={"X-Orgs": "1"}).json()["project_id"]
        == 1
    )


def test_included_relationships_take_the_scope_s_shape(client: TestClient) -> None:
    """Several orgs, or all: the included project is read inside them, never outside."""
    admin = {"X-Orgs": "*", "X-Stamp": "2"}
    task = client.post("/plain/", json={"title": "p", "project_id": 2}, headers=admin)
    assert task.status_code == 200, task.text
    path = f"/tasks/{task.json()['id']}"
    for orgs_header in ("2", "1,2", "*"):
        answer = client.get(path, headers={"X-Orgs": orgs_header})
        assert answer.status_code == 200, answer.text
        assert answer.json()["project"] == {"id": 2, "name": "theirs"}
    assert client.get(path, headers={"X-Orgs": "1,3"}).status_code == 404
    # Through the ORM (`/named` includes a schema with a field that is no column).
    named = f"/named/{task.json()['id']}"
    for orgs_header in ("1,2", "*"):
        answer = client.get(named, headers={"X-Orgs": orgs_header})
        assert answer.status_code == 200, answer.text
        assert answer.json()["project"] == {"id": 2, "name": "theirs", "note": None}
    assert client.get(named, headers={"X-Orgs": "1,3"}).status_code == 404


def test_a_create_names_one_of_the_request_s_orgs(client: TestClient) -> None:
    both = {"X-Orgs": "1,2"}
    created = client.post("/named/", json={"title": "n", "org_id": 2}, headers=both)
    assert created.status_code == 200, created.text
    assert created.json()["org_id"] == 2
    outside = client.post("/named/", json={"title": "n", "org_id": 3}, headers=both)
    assert outside.status_code == 422, outside.text
    (error,) = outside.json()["detail"]
    assert error["loc"] == ["body", "org_id"] and error["type"] == "outside_scope"
    missing = client.post("/named/", json={"title": "n"}, headers=both)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "org_id"]
    # A single org must be named too, and only that one.
    assert (
        client.post(
            "/named/", json={"title": "n", "org_id": 2}, headers={"X-Orgs": "1"}
        ).status_code
        == 422
    )
    # A super-admin names any org; references stay in the named org.
    admin = {"X-Orgs": "*"}
    made = client.post("/named/", json={"title": "m", "org_id": 5}, headers=admin)
    assert made.status_code == 200 and made.json()["org_id"] == 5
    crossed = client.post(
        "/named/", json={"title": "m", "org_id": 1, "project_id": 2}, headers=admin
    )
    assert crossed.status_code == 422, crossed.text
    assert crossed.json()["detail"][0]["loc"] == ["body", "project_id"]
    # Bulk: each row names its own org; one outside refuses them all.
    rows = [{"title": "b1", "org_id": 1}, {"title": "b2", "org_id": 2}]
    bulk = client.post("/named/bulk", json=rows, headers=both)
    assert bulk.status_code == 200, bulk.text
    assert [r["org_id"] for r in bulk.json()] == [1, 2]
    refused = client.post(
        "/named/bulk", json=[*rows, {"title": "b3", "org_id": 3}], headers=both
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", 2, "org_id"]
    # The org cannot be changed afterwards.
    moved = client.patch(
        f"/named/{created.json()['id']}", json={"org_id": 1}, headers=both
    )
    assert moved.status_code == 422
    titles_now = titles(client.get("/plain/", headers={"X-Orgs": "*"}))
    assert "b3" not in titles_now and {"b1", "b2", "m", "n"} <= titles_now
