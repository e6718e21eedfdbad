"""`link_router` is bounded like `crud_router`: reads return at most `limit` linked rows, lists page, bodies are capped."""

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


def test_a_parent_s_children_page_on_past_the_read_s_cut(client: TestClient) -> None:
    """`GET /tags/1/tasks` pages what the parent read cut, as crud lists page."""
    first = client.get("/tags/1/tasks")
    assert ids(first) == [1, 2, 3]
    assert first.json()[0] == {"id": 1, "title": "k1", "note": ""}
    after = client.get(
        "/tags/1/tasks", params={"cursor": first.headers["X-Next-Cursor"]}
    )
    assert ids(after) == [4, 5]
    assert "X-Next-Cursor" not in after.headers
    counted = client.get("/tags/1/tasks", params={"limit": 2, "count": True})
    assert ids(counted) == [1, 2] and counted.headers["X-Total-Count"] == "5"
    assert ids(client.get("/tags/2/tasks")) == [1]
    assert client.get("/tags/99/tasks").status_code == 404
    for params in ({"limit": 4}, {"title": "k1"}, {"colour": "red"}):
        assert client.get("/tags/1/tasks", params=params).status_code == 422


def _more_tags_on_task_1(database: Database) -> None:
    """Task 1 gets tags 1 to 5."""
    with database.engine.begin() as conn:
        conn.execute(sa.insert(LbTag), [{"id": i, "name": f"t{i}"} for i in (3, 4, 5)])
        conn.execute(
            sa.insert(LbTaskTag), [{"tag_id": i, "task_id": 1} for i in (3, 4, 5)]
        )


def ids(response: object) -> list[int]:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    return [row["id"] for row in response.json()]  # type: ignore[attr-defined]


def test_a_child_list_of_parents_is_paged_with_a_cap(
    client: TestClient, database: Database
) -> None:
    _more_tags_on_task_1(database)
    first = client.get("/tasks/1/tags")  # the cap is the default page
    assert ids(first) == [1, 2, 3]
    assert "X-Include-Truncated" not in first.headers
    after = client.get(
        "/tasks/1/tags", params={"cursor": first.headers["X-Next-Cursor"]}
    )
    assert ids(after) == [4, 5]
    assert "X-Next-Cursor" not in after.headers
    assert ids(client.get("/tasks/1/tags", params={"offset": 2, "limit": 2})) == [3, 4]
    counted = client.get("/tasks/1/tags", params={"limit": 1, "count": True})
    assert ids(counted) == [1]
    assert counted.headers["X-Total-Count"] == "5"
    assert first.json()[0] == {
        "id": 1,
        "name": "t1",
        "note": "",
    }  # with the link's data
    whole = client.get("/tasks/2/tags")
    assert ids(whole) == [1]
    assert "X-Next-Cursor" not in whole.headers
    assert client.get("/tasks/99/tags").status_code == 404


@pytest.mark.parametrize(
    ("params", "loc", "kind"),
    [
        ({"limit": 4}, "limit", "less_than_equal"),
        ({"limit": 0}, "limit", "greater_than_equal"),
        ({"offset": -1}, "offset", "greater_than_equal"),
        ({"colour": "red"}, "colour", "unknown_parameter"),
        ({"name": "t1"}, "name", "unknown_parameter"),
        ({"limit": [1, 2]}, "limit", "repeated_parameter"),
        ({"cursor": "not-a-cursor"}, "cursor", "invalid_query"),
    ],
    ids=["over-cap", "zero", "negative", "unknown", "no-filters", "repeated", "cursor"],
)
def test_a_child_list_refuses_what_a_crud_list_refuses(
    client: TestClient, params: dict[str, object], loc: str, kind: str
) -> None:
    refused = client.get("/tasks/1/tags", params=params)
    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["detail"]
    assert (error["loc"], error["type"]) == (["query", loc], kind)


def test_a_cursor_with_an_offset_is_a_422(
    client: TestClient, database: Database
) -> None:
    _more_tags_on_task_1(database)
    cursor = client.get("/tasks/1/tags").headers["X-Next-Cursor"]
    refused = client.get("/tasks/1/tags", params={"cursor": cursor, "offset": 1})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_a_link_body_over_the_limit_is_a_413_and_writes_nothing(
    client: TestClient,
) -> None:
    big = client.put("/tags/2/tasks/2", json={"note": "x" * 1500})
    assert big.status_code == 413, big.text
    assert [t["id"] for t in client.get("/tags/2").json()["tasks"]] == [1]
    small = client.put("/tags/2/tasks/2", json={"note": "fine"})
    assert small.status_code == 200, small.text
