"""`crud_router` options and list features, over HTTP, on every backend and driver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Field, Session, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production import Database
from sqlmodel_production.api import (
    AsyncSessionDep,
    SessionDep,
    crud_router,
    get_async_session,
    get_session,
    install_error_handlers,
)
from sqlmodel_production.db import Backend
from sqlmodel_production.models import Versioned
from tests.conftest import Target


class RtItem(SQLModel, table=True):
    __tablename__ = "rt_item"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)
    rank: int | None = Field(default=None, index=True)
    note: str | None = Field(default=None, max_length=50)


class RtDoc(Versioned, table=True):
    __tablename__ = "rt_doc"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=50)


TABLES = [RtItem.__table__, RtDoc.__table__]  # type: ignore[attr-defined]


def require_token(x_token: str = Header(default="")) -> None:
    if x_token != "secret":
        raise HTTPException(status_code=401, detail="Bad token")


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
            crud_router(
                RtItem,
                prefix="/items",
                async_=target.async_,
                filters={
                    "name": ("eq", "ne", "like", "ilike", "in"),
                    "rank": ("eq", "ne", "lt", "le", "gt", "ge", "in", "is_null"),
                },
                order_by=["name", "rank"],
                **options,  # type: ignore[arg-type]
            )
        )
        app.include_router(crud_router(RtDoc, prefix="/docs", async_=target.async_))
        install_error_handlers(app)
        clients.append(TestClient(app).__enter__())
        return clients[-1]

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
    asyncio.run(database.dispose())


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def seed(client: TestClient) -> list[dict]:
    rows = [
        {"name": n, "rank": r}
        for n, r in [
            ("ant", 3),
            ("Bee", None),
            ("cat", 1),
            ("dog", 3),
            ("eel", None),
            ("fox", 2),
        ]
    ]
    response = client.post("/items/bulk", json=rows)
    assert response.status_code == 200, response.text
    return response.json()


def names(response: object) -> list[str]:
    return [row["name"] for row in response.json()]  # type: ignore[attr-defined]


def test_reads_leave_no_connection_checked_out(
    target: Target, database: Database, client: TestClient
) -> None:
    """Reads run on a pooled connection of their own; the request's session is never used."""
    seed(client)
    engine = database.async_engine if target.async_ else database.engine
    assert [len(client.get("/items").json()) for _ in range(3)] == [6, 6, 6]
    assert client.get("/items/1").status_code == 200
    assert client.get("/items/999").status_code == 404
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_reads_see_what_an_overriding_session_sees(
    target: Target, database: Database, client: TestClient
) -> None:
    """A session the app gives (here with a flushed, uncommitted row) is the one reads use."""
    app = client.app
    row = {"id": 500, "name": "uncommitted"}
    if target.async_:

        async def session_with_a_row() -> AsyncIterator[AsyncSession]:
            async with AsyncSession(database.async_engine) as session:
                session.add(RtItem(**row))
                await session.flush()
                yield session

        app.dependency_overrides[get_async_session] = session_with_a_row  # type: ignore[attr-defined]
    else:

        def sync_session_with_a_row() -> Iterator[Session]:
            with Session(database.engine) as session:
                session.add(RtItem(**row))
                session.flush()
                yield session

        app.dependency_overrides[get_session] = sync_session_with_a_row  # type: ignore[attr-defined]
    assert names(client.get("/items")) == ["uncommitted"]
    assert client.get("/items/500").json()["name"] == "uncommitted"
    app.dependency_overrides.clear()  # type: ignore[attr-defined]
    assert client.get("/items").json() == []
    assert client.get("/items/500").status_code == 404


def test_a_session_a_dependency_opened_is_the_one_the_endpoint_uses(
    target: Target, make_client: Callable[..., TestClient]
) -> None:
    """A route dependency's writes in the request's session commit, or roll back, with the endpoint's."""
    if target.async_:

        async def audit(session: AsyncSessionDep) -> None:
            session.add(RtItem(name="audited"))
            await session.flush()

    else:

        def audit(session: SessionDep) -> None:  # type: ignore[misc]
            session.add(RtItem(name="audited"))
            session.flush()

    client = make_client(route_dependencies={"create": [Depends(audit)]})
    assert client.post("/items/", json={"name": "ant"}).status_code == 200
    assert sorted(names(client.get("/items"))) == ["ant", "audited"]
    # The second audit row collides: the whole request, its create included, is undone.
    assert client.post("/items/", json={"name": "bee"}).status_code == 409
    assert sorted(names(client.get("/items"))) == ["ant", "audited"]


def test_an_override_that_takes_the_request_is_given_it(
    target: Target, database: Database, client: TestClient
) -> None:
    app = client.app
    seen: list[str] = []
    if target.async_:

        async def override(request: Request) -> AsyncIterator[AsyncSession]:
            seen.append(request.url.path)
            async with AsyncSession(database.async_engine) as session:
                yield session

        app.dependency_overrides[get_async_session] = override  # type: ignore[attr-defined]
    else:

        def sync_override(request: Request) -> Iterator[Session]:
            seen.append(request.url.path)
            with Session(database.engine) as session:
                yield session

        app.dependency_overrides[get_session] = sync_override  # type: ignore[attr-defined]
    assert client.post("/items/", json={"name": "ant"}).status_code == 200
    assert names(client.get("/items")) == ["ant"]
    assert seen == ["/items/", "/items/"]
    app.dependency_overrides.clear()  # type: ignore[attr-defined]


def test_an_override_that_needs_more_than_the_request_is_refused_clearly(
    target: Target, client: TestClient
) -> None:
    def override(token: str) -> None:
        raise AssertionError("never called")

    dependency = get_async_session if target.async_ else get_session
    client.app.dependency_overrides[dependency] = override  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="can give it only the request"):
        client.get("/items")
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def test_single_row_writes_run_in_autocommit_on_postgresql(
    target: Target, database: Database, client: TestClient
) -> None:
    """Create, patch and delete write with one statement: no BEGIN / COMMIT round trips on PostgreSQL."""
    engine = database.async_engine.sync_engine if target.async_ else database.engine
    autocommits: dict[str, bool] = {}

    def note(conn: sa.Connection, _cursor: object, statement: str, *_: object) -> None:
        verb = statement.split(None, 1)[0]
        if verb in ("INSERT", "UPDATE", "DELETE"):
            dbapi_connection = conn.connection.dbapi_connection
            autocommits[verb] = getattr(dbapi_connection, "autocommit", None) is True

    event.listen(engine, "before_cursor_execute", note)
    try:
        created = client.post("/items/", json={"name": "ant"})
        assert created.status_code == 200
        item = created.json()["id"]
        assert client.patch(f"/items/{item}", json={"name": "bee"}).status_code == 200
        assert client.delete(f"/items/{item}").json() == {"ok": True}
    finally:
        event.remove(engine, "before_cursor_execute", note)
    autocommit = target.backend is Backend.POSTGRESQL
    assert autocommits == dict.fromkeys(("INSERT", "UPDATE", "DELETE"), autocommit)
    assert client.get(f"/items/{item}").status_code == 404


def test_bulk_create_returns_rows_in_order(client: TestClient) -> None:
    rows = seed(client)
    assert [r["name"] for r in rows] == ["ant", "Bee", "cat", "dog", "eel", "fox"]
    assert len({r["id"] for r in rows}) == 6


def test_bulk_create_reports_every_bad_row_and_writes_nothing(
    client: TestClient,
) -> None:
    response = client.post(
        "/items/bulk",
        json=[{"name": "ok"}, {"name": "x" * 51}, {"rank": 1}, {"name": "y", "id": 4}],
    )
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert locs == [["body", 1, "name"], ["body", 2, "name"], ["body", 3, "id"]]
    assert client.get("/items/").json() == []


def test_bulk_create_with_a_duplicate_is_409_and_atomic(client: TestClient) -> None:
    response = client.post(
        "/items/bulk", json=[{"name": "a"}, {"name": "b"}, {"name": "a"}]
    )
    assert response.status_code == 409
    assert client.get("/items/").json() == []


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"name": "cat"}, ["cat"]),
        ({"name__ne": "cat"}, ["ant", "Bee", "dog", "eel", "fox"]),
        ({"name__like": "%o%"}, ["dog", "fox"]),
        ({"name__ilike": "b%"}, ["Bee"]),
        ({"name__in": ["ant", "eel"]}, ["ant", "eel"]),
        ({"rank": 3}, ["ant", "dog"]),
        (
            {"rank__ne": 3},
            ["Bee", "cat", "eel", "fox"],
        ),  # rows without a rank are "not 3"
        ({"rank__lt": 2}, ["cat"]),
        ({"rank__le": 2}, ["cat", "fox"]),
        ({"rank__gt": 2}, ["ant", "dog"]),
        ({"rank__ge": 2}, ["ant", "dog", "fox"]),
        ({"rank__in": [1, 2]}, ["cat", "fox"]),
        ({"rank__is_null": True}, ["Bee", "eel"]),
        ({"rank__is_null": False, "rank__lt": 3}, ["cat", "fox"]),
    ],
)
def test_each_filter_operator(
    client: TestClient, params: dict, expected: list[str]
) -> None:
    seed(client)
    assert names(client.get("/items/", params=params)) == expected


def test_ordering_puts_nulls_last_and_breaks_ties_by_id(client: TestClient) -> None:
    seed(client)
    assert names(client.get("/items/", params={"order_by": "rank"})) == [
        "cat",
        "fox",
        "ant",
        "dog",
        "Bee",
        "eel",
    ]
    assert names(client.get("/items/", params={"order_by": "-rank,-name"})) == [
        "dog",
        "ant",
        "fox",
        "cat",
        "eel",
        "Bee",
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"order_by": "secret"},
        {"order_by": "name,,rank"},
        {"cursor": "garbage"},
        {"rank__in": ""},
        {"rank": "x"},
        {"limit": 101},
        {"offset": 1, "cursor": "x"},
    ],
)
def test_bad_list_parameters_are_422(client: TestClient, params: dict) -> None:
    seed(client)
    response = client.get("/items/", params=params)
    assert response.status_code == 422, response.text


def test_count_header_is_opt_in(client: TestClient) -> None:
    seed(client)
    assert "X-Total-Count" not in client.get("/items/", params={"limit": 2}).headers
    response = client.get(
        "/items/", params={"limit": 2, "count": True, "rank__is_null": False}
    )
    assert response.headers["X-Total-Count"] == "4"


def test_cursor_walk_sees_every_row_once_while_rows_are_inserted(
    client: TestClient,
) -> None:
    seed(client)
    seen: list[str] = []
    response = client.get("/items/", params={"order_by": "name", "limit": 2})
    added = 0
    while True:
        seen += names(response)
        # Rows inserted behind the cursor are not seen; rows ahead of it are, exactly once.
        client.post("/items/", json={"name": f"a-behind-{added}"})
        client.post("/items/", json={"name": f"zz-ahead-{added}"})
        added += 1
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            break
        response = client.get(
            "/items/", params={"order_by": "name", "limit": 2, "cursor": cursor}
        )
    assert len(seen) == len(set(seen))
    assert seen[:6] == ["ant", "Bee", "cat", "dog", "eel", "fox"] or seen[:6] == sorted(
        seen[:6]
    )
    ahead = [name for name in seen if name.startswith("zz-ahead-")]
    assert ahead == [f"zz-ahead-{i}" for i in range(len(ahead))]
    assert not any(name.startswith("a-behind-") for name in seen)


def test_created_201_with_location_and_deleted_204(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(created_status=201, deleted_status=204)
    response = client.post("/items/", json={"name": "ant"})
    assert response.status_code == 201
    assert response.headers["Location"] == f"/items/{response.json()['id']}"
    assert client.get(response.headers["Location"]).json()["name"] == "ant"
    deleted = client.delete(response.headers["Location"])
    assert (deleted.status_code, deleted.content) == (204, b"")


def test_excluded_endpoints_and_route_dependencies(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(
        exclude={"delete", "bulk"},
        route_dependencies={"create": [Depends(require_token)]},
    )
    assert client.post("/items/", json={"name": "ant"}).status_code == 401
    created = client.post(
        "/items/", json={"name": "ant"}, headers={"X-Token": "secret"}
    )
    assert created.status_code == 200
    assert client.delete(f"/items/{created.json()['id']}").status_code == 405
    assert client.post("/items/bulk", json=[{"name": "b"}]).status_code in (
        404,
        405,
        422,
    )
    assert client.get("/items/").status_code == 200


def test_versioned_rows_use_etag_and_if_match(client: TestClient) -> None:
    created = client.post("/docs/", json={"title": "v1"})
    doc = created.json()
    assert (doc["version"], created.headers["ETag"]) == (1, '"1"')
    path = f"/docs/{doc['id']}"
    assert client.get(path).headers["ETag"] == '"1"'
    updated = client.patch(path, json={"title": "v2"}, headers={"If-Match": '"1"'})
    assert (
        updated.status_code,
        updated.json()["version"],
        updated.headers["ETag"],
    ) == (200, 2, '"2"')
    stale = client.patch(
        path, json={"title": "lost update"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert client.get(path).json()["title"] == "v2"
    assert client.post("/docs/", json={"title": "x", "version": 7}).status_code == 422


def test_missing_rows_are_404_with_the_model_name(client: TestClient) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = client.request(
            method, "/items/999", json={} if method == "PATCH" else None
        )
        assert (response.status_code, response.json()) == (
            404,
            {"detail": "RtItem not found"},
        )


class RtPage(SQLModel, table=True):
    __tablename__ = "rt_page"
    id: int | None = Field(default=None, primary_key=True)
    limit: int = 0


def test_filters_that_clash_with_paging_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="limit of RtPage clash"):
        crud_router(RtPage, prefix="/pages", filters={"limit": ("eq",)})
    assert crud_router(RtPage, prefix="/pages", filters={"limit": ("gt",)}).routes
