"""`create_many` on every backend and driver: order, values of every kind, atomicity.

On PostgreSQL most tables go through one `INSERT ... SELECT FROM unnest(...)` per
10,000 rows; JSON and enum columns keep the batched VALUES path. Every row returned
must equal the row read back.
"""

# ruff: noqa: F811  (tests take the imported `run` fixture as a parameter)
from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import JSON, Column, Field, SQLModel

from sqlmodel_production.crud import BulkValidationError, Repository
from sqlmodel_production.db import Backend
from sqlmodel_production.db._backends import _postgresql
from sqlmodel_production.diagnostics import record_queries
from sqlmodel_production.models import UTCDateTime, derive_schemas
from tests.conftest import Target
from tests.crud.test_repository import RpHero, heroes, run  # noqa: F401  (a fixture)


class Mood(enum.Enum):
    calm = "calm"
    angry = "angry"


class CmEvent(SQLModel, table=True):
    __tablename__ = "cm_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=80)
    kind: str = Field(default="plain", max_length=10)  # a Python default, left out


class CmTagged(SQLModel, table=True):
    __tablename__ = "cm_tagged"
    id: int | None = Field(default=None, primary_key=True)
    mood: Mood
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


events = Repository(CmEvent)
tagged = Repository(CmTagged, public=derive_schemas(CmTagged).Public)
TABLES = [CmEvent.__table__, CmTagged.__table__]  # type: ignore[attr-defined]
TRICKY = ["a,b", "{c}", 'd"e', "f'g", "h\\i", "NULL", "", "ünï ✓", " sp "]


@pytest.fixture
def tables(run: Callable[..., Any]) -> Callable[..., Any]:
    def create(session: Session) -> None:
        SQLModel.metadata.create_all(session.connection(), tables=TABLES)
        session.commit()

    def drop(session: Session) -> None:
        SQLModel.metadata.drop_all(session.connection(), tables=TABLES)
        session.commit()

    run(drop)
    run(create)
    yield run
    run(drop)


def read_back(
    session: Session, repository: Repository[Any], ids: list[Any]
) -> list[Any]:
    return [repository.read(session, id) for id in ids]


def insert_then_read_back(
    repository: Repository[Any], items: list[dict[str, Any]]
) -> Callable[[Session], tuple[list[Any], list[Any]]]:
    """A body: `create_many` the items, commit, and read every row back by its key."""

    def body(session: Session) -> tuple[list[Any], list[Any]]:
        rows = repository.create_many(session, items)
        session.commit()
        return rows, read_back(session, repository, [row["id"] for row in rows])

    return body


def test_more_than_one_batch_keeps_input_order(
    target: Target, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_postgresql, "UNNEST_BATCH", 100)  # three PostgreSQL statements
    n = 250

    def body(session: Session) -> tuple[list[Any], list[Any], int]:
        with record_queries() as recording:
            rows = heroes.create_many(
                session,
                [
                    {"name": f"{TRICKY[i % len(TRICKY)]}#{n - i}", "age": None}
                    for i in range(n)
                ],
            )
        session.commit()
        ids = [row["id"] for row in rows]
        return rows, read_back(session, heroes, ids), recording.count

    rows, stored, statements = run(body)
    if target.backend is Backend.POSTGRESQL:
        assert statements == 3
    assert [row["name"] for row in rows] == [
        f"{TRICKY[i % len(TRICKY)]}#{n - i}" for i in range(n)
    ]
    assert all(row["age"] is None for row in rows)
    assert rows == stored


def test_datetimes_python_defaults_and_nulls(tables: Callable[..., Any]) -> None:
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    items = [
        {"at": start + timedelta(minutes=i), "note": None if i % 2 else TRICKY[i % 9]}
        for i in range(40)
    ]

    rows, stored = tables(insert_then_read_back(events, items))
    assert rows == stored
    assert [row["at"] for row in rows] == [item["at"] for item in items]
    assert [row["note"] for row in rows] == [item["note"] for item in items]
    assert {row["kind"] for row in rows} == {"plain"}


def test_json_and_enum_columns(tables: Callable[..., Any]) -> None:
    items = [
        {"mood": "angry" if i % 3 else "calm", "data": {"i": i, "s": TRICKY[i % 9]}}
        for i in range(30)
    ]

    rows, stored = tables(insert_then_read_back(tagged, items))
    assert rows == stored
    assert [row["data"] for row in rows] == [item["data"] for item in items]
    assert [Mood(row["mood"]).value for row in rows] == [item["mood"] for item in items]


def test_mixed_models_and_mappings_report_their_own_indexes(
    run: Callable[..., Any],
) -> None:
    Create = derive_schemas(RpHero).Create

    def body(session: Session) -> list[Any]:
        with pytest.raises(BulkValidationError) as raised:
            heroes.create_many(
                session,
                [
                    Create(name="model"),
                    {"name": "x" * 51},
                    Create(name="m2"),
                    {"age": "old"},
                ],
            )
        return [e["loc"] for e in raised.value.errors]

    assert run(body) == [[1, "name"], [3, "name"], [3, "age"]]
    assert run(lambda s: heroes.count(s)) == 0


def test_a_duplicate_in_the_middle_writes_nothing(run: Callable[..., Any]) -> None:
    def body(session: Session) -> None:
        names = [f"h{i}" for i in range(100)]
        names[60] = "h10"
        with pytest.raises(sa.exc.IntegrityError):
            heroes.create_many(session, [{"name": name} for name in names])
        session.rollback()

    run(body)
    assert run(lambda s: heroes.count(s)) == 0
