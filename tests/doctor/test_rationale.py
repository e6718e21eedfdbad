"""The database behaviour behind SMP012 and SMP015, shown on the real servers.

These are the two rules the seed's own samples trip; the tests show that the
samples would misbehave on the databases this project supports.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString

from sqlmodel_production import Database
from sqlmodel_production.db import Backend


@pytest.fixture
def table(database: Database) -> Iterator[sa.Table]:
    metadata = sa.MetaData()
    table = sa.Table(
        f"doctor_{uuid.uuid4().hex[:8]}",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", AutoString),  # what SQLModel makes of `name: str`
    )
    metadata.create_all(database.engine)
    with database.engine.begin() as conn:
        conn.execute(
            table.insert(), [{"id": n, "name": f"hero {n}"} for n in range(1, 6)]
        )
    yield table
    metadata.drop_all(database.engine)


def test_negative_limit_lifts_the_cap_or_fails(
    backend: Backend, database: Database, table: sa.Table
) -> None:
    statement = sa.select(table).limit(-1)
    with database.engine.connect() as conn:
        if backend is Backend.SQLITE:
            assert len(conn.execute(statement).all()) == 5  # every row: no cap at all
        else:
            with pytest.raises(sa.exc.DBAPIError):  # a 500 for the client
                conn.execute(statement)


def test_negative_offset_fails_on_servers(
    backend: Backend, database: Database, table: sa.Table
) -> None:
    statement = sa.select(table).order_by(table.c.id).limit(2).offset(-1)
    with database.engine.connect() as conn:
        if backend is Backend.SQLITE:
            assert [row.id for row in conn.execute(statement)] == [1, 2]
        else:
            with pytest.raises(sa.exc.DBAPIError):
                conn.execute(statement)


def test_str_without_length_is_bounded_only_on_mariadb(
    backend: Backend, database: Database, table: sa.Table
) -> None:
    long_name = "x" * 300
    with database.engine.connect() as conn:
        if backend is Backend.MARIADB:
            with pytest.raises(sa.exc.DataError, match="Data too long"):
                conn.execute(table.insert().values(id=6, name=long_name))
        else:
            conn.execute(table.insert().values(id=6, name=long_name))
            stored = conn.execute(
                sa.select(table.c.name).where(table.c.id == 6)
            ).scalar_one()
            assert stored == long_name
