"""`link_router` is bounded like `crud_router`: reads return at most `limit` linked rows, bodies are capped."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import link_router
from tests.conftest import Target, serving


class LbTag(SQLModel, table=True):
    __tablename__ = "lb_tag"
    id: int = Field(primary_key=True)
    name: str = Field(max_length=20)


class LbTask(SQLModel, table=True):
    __tablename__ = "lb_task"
    id: int = Field(primary_key=True)
    title: str = Field(max_length=20)


class LbTaskTag(SQLModel, table=True):
    __tablename__ = "lb_task_tag"
    tag_id: int = Field(foreign_key="lb_tag.id", primary_key=True)
    task_id: int = Field(foreign_key="lb_task.id", primary_key=True, index=True)
    note: str = Field(default="", max_length=2000)


TABLES = [LbTag.__table__, LbTask.__table__, LbTaskTag.__table__]  # type: ignore[attr-defined]


def fill(conn: sa.Connection) -> None:
    conn.execute(sa.insert(LbTag), [{"id": i, "name": f"t{i}"} for i in (1, 2)])
    conn.execute(sa.insert(LbTask), [{"id": i, "title": f"k{i}"} for i in range(1, 6)])
    links = [{"tag_id": 1, "task_id": i} for i in range(1, 6)]
    conn.execute(sa.insert(LbTaskTag), [*links, {"tag_id": 2, "task_id": 1}])


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    router = link_router(
        LbTaskTag,
        parent=LbTag,
        child=LbTask,
        parent_prefix="/tags",
        child_prefix="/tasks",
        async_=target.async_,
        limit=3,
        max_body_size=1024,
    )
    with serving(database, TABLES, [router], rows=fill) as client:
        yield client


def test_a_parent_read_returns_at_most_the_limit_and_says_it_cut(
    client: TestClient,
) -> None:
    cut = client.get("/tags/1")
    assert [t["id"] for t in cut.json()["tasks"]] == [1, 2, 3]
    assert cut.headers["X-Include-Truncated"] == "tasks"
    whole = client.get("/tags/2")
    assert [t["id"] for t in whole.json()["tasks"]] == [1]
    assert "X-Include-Truncated" not in whole.headers


def test_a_child_list_of_parents_is_bounded_too(
    client: TestClient, database: Database
) -> None:
    with database.engine.begin() as conn:
        conn.execute(sa.insert(LbTag), [{"id": i, "name": f"t{i}"} for i in (3, 4, 5)])
        conn.execute(
            sa.insert(LbTaskTag), [{"tag_id": i, "task_id": 1} for i in (3, 4, 5)]
        )
    cut = client.get("/tasks/1/tags")
    assert [t["id"] for t in cut.json()] == [1, 2, 3]
    assert cut.headers["X-Include-Truncated"] == "tags"
    whole = client.get("/tasks/2/tags")
    assert [t["id"] for t in whole.json()] == [1]
    assert "X-Include-Truncated" not in whole.headers


def test_a_link_body_over_the_limit_is_a_413_and_writes_nothing(
    client: TestClient,
) -> None:
    big = client.put("/tags/2/tasks/2", json={"note": "x" * 1500})
    assert big.status_code == 413, big.text
    assert [t["id"] for t in client.get("/tags/2").json()["tasks"]] == [1]
    small = client.put("/tags/2/tasks/2", json={"note": "fine"})
    assert small.status_code == 200, small.text
