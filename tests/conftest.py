"""Test targets: SQLite, PostgreSQL and MariaDB, each through its sync and its async driver.

Each test session creates its own database on the PostgreSQL and MariaDB servers
(dropped at the end), so concurrent runs never see each other's tables. Server
addresses come from SMP_TEST_POSTGRES_URL and SMP_TEST_MARIADB_URL. A server that
does not answer skips its tests locally and fails the run when CI is set (or
SMP_REQUIRE_BACKENDS=1): in CI a skipped backend is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.db import Backend, sync_url

T = TypeVar("T")

SERVER_URLS = {
    Backend.POSTGRESQL: os.environ.get(
        "SMP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    Backend.MARIADB: os.environ.get(
        "SMP_TEST_MARIADB_URL", "mariadb://root@127.0.0.1:3306/test"
    ),
}
REQUIRE_ALL = (
    bool(os.environ.get("CI")) or os.environ.get("SMP_REQUIRE_BACKENDS") == "1"
)


@dataclass(frozen=True)
class Target:
    """One backend reached through one of its two drivers."""

    backend: Backend
    async_: bool

    @property
    def id(self) -> str:
        return f"{self.backend.value}-{'async' if self.async_ else 'sync'}"


TARGETS = [Target(backend, async_) for backend in Backend for async_ in (False, True)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    only = metafunc.definition.get_closest_marker("only")
    allowed = set(only.args) if only else set(Backend)
    if "target" in metafunc.fixturenames:
        metafunc.parametrize(
            "target",
            [
                pytest.param(t, id=t.id, marks=getattr(pytest.mark, t.backend.value))
                for t in TARGETS
                if t.backend in allowed
            ],
        )
    elif "backend" in metafunc.fixturenames:
        metafunc.parametrize(
            "backend",
            [
                pytest.param(b, id=b.value, marks=getattr(pytest.mark, b.value))
                for b in Backend
                if b in allowed
            ],
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "only(*backends): run the test's `target` / `backend` only on these backends",
    )


class _Servers:
    """Creates one scratch database per server for this test session."""

    def __init__(self) -> None:
        self.name = f"smp_{uuid.uuid4().hex[:10]}"
        self.urls: dict[Backend, str] = {}
        self.errors: dict[Backend, str] = {}
        self.extra: list[tuple[Backend, str]] = []

    def url(self, backend: Backend) -> str:
        if backend not in self.urls and backend not in self.errors:
            try:
                self.urls[backend] = self._create(backend)
            except Exception as exc:  # any failure to reach the server
                self.errors[backend] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if backend in self.errors:
            message = f"{backend.value} server unreachable ({self.errors[backend]})"
            if REQUIRE_ALL:
                pytest.fail(message + "; CI requires every backend", pytrace=False)
            pytest.skip(message)
        return self.urls[backend]

    def _admin_engine(self, backend: Backend) -> sa.Engine:
        return sa.create_engine(
            sync_url(SERVER_URLS[backend]),
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 5},
        )

    def _create(self, backend: Backend, name: str | None = None) -> str:
        name = name or self.name
        engine = self._admin_engine(backend)
        try:
            with engine.connect() as conn:
                if backend is Backend.MARIADB:
                    conn.exec_driver_sql(
                        f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
                else:
                    conn.exec_driver_sql(f"CREATE DATABASE {name}")
        finally:
            engine.dispose()
        url = make_url(SERVER_URLS[backend]).set(database=name)
        return url.render_as_string(hide_password=False)

    def another(self, backend: Backend) -> str:
        """A further empty database on `backend`'s server, dropped with the others."""
        self.url(backend)  # reachable, or skipped / failed as every test is
        self.extra.append((backend, f"{self.name}_{len(self.extra) + 1}"))
        return self._create(*self.extra[-1])

    def drop_all(self) -> None:
        names = [(backend, self.name) for backend in self.urls] + self.extra
        for backend, name in names:
            engine = self._admin_engine(backend)
            try:
                with engine.connect() as conn:
                    if backend is Backend.POSTGRESQL:
                        conn.exec_driver_sql(
                            f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )
                    else:
                        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            finally:
                engine.dispose()


@pytest.fixture(scope="session")
def servers() -> Iterator[_Servers]:
    servers = _Servers()
    yield servers
    servers.drop_all()


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, servers: _Servers, tmp_path: Path
) -> str:
    """The URL of an empty scratch database on the test's backend."""
    backend = _backend_of(request)
    if backend is Backend.SQLITE:
        return f"sqlite:///{tmp_path / 'test.db'}"
    return servers.url(backend)


@pytest.fixture
def fresh_database_url(servers: _Servers, tmp_path: Path) -> Callable[[Backend], str]:
    """Make the URL of another empty database on a backend, whatever the test's own backend."""

    def make(backend: Backend) -> str:
        if backend is Backend.SQLITE:
            return f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}"
        return servers.another(backend)

    return make


def _backend_of(request: pytest.FixtureRequest) -> Backend:
    if "target" in request.fixturenames:
        return request.getfixturevalue("target").backend  # type: ignore[no-any-return]
    return request.getfixturevalue("backend")  # type: ignore[no-any-return]


@pytest.fixture
def settings(database_url: str) -> DatabaseSettings:
    """Settings for the scratch database, ignoring any `.env` of the developer's."""
    return DatabaseSettings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]


@pytest.fixture
def make_database(settings: DatabaseSettings) -> Iterator[Callable[..., Database]]:
    """Make `Database`s on the scratch database with some settings changed; all are disposed after the test."""
    made: list[Database] = []

    def make(**changes: object) -> Database:
        made.append(Database(settings.model_copy(update=changes)))
        return made[-1]

    yield make
    for database in made:
        asyncio.run(database.dispose())


@pytest.fixture(autouse=True)
def _replica_to_one_test() -> Iterator[None]:
    """A test that required the shared replica gives it back when it ends (tests/_topology.py)."""
    yield
    from tests._topology import release_replica

    release_replica()


@pytest.fixture
def database(make_database: Callable[..., Database]) -> Database:
    """A `Database` on the scratch database, disposed after the test."""
    return make_database()


def run_on_connection(
    database: Database, async_: bool, fn: Callable[[sa.Connection], T]
) -> T:
    """Run `fn` on a connection of the sync engine, or of the async one through `run_sync`.

    One test body then serves both drivers: the sync function is the test.
    """
    if not async_:
        with database.engine.connect() as conn:
            return fn(conn)

    async def main() -> T:
        try:
            async with database.async_engine.connect() as conn:
                return await conn.run_sync(fn)
        finally:
            # Async connections belong to this event loop: close them before it ends.
            await database.async_engine.dispose()

    return asyncio.run(main())


@contextlib.contextmanager
def serving(
    database: Database,
    tables: Sequence[sa.Table],
    routers: Iterable[Any],
    *,
    rows: Callable[[sa.Connection], object] | None = None,
) -> Iterator[Any]:
    """A `TestClient` of an app with `routers` and the error handlers, on fresh `tables`.

    The tables are created empty (then `rows(connection)` may fill them), and
    dropped with the database's pools disposed at the end.
    """
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from sqlmodel import SQLModel

    from sqlmodel_production.api import install_error_handlers

    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=tables)
        SQLModel.metadata.create_all(conn, tables=tables)
        if rows is not None:
            rows(conn)
    app = FastAPI(lifespan=database.lifespan)
    for router in routers:
        app.include_router(router)
    install_error_handlers(app)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        with database.engine.begin() as conn:
            SQLModel.metadata.drop_all(conn, tables=tables)
        asyncio.run(database.dispose())
