"""Engine tuning, checked on the real servers through both drivers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sqlmodel_production import Database
from sqlmodel_production.db import Backend

from ..conftest import Target, run_on_connection


def test_driver_matches_backend(target: Target, database: Database) -> None:
    engine = database.async_engine.sync_engine if target.async_ else database.engine
    expected = {
        (Backend.SQLITE, False): "pysqlite",
        (Backend.SQLITE, True): "aiosqlite",
        (Backend.POSTGRESQL, False): "psycopg",
        (Backend.POSTGRESQL, True): "asyncpg",
        (Backend.MARIADB, False): "pymysql",
        (Backend.MARIADB, True): "asyncmy",
    }[(target.backend, target.async_)]
    assert engine.dialect.driver == expected
    assert run_on_connection(database, target.async_, lambda c: c.scalar(sa.text("SELECT 1"))) == 1


def test_pre_ping_is_on_by_default(target: Target, database: Database) -> None:
    engine = database.async_engine.sync_engine if target.async_ else database.engine
    assert engine.pool._pre_ping  # type: ignore[attr-defined]


@pytest.mark.sqlite
@pytest.mark.parametrize("async_", [False, True], ids=["sync", "async"])
def test_sqlite_pragmas(tmp_path, async_: bool) -> None:
    from sqlmodel_production import DatabaseSettings

    db = Database(DatabaseSettings(_env_file=None, database_url=f"sqlite:///{tmp_path}/t.db", sqlite_busy_timeout=2.5))

    def pragmas(conn: sa.Connection) -> tuple[object, ...]:
        return (
            conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
            conn.exec_driver_sql("PRAGMA foreign_keys").scalar(),
            conn.exec_driver_sql("PRAGMA busy_timeout").scalar(),
        )

    assert run_on_connection(db, async_, pragmas) == ("wal", 1, 2500)
