"""The naming convention: the same constraint names on every database, and the ways out of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from sqlmodel_production import Database
from sqlmodel_production.models import (
    NAMING_CONVENTION,
    ForeignKeyField,
    IntPK,
    StringField,
    use_naming_convention,
)
from tests.conftest import Target, run_on_connection


class NcGuild(IntPK, table=True):
    __tablename__ = "nc_guild"

    name: str = StringField(max_length=50, unique=True)


class NcMember(IntPK, table=True):
    __tablename__ = "nc_member"

    guild_id: int = ForeignKeyField("nc_guild.id")
    nickname: str = StringField(max_length=50)

    __table_args__ = (
        sa.UniqueConstraint("guild_id", "nickname"),
        {"sqlite_autoincrement": True},
    )


TABLES = [NcGuild.__table__, NcMember.__table__]  # type: ignore[attr-defined]


@pytest.fixture
def created(database: Database) -> Iterator[Database]:
    SQLModel.metadata.drop_all(database.engine, tables=TABLES)
    SQLModel.metadata.create_all(database.engine, tables=TABLES)
    yield database
    SQLModel.metadata.drop_all(database.engine, tables=TABLES)


def test_sqlmodel_metadata_carries_the_convention() -> None:
    assert dict(SQLModel.metadata.naming_convention) == NAMING_CONVENTION


def test_every_database_holds_the_same_names(target: Target, created: Database) -> None:
    def names(conn: sa.Connection) -> tuple[set[str | None], ...]:
        inspector = sa.inspect(conn)
        return (
            {u["name"] for u in inspector.get_unique_constraints("nc_guild")},
            {u["name"] for u in inspector.get_unique_constraints("nc_member")},
            {f["name"] for f in inspector.get_foreign_keys("nc_member")},
            {i["name"] for i in inspector.get_indexes("nc_member")} - {None},
        )

    guild, member, foreign, indexes = run_on_connection(created, target.async_, names)
    assert guild == {"uq_nc_guild_name"}
    assert member == {"uq_nc_member_guild_id_nickname"}
    assert foreign == {"fk_nc_member_guild_id_nc_guild"}
    # MariaDB lists a unique key as an index too.
    assert indexes - member == {"ix_nc_member_guild_id"}


def test_a_convention_of_ones_own_is_kept() -> None:
    mine = {"uq": "unique_%(table_name)s_%(column_0_name)s"}
    metadata = sa.MetaData(naming_convention=mine)
    use_naming_convention(metadata)
    assert dict(metadata.naming_convention) == mine


def test_sqlalchemys_default_leaves_the_names_to_the_database() -> None:
    metadata = sa.MetaData()
    use_naming_convention(metadata)
    assert dict(metadata.naming_convention) == NAMING_CONVENTION
    # The opt-out of docs/migrations.md, before the tables are defined.
    metadata.naming_convention = {"ix": "ix_%(column_0_label)s"}
    table = sa.Table(
        "t", metadata, sa.Column("id", sa.Integer, primary_key=True, unique=True)
    )
    assert [c.name for c in table.constraints] == [None, None]
