"""Field helpers on the real databases: indexed foreign keys, bounded strings."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.schema import CreateTable
from sqlmodel import Session, SQLModel, select

from sqlmodel_production import Database
from sqlmodel_production.db import Backend
from sqlmodel_production.models import (
    DEFAULT_STRING_LENGTH,
    ForeignKeyField,
    IntPK,
    StringField,
    derive_schemas,
)
from tests.conftest import Target, run_on_connection
from tests.models._tables import created


class MxGuild(IntPK, table=True):
    name: str = StringField(max_length=20)
    motto: str | None = StringField(default=None)


class MxMember(IntPK, table=True):
    guild_id: int = ForeignKeyField("mxguild.id", ondelete="CASCADE")
    mentor_id: int | None = ForeignKeyField(
        "mxguild.id", default=None, ondelete="SET NULL"
    )


def test_foreign_keys_are_indexed_with_their_on_delete(
    target: Target, database: Database
) -> None:
    def body(conn: sa.Connection) -> None:
        inspector = sa.inspect(conn)
        indexed = {
            tuple(index["column_names"]) for index in inspector.get_indexes("mxmember")
        }
        assert {("guild_id",), ("mentor_id",)} <= indexed
        on_delete = {
            fk["constrained_columns"][0]: fk["options"].get("ondelete")
            for fk in inspector.get_foreign_keys("mxmember")
        }
        assert on_delete == {"guild_id": "CASCADE", "mentor_id": "SET NULL"}

        with Session(conn, expire_on_commit=False) as session:
            guild, other = MxGuild(name="x-men"), MxGuild(name="avengers")
            session.add_all([guild, other])
            session.flush()
            assert guild.id is not None and other.id is not None
            session.add_all(
                [
                    MxMember(guild_id=guild.id, mentor_id=other.id),
                    MxMember(guild_id=other.id, mentor_id=guild.id),
                ]
            )
            session.commit()
            session.delete(guild)
            session.commit()
            session.expunge_all()
            (member,) = session.exec(select(MxMember)).all()
            assert (member.guild_id, member.mentor_id) == (other.id, None)

    with created(database, MxGuild, MxMember):
        run_on_connection(database, target.async_, body)


def test_foreign_key_index_is_declared_on_the_column() -> None:
    columns = MxMember.__table__.c  # type: ignore[attr-defined]
    assert columns.guild_id.index and columns.mentor_id.index
    assert columns.guild_id.nullable is False and columns.mentor_id.nullable is True


def test_string_lengths_appear_in_the_ddl(target: Target, database: Database) -> None:
    def body(conn: sa.Connection) -> None:
        ddl = str(CreateTable(MxGuild.__table__).compile(dialect=conn.dialect))  # type: ignore[attr-defined]
        assert "VARCHAR(20)" in ddl
        assert f"VARCHAR({DEFAULT_STRING_LENGTH})" in ddl
        lengths = {
            c["name"]: getattr(c["type"], "length", None)
            for c in sa.inspect(conn).get_columns("mxguild")
        }
        assert (lengths["name"], lengths["motto"]) == (
            20,
            DEFAULT_STRING_LENGTH,
        )

    with created(database, MxGuild):
        run_on_connection(database, target.async_, body)


def test_a_too_long_string_is_refused_by_the_server(
    target: Target, database: Database
) -> None:
    def body(conn: sa.Connection) -> str | None:
        statement = sa.insert(MxGuild.__table__).values(name="n" * 21)  # type: ignore[attr-defined]
        if target.backend is Backend.SQLITE:
            conn.execute(statement)  # SQLite does not enforce VARCHAR lengths
            return conn.execute(sa.select(MxGuild.__table__.c.name)).scalar()  # type: ignore[attr-defined]
        # asyncpg's errors reach SQLAlchemy as a bare DBAPIError, hence the message.
        with pytest.raises(sa.exc.DBAPIError, match="(?i)too long"):
            conn.execute(statement)
        return None

    with created(database, MxGuild):
        stored = run_on_connection(database, target.async_, body)
    assert stored == (None if target.backend is not Backend.SQLITE else "n" * 21)


def test_a_too_long_string_is_refused_by_validation_on_every_backend() -> None:
    create = derive_schemas(MxGuild).Create
    with pytest.raises(ValidationError) as info:
        create.model_validate(
            {"name": "n" * 21, "motto": "m" * (DEFAULT_STRING_LENGTH + 1)}
        )
    assert sorted(e["type"] for e in info.value.errors()) == ["string_too_long"] * 2


def test_string_field_refuses_a_non_positive_length() -> None:
    with pytest.raises(ValueError, match="max_length must be positive"):
        StringField(max_length=0)


def test_set_null_needs_a_nullable_foreign_key() -> None:
    with pytest.raises(RuntimeError, match="SET NULL"):

        class MxBadMember(SQLModel, table=True):
            id: int | None = ForeignKeyField(
                "mxguild.id", primary_key=True, ondelete="SET NULL"
            )
