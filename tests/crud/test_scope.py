"""`Repository` scopes (owner / tenant) and soft delete, on every backend and driver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.crud import Repository
from sqlmodel_production.errors import (
    BulkValidationError,
    OutsideScope,
    ReferenceNotFound,
)
from sqlmodel_production.models import SoftDelete
from tests.conftest import Target, run_on_connection


class ScLoan(SoftDelete, table=True):
    __tablename__ = "sc_loan"
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(index=True)
    title: str = Field(max_length=50)


class ScDoc(SQLModel, table=True):
    __tablename__ = "sc_doc"
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=20, index=True)
    title: str = Field(max_length=50)


class ScShelf(SoftDelete, table=True):
    __tablename__ = "sc_shelf"
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(index=True)


class ScSetting(SQLModel, table=True):
    """One setting per owner and key, upserted; it may name a shelf of its owner."""

    __tablename__ = "sc_setting"
    __table_args__ = (sa.UniqueConstraint("key"),)
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(index=True)
    key: str = Field(max_length=20)
    value: str = Field(max_length=20)
    shelf_id: int | None = Field(default=None, foreign_key="sc_shelf.id")


TABLES = [ScLoan.__table__, ScDoc.__table__, ScShelf.__table__, ScSetting.__table__]  # type: ignore[attr-defined]
loans = Repository(ScLoan, order_by=["title"])
docs = Repository(ScDoc, order_by=["title"])
settings = Repository(ScSetting)
ALICE, BOB = {"owner_id": 1}, {"owner_id": 2}


@pytest.fixture
def tables(target: Target, database: Database) -> Iterator[None]:
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
    yield
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)


def test_a_scope_hides_other_owners_rows(
    target: Target, database: Database, tables: None
) -> None:
    def work(conn: sa.Connection) -> None:
        # Data naming another owner is refused; naming its own is fine.
        with pytest.raises(OutsideScope, match="owner_id"):
            loans.create(conn, {"title": "a", "owner_id": 2}, scope=ALICE)
        with pytest.raises(BulkValidationError) as refused:
            loans.create_many(
                conn, [{"title": "a"}, {"title": "a", "owner_id": 2}], scope=ALICE
            )
        assert refused.value.errors[0]["loc"] == [1, "owner_id"]
        mine = loans.create(conn, {"title": "a", "owner_id": 1}, scope=ALICE)
        loans.create(conn, {"title": "b"}, scope=ALICE)
        theirs = loans.create(conn, {"title": "c"}, scope=BOB)
        assert mine["owner_id"] == 1
        assert [r["title"] for r in loans.list(conn, scope=ALICE).rows] == ["a", "b"]
        assert loans.count(conn, scope=ALICE) == 2
        assert loans.list(conn, scope=ALICE, with_total=True).total == 2
        assert loans.read(conn, theirs["id"], scope=ALICE) is None
        assert loans.update(conn, theirs["id"], {"title": "x"}, scope=ALICE) is None
        assert loans.delete(conn, theirs["id"], scope=ALICE) is False
        assert loans.read(conn, theirs["id"], scope=BOB) == theirs  # untouched
        with pytest.raises(
            ValueError, match="Scoped columns cannot be changed: owner_id"
        ):
            loans.update(conn, mine["id"], {"owner_id": 2}, scope=ALICE)
        updated = loans.update(conn, mine["id"], {"title": "a2"}, scope=ALICE)
        assert updated is not None and updated["title"] == "a2"

    run_on_connection(database, target.async_, work)


def test_a_tenant_scope_on_filters_pages_and_bulk(
    target: Target, database: Database, tables: None
) -> None:
    def work(conn: sa.Connection) -> None:
        docs.create_many(
            conn,
            [{"title": f"t{i}"} for i in range(5)],
            scope={"tenant": "a"},
        )
        docs.create_many(
            conn, [{"title": f"t{i}"} for i in range(3)], scope={"tenant": "b"}
        )
        seen, cursor = [], None
        while True:  # cursor pages inside the scope
            page = docs.list(conn, scope={"tenant": "a"}, limit=2, cursor=cursor)
            seen += [(r["tenant"], r["title"]) for r in page.rows]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == [("a", f"t{i}") for i in range(5)]
        assert docs.count(conn, scope={"tenant": "b"}) == 3

    run_on_connection(database, target.async_, work)


def test_soft_delete_hides_and_restores(
    target: Target, database: Database, tables: None
) -> None:
    def work(conn: sa.Connection) -> None:
        gone = loans.create(conn, {"title": "gone"}, scope=ALICE)
        loans.create(conn, {"title": "kept"}, scope=ALICE)
        assert loans.delete(conn, gone["id"], scope=ALICE) is True
        assert loans.delete(conn, gone["id"], scope=ALICE) is False  # already deleted
        # Still in the table, marked, by the database's clock.
        marked = conn.execute(
            sa.select(ScLoan.deleted_at).where(ScLoan.id == gone["id"])
        ).scalar_one()  # type: ignore[arg-type]
        assert marked is not None
        assert loans.read(conn, gone["id"], scope=ALICE) is None
        assert loans.update(conn, gone["id"], {"title": "x"}, scope=ALICE) is None
        assert [r["title"] for r in loans.list(conn, scope=ALICE).rows] == ["kept"]
        assert loans.count(conn, scope=ALICE) == 1
        assert [
            r["title"] for r in loans.list(conn, scope=ALICE, deleted="only").rows
        ] == ["gone"]
        assert loans.count(conn, scope=ALICE, deleted="include") == 2
        assert loans.read(conn, gone["id"], scope=ALICE, deleted="include") is not None
        assert loans.restore(conn, gone["id"], scope=BOB) is None  # not theirs
        restored = loans.restore(conn, gone["id"], scope=ALICE)
        assert restored is not None and restored["deleted_at"] is None
        assert loans.restore(conn, gone["id"], scope=ALICE) is None  # not deleted now
        assert loans.read(conn, gone["id"], scope=ALICE) == restored

    run_on_connection(database, target.async_, work)


def test_hard_delete_with_soft_delete_off(
    target: Target, database: Database, tables: None
) -> None:
    hard = Repository(ScLoan, soft_delete=False)

    def work(conn: sa.Connection) -> None:
        row = hard.create(conn, {"title": "a"}, scope=ALICE)
        assert hard.delete(conn, row["id"], scope=ALICE) is True
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(ScLoan)).scalar_one()
            == 0
        )

    run_on_connection(database, target.async_, work)


def test_scope_names_columns() -> None:
    engine = sa.create_engine("sqlite://")
    with (
        engine.connect() as conn,
        pytest.raises(ValueError, match="Not a column of sc_doc: 'owner'"),
    ):
        docs.count(conn, scope={"owner": 1})
    engine.dispose()


def test_a_scoped_upsert_stays_in_its_scope(
    target: Target, database: Database, tables: None
) -> None:
    """Stamped, references checked, and another owner's row of the same key left alone."""

    def work(conn: sa.Connection) -> None:
        conn.execute(
            ScShelf.__table__.insert(),  # type: ignore[attr-defined]
            [{"id": 1, "owner_id": 1}, {"id": 2, "owner_id": 2}],
        )
        mine = settings.upsert(
            conn, {"key": "a", "value": "1"}, on=["key"], scope=ALICE
        )
        assert mine is not None and mine["owner_id"] == 1
        again = settings.upsert(
            conn, {"key": "a", "value": "2", "shelf_id": 1}, on=["key"], scope=ALICE
        )
        assert again is not None and (again["id"], again["value"]) == (mine["id"], "2")
        # Bob's upsert of Alice's key changes nothing and says so.
        assert (
            settings.upsert(conn, {"key": "a", "value": "x"}, on=["key"], scope=BOB)
            is None
        )
        with pytest.raises(ReferenceNotFound, match="shelf_id"):
            settings.upsert(
                conn, {"key": "b", "value": "1", "shelf_id": 2}, on=["key"], scope=ALICE
            )
        with pytest.raises(OutsideScope):
            settings.upsert(
                conn, {"key": "b", "value": "1", "owner_id": 2}, on=["key"], scope=ALICE
            )
        rows = conn.execute(sa.select(ScSetting.__table__)).mappings().all()  # type: ignore[attr-defined]
        assert [(r["key"], r["owner_id"], r["value"]) for r in rows] == [("a", 1, "2")]

    run_on_connection(database, target.async_, work)
