"""Mixins on the real databases, through the sync and the async driver."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from sqlmodel_production import Database
from sqlmodel_production.crud import Repository
from sqlmodel_production.models import (
    UUIDPK,
    IntPK,
    SoftDelete,
    StringField,
    Timestamps,
    Versioned,
    derive_schemas,
)
from tests.conftest import Target, run_on_connection
from tests.models._tables import created


class MxStamped(IntPK, Timestamps, table=True):
    name: str = StringField(max_length=50)


class MxTrashable(IntPK, SoftDelete, table=True):
    name: str = StringField(max_length=50)


class MxVersioned(IntPK, Versioned, Timestamps, table=True):
    name: str = StringField(max_length=50)


class MxVersionedTrash(IntPK, Versioned, SoftDelete, table=True):
    name: str = StringField(max_length=50)


class MxKeyed(UUIDPK, table=True):
    name: str = StringField(max_length=50)


def assert_utc(value: datetime | None) -> datetime:
    assert value is not None
    assert value.tzinfo is UTC
    return value


def test_timestamps_are_set_by_the_database_in_utc(
    target: Target, database: Database
) -> None:
    def body(conn: sa.Connection) -> None:
        # A Core insert carries no Python defaults: the values can only come from the server.
        conn.execute(sa.insert(MxStamped).values(name="Deadpond"))
        created_at, updated_at = conn.execute(
            sa.select(MxStamped.created_at, MxStamped.updated_at)  # type: ignore[call-overload]
        ).one()
        conn.commit()
        assert abs(assert_utc(created_at) - datetime.now(UTC)) < timedelta(minutes=1)
        assert assert_utc(updated_at) == created_at

    with created(database, MxStamped):
        run_on_connection(database, target.async_, body)


def test_updated_at_moves_on_update_and_created_at_stays(
    target: Target, database: Database
) -> None:
    def body(conn: sa.Connection) -> None:
        with Session(conn, expire_on_commit=False) as session:
            hero = MxStamped(name="Deadpond")
            session.add(hero)
            session.commit()
            session.refresh(hero)
            created_at, first = assert_utc(hero.created_at), assert_utc(hero.updated_at)

            time.sleep(0.01)  # SQLite's clock has milliseconds
            hero.name = "Rusty-Man"
            session.add(hero)
            session.commit()
            session.refresh(hero)
            assert hero.created_at == created_at
            second = assert_utc(hero.updated_at)
            assert second > first

            # The UPDATE statement itself sets it: a Core update too.
            time.sleep(0.01)
            session.exec(sa.update(MxStamped).values(name="Spider-Boy"))
            session.commit()
            session.refresh(hero)
            assert assert_utc(hero.updated_at) > second

    with created(database, MxStamped):
        run_on_connection(database, target.async_, body)


def test_naive_datetimes_are_refused(target: Target, database: Database) -> None:
    def body(conn: sa.Connection) -> None:
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            conn.execute(
                sa.insert(MxStamped).values(
                    name="Deadpond", created_at=datetime(2024, 1, 1)
                )
            )

    with created(database, MxStamped):
        run_on_connection(database, target.async_, body)


def test_soft_deleted_rows_are_filtered_out(target: Target, database: Database) -> None:
    def body(conn: sa.Connection) -> None:
        with Session(conn, expire_on_commit=False) as session:
            kept, trashed = MxTrashable(name="kept"), MxTrashable(name="trashed")
            session.add_all([kept, trashed])
            session.commit()
            trashed.soft_delete()
            assert trashed.is_deleted and not kept.is_deleted
            session.add(trashed)
            session.commit()
            session.expunge_all()

            live = session.exec(
                select(MxTrashable).where(MxTrashable.not_deleted())
            ).all()
            assert [row.name for row in live] == ["kept"]
            gone = session.exec(
                select(MxTrashable).where(MxTrashable.only_deleted())
            ).one()
            assert gone.name == "trashed"
            assert abs(assert_utc(gone.deleted_at) - datetime.now(UTC)) < timedelta(
                minutes=1
            )

            gone.restore()
            session.add(gone)
            session.commit()
            live = session.exec(
                select(MxTrashable).where(MxTrashable.not_deleted())
            ).all()
            assert sorted(row.name for row in live) == ["kept", "trashed"]

    with created(database, MxTrashable):
        run_on_connection(database, target.async_, body)


def test_a_stale_versioned_update_is_refused(
    target: Target, database: Database
) -> None:
    def body(conn: sa.Connection) -> None:
        with Session(conn, expire_on_commit=False) as session:
            hero = MxVersioned(name="Deadpond")
            session.add(hero)
            session.commit()
            assert hero.version == 1
            hero.name = "Rusty-Man"
            session.add(hero)
            session.commit()
            assert hero.version == 2

            # Another writer updates the row after we loaded it (behind the session's back).
            table = MxVersioned.__table__  # type: ignore[attr-defined]
            conn.execute(sa.update(table).values(name="Spider-Boy", version=3))
            hero.name = "Lost Update"
            session.add(hero)
            with pytest.raises(StaleDataError):
                session.flush()
            session.rollback()
            assert session.exec(select(MxVersioned.name)).one() == "Rusty-Man"

    with created(database, MxVersioned):
        run_on_connection(database, target.async_, body)


def test_every_update_moves_the_version(target: Target, database: Database) -> None:
    """Core, an ORM bulk update, a soft delete and a restore each add 1, as the ORM does."""
    table = MxVersionedTrash.__table__  # type: ignore[attr-defined]
    repository = Repository(MxVersionedTrash)

    def body(conn: sa.Connection) -> None:
        def version() -> int:
            return conn.execute(sa.select(table.c.version)).scalar_one()

        with Session(conn, expire_on_commit=False) as session:
            note = MxVersionedTrash(name="a")
            session.add(note)
            session.commit()
            assert note.version == 1
            conn.execute(sa.update(table).values(name="b"))  # a background job
            assert version() == 2
            with Session(conn) as other:  # an ORM bulk update elsewhere
                other.execute(sa.update(MxVersionedTrash).values(name="c"))
            assert version() == 3
            assert repository.delete(conn, note.id) is True
            assert version() == 4
            assert repository.restore(conn, note.id) is not None
            assert version() == 5
            # A writer that sets the version itself is not counted twice.
            conn.execute(sa.update(table).values(name="d", version=table.c.version + 1))
            assert version() == 6
            # The ORM's own update still checks what it loaded: the row moved on.
            note.name = "lost update"
            session.add(note)
            with pytest.raises(StaleDataError):
                session.flush()

    with created(database, MxVersionedTrash):
        run_on_connection(database, target.async_, body)


def test_uuid_keys_round_trip(target: Target, database: Database) -> None:
    def body(conn: sa.Connection) -> None:
        with Session(conn, expire_on_commit=False) as session:
            row = MxKeyed(name="a")
            session.add(row)
            session.commit()
            session.expunge_all()
            loaded = session.get(MxKeyed, row.id)
            assert loaded is not None
            assert isinstance(loaded.id, uuid.UUID)
            assert loaded.id == row.id

    with created(database, MxKeyed):
        run_on_connection(database, target.async_, body)


VersionedSchemas = derive_schemas(MxVersioned)


def test_derived_schemas_serve_a_full_round_trip(
    target: Target, database: Database
) -> None:
    def body(conn: sa.Connection) -> None:
        with Session(conn, expire_on_commit=False) as session:
            hero = MxVersioned.model_validate(
                VersionedSchemas.Create.model_validate({"name": "Deadpond"})
            )
            session.add(hero)
            session.commit()
            session.refresh(hero)
            public = VersionedSchemas.Public.model_validate(hero).model_dump()
            assert public == {
                "id": hero.id,
                "name": "Deadpond",
                "version": 1,
                "created_at": assert_utc(hero.created_at),
                "updated_at": hero.updated_at,
            }

            update = VersionedSchemas.Update.model_validate({"name": "Rusty-Man"})
            hero.sqlmodel_update(update.model_dump(exclude_unset=True))
            session.add(hero)
            session.commit()
            session.refresh(hero)
            assert (hero.name, hero.version) == ("Rusty-Man", 2)

    with created(database, MxVersioned):
        run_on_connection(database, target.async_, body)
