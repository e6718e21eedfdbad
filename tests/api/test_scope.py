"""`crud_router(scope=RowScope(...))` and soft delete over HTTP, on every backend and driver."""

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException
from fastapi.testclient import TestClient
from sqlmodel import Field, Relationship, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import (
    RowScope,
    crud_router,
    install_error_handlers,
    link_router,
)
from sqlmodel_production.models import SoftDelete, derive_schemas
from tests.conftest import Target, serving


class SpShelf(SQLModel, table=True):
    __tablename__ = "sp_shelf"
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(index=True)
    label: str = Field(max_length=50)
    loans: list["SpLoan"] = Relationship(back_populates="shelf")


class SpLoan(SoftDelete, table=True):
    __tablename__ = "sp_loan"
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(index=True)
    title: str = Field(max_length=50)
    shelf_id: int | None = Field(default=None, foreign_key="sp_shelf.id", index=True)
    shelf: SpShelf | None = Relationship(back_populates="loans")


class SpTag(SQLModel, table=True):
    __tablename__ = "sp_tag"
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(index=True)
    name: str = Field(max_length=50)


class SpLoanTag(SQLModel, table=True):
    __tablename__ = "sp_loan_tag"
    tag_id: int = Field(foreign_key="sp_tag.id", primary_key=True)
    loan_id: int = Field(foreign_key="sp_loan.id", primary_key=True, index=True)
    weight: int = 1


class SpLoanNote(SQLModel):
    """An included loan with a field that is no column: the ORM reads these."""

    title: str
    note: str = "on loan"


TABLES = [SpShelf.__table__, SpLoan.__table__, SpTag.__table__, SpLoanTag.__table__]  # type: ignore[attr-defined]


def current_owner(x_user: int = Header()) -> dict[str, int]:
    """The signed-in user (a header here; a token in a real app)."""
    return {"owner_id": x_user}


def current_owners(x_user: str = Header()) -> dict[str, Any]:
    """One user `1`, several `1,2`, or every one `*`."""
    if x_user == "*":
        return {"owner_id": RowScope.ALL}
    owners = [int(v) for v in x_user.split(",")]
    return {"owner_id": owners[0] if len(owners) == 1 else owners}


def admin(x_admin: str = Header(default="")) -> None:
    if x_admin != "yes":
        raise HTTPException(status_code=403, detail="Admins only")


ALICE, BOB = {"X-User": "1"}, {"X-User": "2"}


def routers(
    async_: bool, owner: Callable[..., dict[str, Any]] = current_owner
) -> list[APIRouter]:
    """Scoped routers with soft delete, includes, relationship filters and links."""
    routers: list[APIRouter] = []
    scope = RowScope(owner, "owner_id")
    loan_public = derive_schemas(SpLoan, read_only={"owner_id"}).Public
    routers.append(
        crud_router(
            SpLoan,
            prefix="/loans",
            async_=async_,
            scope=scope,
            filters=["title"],
            order_by=["title"],
            deleted_rows=[Depends(admin)],
        )
    )
    routers.append(
        crud_router(
            SpShelf,
            prefix="/shelves",
            async_=async_,
            scope=scope,
            include={"loans": loan_public},
            filters=["loans.title"],
        )
    )
    routers.append(
        crud_router(
            SpShelf,
            prefix="/orm-shelves",
            async_=async_,
            scope=scope,
            include={"loans": SpLoanNote},
        )
    )
    routers.append(
        crud_router(SpTag, prefix="/tags", async_=async_, scope=scope, exclude={"read"})
    )
    routers.append(
        link_router(
            SpLoanTag,
            parent=SpTag,
            child=SpLoan,
            parent_prefix="/tags",
            child_prefix="/loans",
            async_=async_,
            scope=scope,
        )
    )
    return routers


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    with serving(database, TABLES, routers(target.async_)) as client:
        yield client


def titles(response: object) -> list[str]:
    return [row["title"] for row in response.json()]  # type: ignore[attr-defined]


def test_two_users_see_only_their_rows(client: TestClient) -> None:
    mine = client.post("/loans/", json={"title": "a"}, headers=ALICE).json()
    client.post("/loans/bulk", json=[{"title": "b"}, {"title": "c"}], headers=ALICE)
    theirs = client.post("/loans/", json={"title": "z"}, headers=BOB).json()
    assert mine["owner_id"] == 1 and theirs["owner_id"] == 2
    assert titles(client.get("/loans/", headers=ALICE)) == ["a", "b", "c"]
    assert titles(client.get("/loans/?title=z", headers=ALICE)) == []
    assert (
        client.get("/loans/?count=true", headers=ALICE).headers["X-Total-Count"] == "3"
    )
    # Outside the scope a row is absent: 404, never 403.
    item = f"/loans/{theirs['id']}"
    assert client.get(item, headers=ALICE).status_code == 404
    assert client.patch(item, json={"title": "x"}, headers=ALICE).status_code == 404
    assert client.delete(item, headers=ALICE).status_code == 404
    assert client.get(item, headers=BOB).json()["title"] == "z"  # untouched


def test_clients_cannot_set_or_change_the_scoped_column(client: TestClient) -> None:
    created = client.post("/loans/", json={"title": "a", "owner_id": 2}, headers=ALICE)
    assert created.status_code == 422  # not a field clients send
    mine = client.post("/loans/", json={"title": "a"}, headers=ALICE).json()
    moved = client.patch(f"/loans/{mine['id']}", json={"owner_id": 2}, headers=ALICE)
    assert moved.status_code == 422
    assert client.get(f"/loans/{mine['id']}", headers=ALICE).json()["owner_id"] == 1
    assert client.post("/loans/", json={"title": "a"}).status_code == 422  # no user


def test_nested_reads_are_scoped(client: TestClient) -> None:
    shelf = client.post("/shelves/", json={"label": "s"}, headers=ALICE).json()
    client.post(
        "/loans/", json={"title": "on it", "shelf_id": shelf["id"]}, headers=ALICE
    )
    assert client.get(f"/shelves/{shelf['id']}", headers=BOB).status_code == 404
    read = client.get(f"/shelves/{shelf['id']}", headers=ALICE).json()
    assert [loan["title"] for loan in read["loans"]] == ["on it"]


def test_soft_delete_hides_rows_and_admins_restore_them(
    client: TestClient, database: Database
) -> None:
    gone = client.post("/loans/", json={"title": "gone"}, headers=ALICE).json()
    client.post("/loans/", json={"title": "kept"}, headers=ALICE)
    item = f"/loans/{gone['id']}"
    assert client.delete(item, headers=ALICE).json() == {"ok": True}
    with database.engine.connect() as conn:  # still there, marked
        marked = conn.execute(
            sa.select(SpLoan.deleted_at).where(SpLoan.id == gone["id"])
        ).scalar_one()  # type: ignore[arg-type]
    assert marked is not None
    assert client.get(item, headers=ALICE).status_code == 404
    assert client.patch(item, json={"title": "x"}, headers=ALICE).status_code == 404
    assert client.delete(item, headers=ALICE).status_code == 404
    assert titles(client.get("/loans/", headers=ALICE)) == ["kept"]
    # The deleted rows: admins only, inside their scope too.
    assert client.get("/loans/deleted/", headers=ALICE).status_code == 403
    admin_alice = {**ALICE, "X-Admin": "yes"}
    assert titles(client.get("/loans/deleted/", headers=admin_alice)) == ["gone"]
    assert client.get("/loans/deleted/", headers={**BOB, "X-Admin": "yes"}).json() == []
    assert client.post(f"{item}/restore", headers=ALICE).status_code == 403
    assert (
        client.post(f"{item}/restore", headers={**BOB, "X-Admin": "yes"}).status_code
        == 404
    )
    restored = client.post(f"{item}/restore", headers=admin_alice)
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None
    assert client.get(item, headers=ALICE).json()["title"] == "gone"


def test_admins_read_and_purge_deleted_rows_inside_their_scope(
    client: TestClient, database: Database
) -> None:
    gone = client.post("/loans/", json={"title": "gone"}, headers=ALICE).json()
    live = client.post("/loans/", json={"title": "live"}, headers=ALICE).json()
    client.delete(f"/loans/{gone['id']}", headers=ALICE)
    item = f"/loans/deleted/{gone['id']}"
    admin_alice, admin_bob = {**ALICE, "X-Admin": "yes"}, {**BOB, "X-Admin": "yes"}
    assert client.get(item, headers=ALICE).status_code == 403
    assert client.delete(item, headers=ALICE).status_code == 403
    # Another owner's deleted row is absent, for a read as for a purge.
    assert client.get(item, headers=admin_bob).status_code == 404
    assert client.delete(item, headers=admin_bob).status_code == 404
    assert client.get(item, headers=admin_alice).json()["title"] == "gone"
    live_item = f"/loans/deleted/{live['id']}"
    assert client.get(live_item, headers=admin_alice).status_code == 404
    assert client.delete(live_item, headers=admin_alice).status_code == 404
    assert client.delete(item, headers=admin_alice).json() == {"ok": True}
    with database.engine.connect() as conn:
        left = conn.execute(sa.select(SpLoan.id)).scalars().all()  # type: ignore[call-overload]
    assert left == [live["id"]]
    assert client.get(item, headers=admin_alice).status_code == 404
    assert (
        client.post(f"/loans/{gone['id']}/restore", headers=admin_alice).status_code
        == 404
    )


def test_the_deleted_list_takes_the_lists_parameters(client: TestClient) -> None:
    admin_alice = {**ALICE, "X-Admin": "yes"}
    for title in ("c", "a", "b", "live"):
        loan = client.post("/loans/", json={"title": title}, headers=ALICE).json()
        if title != "live":
            client.delete(f"/loans/{loan['id']}", headers=ALICE)
    deleted = "/loans/deleted/"
    page = client.get(
        deleted, params={"title__ne": "c", "count": True}, headers=admin_alice
    )
    assert sorted(titles(page)) == ["a", "b"]
    assert page.headers["X-Total-Count"] == "2"
    first = client.get(
        deleted, params={"limit": 1, "order_by": "title"}, headers=admin_alice
    )
    assert titles(first) == ["a"]
    cursor = {"limit": 1, "cursor": first.headers["X-Next-Cursor"], "order_by": "title"}
    assert titles(client.get(deleted, params=cursor, headers=admin_alice)) == ["b"]
    unknown = client.get(deleted, params={"colour": "red"}, headers=admin_alice)
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["query", "colour"]


def test_soft_deleted_rows_leave_nested_reads(client: TestClient) -> None:
    shelf = client.post("/shelves/", json={"label": "s"}, headers=ALICE).json()
    for title in ("a", "b"):
        client.post(
            "/loans/", json={"title": title, "shelf_id": shelf["id"]}, headers=ALICE
        )
    first = client.get("/loans/", headers=ALICE).json()[0]
    client.delete(f"/loans/{first['id']}", headers=ALICE)
    read = client.get(f"/shelves/{shelf['id']}", headers=ALICE).json()
    assert [loan["title"] for loan in read["loans"]] == ["b"]


def test_deleted_rows_need_soft_delete() -> None:
    with pytest.raises(TypeError, match="add the SoftDelete mixin to SpShelf"):
        crud_router(SpShelf, prefix="/s", deleted_rows=[])


BAD_SCOPES: list[Any] = [
    None,
    {},
    {"tenant": 1},
    {"owner_id": 1, "tenant": 1},
    {"owner_id": None},
    {"owner_id": []},
    {"owner_id": [1, None]},
    [("owner_id", 1)],
]


@pytest.mark.parametrize(
    "returned",
    BAD_SCOPES,
    ids=[
        "none",
        "empty",
        "other",
        "more",
        "null",
        "no-values",
        "a-null-value",
        "pairs",
    ],
)
def test_a_scope_the_dependency_gets_wrong_is_a_500_naming_it_and_writes_nothing(
    target: Target, database: Database, returned: Any
) -> None:
    def tenant_of_request() -> Any:
        return returned

    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(
            SpShelf,
            prefix="/shelves",
            async_=target.async_,
            scope=RowScope(tenant_of_request, "owner_id"),
        )
    )
    install_error_handlers(app)
    with database.engine.begin() as conn:
        SQLModel.metadata.create_all(conn, tables=TABLES)
        conn.execute(sa.insert(SpShelf.__table__).values(id=1, owner_id=1, label="x"))  # type: ignore[attr-defined]
    try:
        with TestClient(app) as client:
            answers = [
                client.get("/shelves/"),
                client.get("/shelves/1"),
                client.post("/shelves/", json={"label": "y"}),
                client.post("/shelves/bulk", json=[{"label": "y"}]),
                client.patch("/shelves/1", json={"label": "y"}),
                client.delete("/shelves/1"),
            ]
        for answer in answers:
            assert answer.status_code == 500, answer.text
            assert answer.json()["code"] == "invalid_scope"
            assert "tenant_of_request returned" in answer.json()["detail"]
        with database.engine.connect() as conn:
            rows = conn.execute(sa.select(SpShelf.__table__)).all()  # type: ignore[attr-defined]
        assert [(r.id, r.owner_id, r.label) for r in rows] == [(1, 1, "x")]
    finally:
        with database.engine.begin() as conn:
            SQLModel.metadata.drop_all(conn, tables=TABLES)
        asyncio.run(database.dispose())


def test_link_endpoints_are_scoped_and_skip_soft_deleted_rows(
    client: TestClient,
) -> None:
    tag = client.post("/tags/", json={"name": "t"}, headers=ALICE).json()
    mine = client.post("/loans/", json={"title": "a"}, headers=ALICE).json()
    gone = client.post("/loans/", json={"title": "g"}, headers=ALICE).json()
    theirs = client.post("/loans/", json={"title": "z"}, headers=BOB).json()
    link = f"/tags/{tag['id']}/loans"
    assert (
        client.put(
            f"{link}/{mine['id']}", json={"weight": 2}, headers=ALICE
        ).status_code
        == 200
    )
    assert (
        client.put(
            f"{link}/{gone['id']}", json={"weight": 1}, headers=ALICE
        ).status_code
        == 200
    )
    # Another owner's row is absent on either side.
    assert (
        client.put(
            f"{link}/{theirs['id']}", json={"weight": 1}, headers=ALICE
        ).status_code
        == 404
    )
    assert (
        client.put(
            f"{link}/{theirs['id']}", json={"weight": 1}, headers=BOB
        ).status_code
        == 404
    )
    assert client.get(f"/tags/{tag['id']}", headers=BOB).status_code == 404
    assert client.get(f"/loans/{mine['id']}/tags", headers=BOB).status_code == 404
    assert client.delete(f"{link}/{mine['id']}", headers=BOB).status_code == 404
    # A soft-deleted loan leaves the tag's list.
    client.delete(f"/loans/{gone['id']}", headers=ALICE)
    read = client.get(f"/tags/{tag['id']}", headers=ALICE).json()
    assert [(loan["title"], loan["weight"]) for loan in read["loans"]] == [("a", 2)]
    assert [
        t["name"] for t in client.get(f"/loans/{mine['id']}/tags", headers=ALICE).json()
    ] == ["t"]
    assert client.delete(f"{link}/{mine['id']}", headers=ALICE).json() == {"ok": True}


@pytest.fixture
def several(target: Target, database: Database) -> Iterator[TestClient]:
    """The same routers, for users in several owners' rows or every owner's."""
    with serving(database, TABLES, routers(target.async_, current_owners)) as client:
        yield client


def test_link_endpoints_take_several_owners_or_all(several: TestClient) -> None:
    """Reads, pages, links and unlinks inside several owners' rows, or every owner's."""
    client = several
    tag = client.post("/tags/", json={"name": "t"}, headers=ALICE).json()
    mine = client.post("/loans/", json={"title": "a"}, headers=ALICE).json()
    theirs = client.post("/loans/", json={"title": "z"}, headers=BOB).json()
    link = f"/tags/{tag['id']}/loans"
    both, everyone, other = {"X-User": "1,2"}, {"X-User": "*"}, {"X-User": "2,3"}
    assert client.put(f"{link}/{mine['id']}", json={}, headers=ALICE).status_code == 200
    assert (
        client.put(f"{link}/{theirs['id']}", json={}, headers=both).status_code == 200
    )
    assert (
        client.put(f"{link}/{theirs['id']}", json={}, headers=other).status_code == 404
    )
    for headers in (both, everyone):
        read = client.get(f"/tags/{tag['id']}", headers=headers)
        assert read.status_code == 200, read.text
        assert [loan["title"] for loan in read.json()["loans"]] == ["a", "z"]
        page = client.get(f"/loans/{theirs['id']}/tags?count=true", headers=headers)
        assert page.status_code == 200, page.text
        assert [t["name"] for t in page.json()] == ["t"]
    # Each owner alone sees only the rows of their own.
    alone = client.get(f"/tags/{tag['id']}", headers=ALICE).json()
    assert [loan["title"] for loan in alone["loans"]] == ["a"]
    assert client.get(f"/tags/{tag['id']}", headers=other).status_code == 404
    assert client.get(f"/loans/{theirs['id']}/tags", headers=BOB).json() == []
    assert client.delete(f"{link}/{theirs['id']}", headers=other).status_code == 404
    assert client.delete(f"{link}/{theirs['id']}", headers=everyone).status_code == 200


def test_related_filters_never_match_soft_deleted_rows(client: TestClient) -> None:
    shelf = client.post("/shelves/", json={"label": "s"}, headers=ALICE).json()
    loan = client.post(
        "/loans/", json={"title": "x", "shelf_id": shelf["id"]}, headers=ALICE
    ).json()
    found = client.get("/shelves/?loans__title=x", headers=ALICE).json()
    assert [row["label"] for row in found] == ["s"]
    client.delete(f"/loans/{loan['id']}", headers=ALICE)
    assert client.get("/shelves/?loans__title=x", headers=ALICE).json() == []


def test_related_filters_and_nested_reads_stay_inside_the_scope(
    client: TestClient,
) -> None:
    """Bob's loan on Alice's shelf: her filters never match it, her nested read never shows it."""
    shelf = client.post("/shelves/", json={"label": "s"}, headers=ALICE).json()
    client.post(
        "/loans/", json={"title": "hers", "shelf_id": shelf["id"]}, headers=ALICE
    )
    client.post("/loans/", json={"title": "his", "shelf_id": shelf["id"]}, headers=BOB)
    assert client.get("/shelves/?loans__title=his", headers=ALICE).json() == []
    found = client.get("/shelves/?loans__title=hers", headers=ALICE).json()
    assert [row["label"] for row in found] == ["s"]
    read = client.get(f"/shelves/{shelf['id']}", headers=ALICE).json()
    assert [loan["title"] for loan in read["loans"]] == ["hers"]
    # Through the ORM (an included schema with more than columns) as through Core.
    read = client.get(f"/orm-shelves/{shelf['id']}", headers=ALICE).json()
    assert read["loans"] == [{"title": "hers", "note": "on loan"}]
