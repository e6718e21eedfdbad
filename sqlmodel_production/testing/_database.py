"""Database fixtures: each test in a transaction that is rolled back, even after `commit()`.

SQLAlchemy 2's "join a session into an external transaction" recipe: the test's
connection begins a transaction, and the session works in savepoints inside it
(`join_transaction_mode="create_savepoint"`), so the code under test may commit
and roll back as it likes; at the end of the test the outer transaction is
rolled back and nothing is left.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production.db import Database, DatabaseSettings

__all__ = [
    "pytest_addoption",
    "smp_async_session",
    "smp_connection",
    "smp_database",
    "smp_database_url",
    "smp_metadata",
    "smp_session",
    "smp_tables",
]

ENV_VAR = "SMP_TEST_DATABASE_URL"
OPTION = "--smp-database-url"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sqlmodel-production")
    group.addoption(
        OPTION,
        dest="smp_database_url",
        default=None,
        metavar="URL",
        help=f"database for the smp_session fixtures (default: ${ENV_VAR}); "
        "its tables are created once per run",
    )


@pytest.fixture(scope="session")
def smp_database_url(pytestconfig: pytest.Config) -> str:
    """The test database's URL: `--smp-database-url`, else `$SMP_TEST_DATABASE_URL`."""
    url = pytestconfig.getoption("smp_database_url") or os.environ.get(ENV_VAR)
    if not url:
        pytest.fail(
            f"No test database for the smp_* fixtures: pass {OPTION}=URL, set {ENV_VAR}, "
            "or override the session-scoped smp_database fixture in conftest.py.",
            pytrace=False,
        )
    return url


@pytest.fixture(scope="session")
def smp_database(smp_database_url: str) -> Iterator[Database]:
    """The `Database` the tests run on; override it (session-scoped) to bring your own."""
    database = Database(DatabaseSettings(database_url=smp_database_url))
    yield database
    asyncio.run(database.dispose())


@pytest.fixture(scope="session")
def smp_metadata() -> sa.MetaData:
    """The tables to create: `SQLModel.metadata` (every table model imported)."""
    return SQLModel.metadata


@pytest.fixture(scope="session")
def smp_tables(smp_database: Database, smp_metadata: sa.MetaData) -> Iterator[None]:
    """Create the missing tables once per run, and drop those (and only those) at the end.

    Tables that already exist are left alone, data and all. Override it to run
    your migrations instead (`alembic upgrade head`), or with a fixture that does
    nothing when the schema is already there.
    """
    engine = smp_database.engine
    existing = set(sa.inspect(engine).get_table_names())
    created = [t for t in smp_metadata.sorted_tables if t.name not in existing]
    smp_metadata.create_all(engine, tables=created)
    yield
    smp_metadata.drop_all(smp_database.engine, tables=created)
    smp_database.engine.dispose()


@pytest.fixture
def smp_connection(smp_database: Database, smp_tables: None) -> Iterator[sa.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with smp_database.engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                transaction.rollback()


@pytest.fixture
def smp_session(smp_connection: sa.Connection) -> Iterator[Session]:
    """A `Session` whose every write is undone after the test, `commit()` included.

    `commit()` releases a savepoint inside the test's transaction, so the rows are
    visible to the test and to an app served the same session
    (`override_session(app, smp_session)`), and gone afterwards.
    """
    with Session(
        bind=smp_connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    ) as session:
        yield session


@pytest.fixture
async def smp_async_session(
    smp_database: Database, smp_tables: None
) -> AsyncIterator[AsyncSession]:
    """The `AsyncSession` twin of `smp_session`, for async tests.

    Async fixtures need a runner: mark the test `@pytest.mark.anyio` (anyio comes
    with FastAPI) or use pytest-asyncio in auto mode. Serve an async app with
    `httpx.AsyncClient(transport=httpx.ASGITransport(app))` in the same test, so
    app and session share the test's event loop.
    """
    engine = smp_database.async_engine
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            try:
                async with AsyncSession(
                    bind=connection,
                    join_transaction_mode="create_savepoint",
                    expire_on_commit=False,
                ) as session:
                    yield session
            finally:
                if transaction.is_active:
                    await transaction.rollback()
    finally:
        # Async connections belong to this test's event loop: close them with it.
        await engine.dispose()
