"""`Repository` on every backend and driver: each operation, its round trips, its errors."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.crud import (
    AsyncRepository,
    BulkValidationError,
    Repository,
    StaleVersion,
)
from sqlmodel_production.db import Backend
from sqlmodel_production.models import UUIDPK, Timestamps, Versioned, derive_schemas
from sqlmodel_production.testing import assert_max_queries, assert_queries
from tests.conftest import Target

T = TypeVar("T")


class RpHero(Timestamps, table=True):
    __tablename__ = "rp_hero"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)
    age: int | None = Field(default=None)
    secret: str = Field(default="", max_length=50)


class RpDoc(Versioned, table=True):
    __tablename__ = "rp_doc"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=50)


class RpToken(UUIDPK, table=True):
    __tablename__ = "rp_token"
    label: str = Field(max_length=20)
    uses: int = Field(default=3)


class RpClash(Versioned, table=True):
    """Columns named like the UPDATE's parameters."""

    __tablename__ = "rp_clash"
    id: int | None = Field(default=None, primary_key=True)
    pk: int = 0
    set_name: str = Field(default="", max_length=20)
    expected_version: int = 0
    p_pk: int = 0
    name: str = Field(default="", max_length=20)


TABLES = [RpHero.__table__, RpDoc.__table__, RpToken.__table__, RpClash.__table__]  # type: ignore[attr-defined]
PUBLIC = derive_schemas(RpHero, write_only={"secret"}).Public
heroes = Repository(
    RpHero,
    public=PUBLIC,
    filters={"age": ("gt", "is_null")},
    order_by=["name", "age", "created_at"],
)
docs = Repository(RpDoc)


@pytest.fixture
def run(
    target: Target, database: Database
) -> Iterator[Callable[[Callable[[Session], T]], T]]:
    """Run a sync body in a session: directly, or through `run_sync` on the async driver."""
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)

    def run(body: Callable[[Session], T]) -> T:
        if not target.async_:
            with database.session() as session:
                return body(session)

        async def main() -> T:
            try:
                async with database.async_session() as session:
                    return await session.run_sync(body)
            finally:
                await database.async_engine.dispose()

        return asyncio.run(main())

    yield run
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)


def test_create_returns_server_values_in_one_statement(run: Callable[..., Any]) -> None:
    def body(session: Session) -> dict[str, Any]:
        with assert_queries(1):
            row = heroes.create(
                session, {"name": "Deadpond", "age": 30, "secret": "Dive"}
            )
        session.commit()
        return row

    row = run(body)
    assert set(row) == {"id", "name", "age", "created_at", "updated_at"}
    assert isinstance(row["id"], int)
    assert row["created_at"].tzinfo is not None
    assert abs((datetime.now(UTC) - row["created_at"]).total_seconds()) < 60


def test_create_many_is_batched_and_ordered(run: Callable[..., Any]) -> None:
    def body(session: Session) -> list[dict[str, Any]]:
        with assert_max_queries(1):
            rows = heroes.create_many(
                session, [{"name": f"h{i:03}", "age": i} for i in range(300)]
            )
        session.commit()
        return rows

    rows = run(body)
    assert [r["name"] for r in rows] == [f"h{i:03}" for i in range(300)]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert run(lambda s: heroes.count(s)) == 300


def test_create_many_validates_every_row_before_writing(
    run: Callable[..., Any],
) -> None:
    def body(session: Session) -> list[Any]:
        with assert_queries(0), pytest.raises(BulkValidationError) as raised:
            heroes.create_many(
                session, [{"name": "ok"}, {"name": "x" * 51}, {"age": "old"}]
            )
        return [e["loc"] for e in raised.value.errors]

    assert run(body) == [[1, "name"], [2, "name"], [2, "age"]]
    assert run(lambda s: heroes.count(s)) == 0


def test_update_is_partial_and_keeps_updated_at_current(
    run: Callable[..., Any],
) -> None:
    def body(
        session: Session,
    ) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
        created = heroes.create(session, {"name": "A", "age": 1})
        session.commit()
        updated = heroes.update(session, created["id"], {"age": 2})
        missing = heroes.update(session, 10_000, {"age": 3})
        session.commit()
        return created, updated, missing

    created, updated, missing = run(body)
    assert updated is not None and missing is None
    assert (updated["name"], updated["age"]) == ("A", 2)
    assert updated["created_at"] == created["created_at"]
    assert updated["updated_at"] >= created["updated_at"]


def test_updates_of_different_columns_each_set_only_theirs(
    run: Callable[..., Any],
) -> None:
    """UPDATE statements are built once per set of columns; each shape writes its own."""

    def body(session: Session) -> list[tuple[str, int | None]]:
        created = heroes.create(session, {"name": "A", "age": 1})
        changes = [{"age": 2}, {"name": "B"}, {"name": "C", "age": 3}, {"age": None}]
        changes.append({"age": 4, "name": "D"})  # the same columns in another order
        seen = []
        for change in changes:
            row = heroes.update(session, created["id"], change)
            assert row is not None
            seen.append((row["name"], row["age"]))
        session.commit()
        return seen

    assert run(body) == [("A", 2), ("B", 2), ("C", 3), ("C", None), ("D", 4)]


def test_columns_named_like_update_parameters_are_left_alone(
    run: Callable[..., Any],
) -> None:
    clashes = Repository(RpClash)
    given = {"pk": 7, "set_name": "keep", "expected_version": 5, "p_pk": 9}

    def body(session: Session) -> tuple[Any, Any]:
        created = clashes.create(session, {**given, "name": "a"})
        updated = clashes.update(
            session, created["id"], {"name": "b"}, version=created["version"]
        )
        assert updated is not None
        moved = clashes.update(session, created["id"], {"pk": 8, "set_name": "x"})
        session.commit()
        return updated, moved

    updated, moved = run(body)
    assert updated == {**given, "id": updated["id"], "name": "b", "version": 2}
    assert moved == {**updated, "pk": 8, "set_name": "x", "version": 3}


def test_upsert_inserts_then_updates_on_the_unique_key(run: Callable[..., Any]) -> None:
    def body(session: Session) -> tuple[dict[str, Any], dict[str, Any], int]:
        first = heroes.upsert(session, {"name": "A", "age": 1}, on=["name"])
        second = heroes.upsert(session, {"name": "A", "age": 2}, on=["name"])
        session.commit()
        return first, second, heroes.count(session)

    first, second, count = run(body)
    assert (second["id"], second["age"], count) == (first["id"], 2, 1)


def test_delete_reports_whether_a_row_went(run: Callable[..., Any]) -> None:
    def body(session: Session) -> tuple[bool, bool, Any]:
        row = heroes.create(session, {"name": "A"})
        first, second = (
            heroes.delete(session, row["id"]),
            heroes.delete(session, row["id"]),
        )
        session.commit()
        return first, second, heroes.read(session, row["id"])

    assert run(body) == (True, False, None)


def test_stale_version_is_refused(run: Callable[..., Any]) -> None:
    def body(session: Session) -> tuple[int, int]:
        doc = docs.create(session, {"title": "v1"})
        moved = docs.update(session, doc["id"], {"title": "v2"}, version=1)
        assert moved is not None
        with pytest.raises(StaleVersion) as raised:
            docs.update(session, doc["id"], {"title": "lost"}, version=1)
        session.commit()
        return moved["version"], raised.value.current or 0

    assert run(body) == (2, 2)


def test_cursor_walk_on_server_timestamps_sees_every_row(
    run: Callable[..., Any],
) -> None:
    """Rows created in one statement share a timestamp: the walk must still see each once."""

    def body(session: Session) -> list[str]:
        heroes.create_many(
            session, [{"name": f"h{i}", "age": i % 3 or None} for i in range(25)]
        )
        session.commit()
        names: list[str] = []
        cursor = None
        while True:
            page = heroes.list(session, order_by="created_at", limit=4, cursor=cursor)
            names += [row["name"] for row in page.rows]
            if page.next_cursor is None:
                return names
            cursor = page.next_cursor

    names = run(body)
    assert sorted(names) == sorted(f"h{i}" for i in range(25))


def test_list_filters_and_counts(run: Callable[..., Any]) -> None:
    def body(session: Session) -> tuple[list[str], int | None]:
        heroes.create_many(
            session,
            [{"name": n, "age": a} for n, a in [("a", 5), ("b", None), ("c", 9)]],
        )
        page = heroes.list(
            session, filters={"age__gt": 4}, order_by="-age", with_total=True
        )
        return [r["name"] for r in page.rows], page.total

    assert run(body) == (["c", "a"], 2)


def test_filters_and_order_keys_must_be_public() -> None:
    # A write-only field must not be filterable: `secret__like=a%` would leak it letter by letter.
    with pytest.raises(ValueError, match="secret"):
        Repository(RpHero, public=PUBLIC, filters=["secret"])
    with pytest.raises(ValueError, match="secret"):
        Repository(RpHero, public=PUBLIC, order_by=["secret"], default_order=["secret"])


@pytest.mark.only(Backend.SQLITE, Backend.POSTGRESQL, Backend.MARIADB)
def test_async_repository_has_the_same_methods(
    target: Target, database: Database
) -> None:
    repository = AsyncRepository(heroes)

    async def main() -> list[Any]:
        async with database.async_engine.begin() as conn:
            await conn.run_sync(
                lambda c: SQLModel.metadata.create_all(c, tables=TABLES)
            )
        try:
            async with database.async_session() as session:
                row = await repository.create(session, {"name": "A", "age": 1})
                many = await repository.create_many(
                    session, [{"name": "B"}, {"name": "C"}]
                )
                updated = await repository.update(session, row["id"], {"age": 2})
                upserted = await repository.upsert(
                    session, {"name": "B", "age": 7}, on=["name"]
                )
                page = await repository.list(session, order_by="name")
                gone = await repository.delete(session, many[1]["id"])
                await session.commit()
                return [
                    (await repository.read(session, row["id"]) or {}).get("age"),
                    (await repository.get(session, row["id"])).name,  # type: ignore[union-attr]
                    updated and updated["age"],
                    upserted["age"],
                    [r["name"] for r in page.rows],
                    gone,
                    await repository.count(session),
                ]
        finally:
            async with database.async_engine.begin() as conn:
                await conn.run_sync(
                    lambda c: SQLModel.metadata.drop_all(c, tables=TABLES)
                )
            await database.async_engine.dispose()

    assert asyncio.run(main()) == [2, "A", 2, 7, ["A", "B", "C"], True, 2]


def test_a_validated_schema_gets_the_table_defaults_without_a_second_validation(
    run: Callable[..., Any],
) -> None:
    """The router hands over the Create body FastAPI validated; the table fills in the rest."""
    tokens = Repository(RpToken)
    Create = derive_schemas(RpToken).Create

    def body(session: Session) -> list[dict[str, Any]]:
        rows = tokens.create_many(
            session, [Create(label="a"), Create(label="b", uses=5)]
        )
        rows.append(tokens.create(session, {"label": "c"}))
        session.commit()
        return rows

    rows = run(body)
    assert [(r["label"], r["uses"]) for r in rows] == [("a", 3), ("b", 5), ("c", 3)]
    assert len({r["id"] for r in rows}) == 3 and all(
        isinstance(r["id"], uuid.UUID) for r in rows
    )
