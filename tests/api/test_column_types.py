"""Every column type through every generated endpoint, on six targets.

A value sent to the API must come back equal, in the Public schema's JSON form,
from every endpoint that returns it: create, read, list, filter, order, cursor
pages, patch, bulk create, nested reads and link routes. The types are the ones
the package offers (`UUIDPK`, `UTCDateTime`) and the ones SQLModel users reach
for: UUID, Decimal, date, time, naive datetime, Enum (with names that differ
from their values), float, bool, big integers, JSON and bytes.
"""

import enum
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import NaiveDatetime, TypeAdapter
from sqlmodel import Field, Relationship, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import crud_router, link_router
from sqlmodel_production.models import UUIDPK, UTCDateTime, derive_schemas
from tests.conftest import Target, serving


class CtColour(enum.Enum):
    """Names differ from values: the database stores names, the API speaks values."""

    RED = "red"
    DARK_BLUE = "dark-blue"


class Typed(SQLModel):
    ref: uuid.UUID | None = Field(default=None, index=True)
    amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    day: date | None = None
    at: time | None = None
    moment: datetime | None = Field(default=None, sa_type=UTCDateTime)
    plain: datetime | None = None
    local: NaiveDatetime | None = None
    span: timedelta | None = None
    colour: CtColour | None = None
    ratio: float | None = None
    flag: bool | None = None
    big: int | None = Field(default=None, sa_type=sa.BigInteger)
    data: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    blob: bytes | None = None


class CtTeam(UUIDPK, Typed, table=True):
    __tablename__ = "ct_team"
    members: list["CtMember"] = Relationship(back_populates="team")


class CtMember(UUIDPK, Typed, table=True):
    __tablename__ = "ct_member"
    team_id: uuid.UUID = Field(foreign_key="ct_team.id", index=True)
    team: CtTeam | None = Relationship(back_populates="members")


class CtProject(UUIDPK, table=True):
    __tablename__ = "ct_project"
    name: str = Field(max_length=20)


class CtTag(UUIDPK, table=True):
    __tablename__ = "ct_tag"
    name: str = Field(max_length=20)


class CtProjectTag(Typed, table=True):
    """A link whose data has every type."""

    __tablename__ = "ct_project_tag"
    project_id: uuid.UUID = Field(foreign_key="ct_project.id", primary_key=True)
    tag_id: uuid.UUID = Field(foreign_key="ct_tag.id", primary_key=True, index=True)


TABLES = [m.__table__ for m in (CtTeam, CtMember, CtProject, CtTag, CtProjectTag)]  # type: ignore[attr-defined]
TEAM = derive_schemas(CtTeam)
MEMBER = derive_schemas(CtMember)
TYPED = list(Typed.model_fields)
# Columns a client may filter, order and page on (JSON and bytes are values, not keys).
KEYS = [f for f in TYPED if f not in ("data", "blob")]

# Two rows of values, each stressing its type: microseconds, offsets, precision
# beyond a single-precision float, 63-bit integers, nested JSON, non-ASCII.
VALUES = [
    {
        "ref": uuid.UUID("0b3e1a52-7d5c-4f8e-9a61-3c2b1d0e9f87"),
        "amount": Decimal("-12345.67"),
        "day": date(2024, 2, 29),
        "at": time(13, 45, 30, 123456),
        "moment": datetime(
            2024, 2, 29, 23, 45, 30, 123456, tzinfo=timezone(timedelta(hours=2))
        ),
        "plain": datetime(
            2024, 2, 29, 13, 45, 30, 5, tzinfo=timezone(timedelta(hours=-5))
        ),
        "local": datetime(2024, 2, 29, 13, 45, 30, 654321),
        "span": timedelta(days=3, seconds=7, microseconds=250000),
        "colour": CtColour.DARK_BLUE,
        "ratio": 0.1234567890123,
        "flag": True,
        "big": 2**62 + 1,
        "data": {"a": [1, "é", None], "b": {"c": 1.5}},
        "blob": "héllo".encode(),
    },
    {
        "ref": uuid.UUID("f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b"),
        "amount": Decimal("0.10"),
        "day": date(1999, 12, 31),
        "at": time(23, 59, 59, 999999),
        "moment": datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        "plain": datetime(2000, 1, 1, tzinfo=UTC),
        "local": datetime(1999, 12, 31, 0, 0, 0, 1),
        "span": timedelta(seconds=-90),
        "colour": CtColour.RED,
        "ratio": -2.5e-300,
        "flag": False,
        "big": -(2**62),
        "data": {"list": [], "t": True},
        "blob": b"\x00x",
    },
]


def as_json(schema: type[SQLModel], values: dict[str, Any]) -> dict[str, Any]:
    """`values` in `schema`'s JSON form, as pydantic writes it."""
    return {
        name: TypeAdapter(schema.model_fields[name].annotation).dump_python(
            value, mode="json"
        )
        for name, value in values.items()
        if name in schema.model_fields
    }


def sent(values: dict[str, Any]) -> dict[str, Any]:
    """A request body carrying `values`."""
    return TypeAdapter(dict[str, Any]).dump_python(values, mode="json")  # type: ignore[no-any-return]


def stored(values: dict[str, Any]) -> dict[str, Any]:
    """What reads back: aware datetimes in UTC (`UTCDateTime`), the rest as sent."""
    return {
        **values,
        **{k: values[k].astimezone(UTC) for k in ("moment", "plain") if k in values},
    }


def expected(
    values: dict[str, Any], schema: type[SQLModel] = TEAM.Public
) -> dict[str, Any]:
    return as_json(schema, stored(values))


def typed(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in TYPED}


def routers(async_: bool) -> list[APIRouter]:
    """Every generated endpoint over the typed tables."""
    filters = {k: ("eq",) if k == "flag" else ("eq", "in") for k in KEYS}
    return [
        crud_router(
            CtTeam,
            prefix="/teams",
            async_=async_,
            include={"members": MEMBER.Public},
            order_by=KEYS,
            filters=filters,
        ),
        crud_router(CtMember, prefix="/members", async_=async_, filters=filters),
        crud_router(CtTag, prefix="/tags", async_=async_),
        crud_router(CtProject, prefix="/projects", async_=async_, exclude=["read"]),
        link_router(
            CtProjectTag,
            parent=CtProject,
            child=CtTag,
            parent_prefix="/projects",
            child_prefix="/tags",
            async_=async_,
        ),
    ]


@pytest.fixture
def client(target: Target, database: Database) -> Iterator[TestClient]:
    with serving(database, TABLES, routers(target.async_)) as client:
        yield client


def create(client: TestClient, values: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/teams/", json=sent(values))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_create_read_and_list_return_what_was_sent(client: TestClient) -> None:
    created = create(client, VALUES[0])
    assert typed(created) == expected(VALUES[0])
    uuid.UUID(created["id"])
    read = client.get(f"/teams/{created['id']}")
    assert read.status_code == 200, read.text
    assert read.json() == {**created, "members": []}
    listed = client.get("/teams/")
    assert listed.status_code == 200, listed.text
    assert listed.json() == [created]


def test_nulls_come_back_as_nulls(client: TestClient) -> None:
    created = client.post("/teams/", json={})
    assert created.status_code == 200, created.text
    assert typed(created.json()) == dict.fromkeys(TYPED)
    assert client.get(f"/teams/{created.json()['id']}").json()["ref"] is None


@pytest.mark.parametrize("field", KEYS)
def test_filter_on_each_column_finds_its_row(client: TestClient, field: str) -> None:
    rows = [create(client, values) for values in VALUES]
    for row, values in zip(rows, VALUES, strict=True):
        value = sent(stored(values))[field]
        response = client.get("/teams/", params={field: value})
        assert response.status_code == 200, response.text
        assert [r["id"] for r in response.json()] == [row["id"]], (field, value)
    if field != "flag":
        both = [sent(stored(values))[field] for values in VALUES]
        response = client.get("/teams/", params={f"{field}__in": both})
        assert response.status_code == 200, response.text
        assert len(response.json()) == 2


# The database orders these by its own rule: PostgreSQL and MariaDB order an enum
# by declaration and MariaDB's UUID type by its time fields first.
SERVER_ORDERED = {"ref", "colour"}


@pytest.mark.parametrize("field", KEYS)
def test_order_and_cursor_on_each_column(client: TestClient, field: str) -> None:
    rows = [create(client, values) for values in (*VALUES, {})]
    orders = {}
    for order_by in (field, f"-{field}"):
        listed = client.get("/teams/", params={"order_by": order_by})
        assert listed.status_code == 200, listed.text
        ordered = [r["id"] for r in listed.json()]
        paged: list[str] = []
        params: dict[str, Any] = {"order_by": order_by, "limit": 1}
        for _ in range(4):
            page = client.get("/teams/", params=params)
            assert page.status_code == 200, page.text
            paged += [r["id"] for r in page.json()]
            if "X-Next-Cursor" not in page.headers:
                break
            params = {**params, "cursor": page.headers["X-Next-Cursor"]}
        assert paged == ordered, order_by
        orders[order_by] = [id for id in ordered if id != rows[2]["id"]]
    assert orders[field] == orders[f"-{field}"][::-1]
    if field not in SERVER_ORDERED:
        low, high = sorted(range(2), key=lambda i: VALUES[i][field])
        assert orders[field] == [rows[low]["id"], rows[high]["id"]]


def test_patch_changes_every_column(client: TestClient) -> None:
    created = create(client, VALUES[0])
    patched = client.patch(f"/teams/{created['id']}", json=sent(VALUES[1]))
    assert patched.status_code == 200, patched.text
    assert typed(patched.json()) == expected(VALUES[1])
    assert typed(client.get(f"/teams/{created['id']}").json()) == expected(VALUES[1])
    cleared = client.patch(f"/teams/{created['id']}", json=dict.fromkeys(TYPED))
    assert cleared.status_code == 200, cleared.text
    assert typed(cleared.json()) == dict.fromkeys(TYPED)


def test_bulk_create_returns_every_row(client: TestClient) -> None:
    response = client.post("/teams/bulk", json=[sent(values) for values in VALUES])
    assert response.status_code == 200, response.text
    assert [typed(row) for row in response.json()] == [expected(v) for v in VALUES]
    listed = client.get("/teams/", params={"order_by": "big"}).json()
    assert [typed(row) for row in listed] == [expected(VALUES[1]), expected(VALUES[0])]


def test_nested_read_returns_children_values(client: TestClient) -> None:
    team = create(client, VALUES[0])
    members = []
    for values in VALUES:
        response = client.post(
            "/members/", json={**sent(values), "team_id": team["id"]}
        )
        assert response.status_code == 200, response.text
        assert typed(response.json()) == expected(values, MEMBER.Public)
        members.append(response.json())
    read = client.get(f"/teams/{team['id']}")
    assert read.status_code == 200, read.text
    got = sorted(read.json()["members"], key=lambda m: m["big"])
    assert got == sorted(members, key=lambda m: m["big"])
    by_team = client.get("/members/", params={"ref": str(VALUES[1]["ref"])})
    assert [m["id"] for m in by_team.json()] == [members[1]["id"]]


def test_link_routes_return_link_data(client: TestClient) -> None:
    project = client.post("/projects/", json={"name": "p"}).json()
    tag = client.post("/tags/", json={"name": "t"}).json()
    path = f"/projects/{project['id']}/tags/{tag['id']}"
    for values in VALUES:  # link, then change the link's data
        linked = client.put(path, json=sent(values))
        assert linked.status_code == 200, linked.text
        assert typed(linked.json()) == expected(values, CtProjectTag)
    read = client.get(f"/projects/{project['id']}")
    assert read.status_code == 200, read.text
    (child,) = read.json()["tags"]
    assert child["id"] == tag["id"]
    assert typed(child) == expected(VALUES[1], CtProjectTag)
    parents = client.get(f"/tags/{tag['id']}/projects")
    assert parents.status_code == 200, parents.text
    (parent,) = parents.json()
    assert parent["id"] == project["id"]
    assert typed(parent) == expected(VALUES[1], CtProjectTag)


BAD_VALUES = [
    ("plain", "2024-02-29T13:45:30"),  # naive, for a column that stores an instant
    ("moment", "2024-02-29T13:45:30"),
    ("local", "2024-02-29T13:45:30+02:00"),  # aware, for a naive column
    ("amount", "1234567890123.5"),  # more digits than the column holds
    ("big", 2**63),
    ("ref", "not-a-uuid"),
    ("colour", "RED"),  # a name, not a value
    ("day", "2024-02-30"),
    ("data", "not an object"),
]


@pytest.mark.parametrize(("field", "value"), BAD_VALUES, ids=[f for f, _ in BAD_VALUES])
def test_a_value_the_column_cannot_hold_is_a_422(
    client: TestClient, field: str, value: Any
) -> None:
    created = create(client, VALUES[0])
    for response in (
        client.post("/teams/", json={field: value}),
        client.patch(f"/teams/{created['id']}", json={field: value}),
        client.post("/teams/bulk", json=[{field: value}]),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][-1] == field
    if field in KEYS:  # a filter value no row can hold: refused, or matching nothing
        response = client.get("/teams/", params={field: value})
        assert response.status_code in (200, 422), response.text
        assert response.status_code == 422 or response.json() == []
    assert client.get(f"/teams/{created['id']}").json() == {**created, "members": []}
