"""Each error class induced on the real server, classified the same on every backend and driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from sqlmodel_production import Database
from sqlmodel_production.db import Backend
from sqlmodel_production.db._errors import (
    ClassifiedError,
    ErrorKind,
    classify,
    resolve_columns,
)
from tests.conftest import Target, run_on_connection

metadata = sa.MetaData()
parent = sa.Table(
    "er_parent",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(20), nullable=False),
    sa.Column("score", sa.SmallInteger),
    sa.UniqueConstraint("name", name="uq_er_parent_name"),
    sa.CheckConstraint("score >= 0", name="ck_er_parent_score"),
)
child = sa.Table(
    "er_child",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column(
        "parent_id",
        sa.Integer,
        sa.ForeignKey("er_parent.id", name="fk_er_child_parent"),
        index=True,
    ),
)

plain_unique = sa.Table(
    "er_plain_unique",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", sa.String(20), unique=True),  # no name: the database picks one
    sa.Column("label", sa.String(20), unique=True),
)
restricted = sa.Table(
    "er_restricted",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column(
        "parent_id",
        sa.Integer,
        sa.ForeignKey("er_parent.id", ondelete="RESTRICT", onupdate="RESTRICT"),
        index=True,
    ),
)


@pytest.fixture
def tables(database: Database) -> Iterator[Database]:
    with database.engine.begin() as conn:
        metadata.drop_all(conn)
        metadata.create_all(conn)
        conn.execute(parent.insert(), [{"id": 1, "name": "one", "score": 1}])
        conn.execute(child.insert(), [{"id": 1, "parent_id": 1}])
        conn.execute(parent.insert(), [{"id": 3, "name": "three", "score": 3}])
        conn.execute(restricted.insert(), [{"id": 1, "parent_id": 3}])
        conn.execute(plain_unique.insert(), [{"id": 1, "code": "c", "label": "l"}])
    yield database
    with database.engine.begin() as conn:
        metadata.drop_all(conn)


def induce(
    database: Database, target: Target, statement: Callable[[sa.Connection], object]
) -> ClassifiedError:
    def run(conn: sa.Connection) -> None:
        with conn.begin():
            statement(conn)

    with pytest.raises((sa.exc.DBAPIError, sa.exc.TimeoutError)) as raised:
        run_on_connection(database, target.async_, run)
    found = classify(raised.value)
    assert found is not None, raised.value
    return resolve_columns(found, metadata)


def test_unique_violation(target: Target, tables: Database) -> None:
    found = induce(
        tables, target, lambda c: c.execute(parent.insert().values(id=2, name="one"))
    )
    assert (found.kind, found.constraint, found.columns) == (
        ErrorKind.UNIQUE_VIOLATION,
        "uq_er_parent_name",
        ("name",),
    )
    assert found.table == "er_parent"


def test_primary_key_violation_is_unique(target: Target, tables: Database) -> None:
    found = induce(
        tables, target, lambda c: c.execute(parent.insert().values(id=1, name="two"))
    )
    assert found.kind is ErrorKind.UNIQUE_VIOLATION


def test_missing_reference_names_the_column(target: Target, tables: Database) -> None:
    found = induce(
        tables, target, lambda c: c.execute(child.insert().values(id=2, parent_id=99))
    )
    assert (found.kind, found.columns, found.table) == (
        ErrorKind.MISSING_REFERENCE,
        ("parent_id",),
        "er_child",
    )
    assert found.constraint == "fk_er_child_parent"


def test_deleting_a_referenced_row_is_still_referenced(
    target: Target, tables: Database
) -> None:
    found = induce(
        tables, target, lambda c: c.execute(parent.delete().where(parent.c.id == 1))
    )
    assert found.kind is ErrorKind.STILL_REFERENCED


def test_not_null_violation_names_the_column(target: Target, tables: Database) -> None:
    found = induce(
        tables, target, lambda c: c.execute(parent.update().values(name=None))
    )
    assert (found.kind, found.columns) == (ErrorKind.NOT_NULL_VIOLATION, ("name",))


def test_check_violation_names_the_constraint(target: Target, tables: Database) -> None:
    found = induce(
        tables, target, lambda c: c.execute(parent.update().values(score=-1))
    )
    assert (found.kind, found.constraint) == (
        ErrorKind.CHECK_VIOLATION,
        "ck_er_parent_score",
    )


@pytest.mark.only(
    Backend.POSTGRESQL, Backend.MARIADB
)  # SQLite stores any length and any integer size
@pytest.mark.parametrize(
    "values", [{"name": "x" * 21}, {"score": 10**6}], ids=["too-long", "out-of-range"]
)
def test_invalid_data(
    target: Target, tables: Database, values: dict[str, object]
) -> None:
    found = induce(
        tables, target, lambda c: c.execute(parent.update().values(**values))
    )
    assert found.kind is ErrorKind.INVALID_DATA


def test_pool_timeout(target: Target, make_database: Callable[..., Database]) -> None:
    database = make_database(pool_size=1, max_overflow=0, pool_timeout=0.1)

    def hold_and_ask_again(conn: sa.Connection) -> None:
        # The only connection is held by `conn`: a second checkout must time out, not hang.
        conn.engine.connect()

    found = induce(database, target, hold_and_ask_again)
    assert found.kind is ErrorKind.POOL_TIMEOUT and found.kind.transient


@pytest.mark.only(Backend.POSTGRESQL, Backend.MARIADB)
def test_killed_connection_is_connection_lost(
    target: Target, database: Database
) -> None:
    kill = (
        "SELECT pg_terminate_backend(pg_backend_pid())"
        if target.backend is Backend.POSTGRESQL
        else "KILL CONNECTION CONNECTION_ID()"
    )
    found = induce(database, target, lambda c: c.exec_driver_sql(kill).all())
    assert found.kind is ErrorKind.CONNECTION_LOST and found.kind.transient


def test_values_never_reach_the_classification(
    target: Target, tables: Database
) -> None:
    found = induce(
        tables, target, lambda c: c.execute(parent.insert().values(id=7, name="one"))
    )
    assert "one" not in repr(found).replace("er_parent", "").replace("None", "")


@pytest.mark.parametrize("column", ["code", "label"])
def test_an_unnamed_unique_column_is_named(
    target: Target, tables: Database, column: str
) -> None:
    found = induce(
        tables,
        target,
        lambda c: c.execute(
            plain_unique.insert().values(
                id=2, **{"code": "c2", "label": "l2", column: column[0]}
            )
        ),
    )
    assert (found.kind, found.columns, found.table) == (
        ErrorKind.UNIQUE_VIOLATION,
        (column,),
        "er_plain_unique",
    )


def test_deleting_a_parent_restricted_by_its_children_is_still_referenced(
    target: Target, tables: Database
) -> None:
    found = induce(
        tables, target, lambda c: c.execute(parent.delete().where(parent.c.id == 3))
    )
    assert found.kind is ErrorKind.STILL_REFERENCED
