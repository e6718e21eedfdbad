"""Backend profiles: one place for what differs between SQLite, PostgreSQL and MariaDB (pure)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sqlmodel_production import DatabaseSettings
from sqlmodel_production.db import Backend
from sqlmodel_production.db._backends import profile_of
from sqlmodel_production.db._engine import engine_options
from sqlmodel_production.db._settings import Pooler


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("postgresql", Backend.POSTGRESQL),
        ("postgres", Backend.POSTGRESQL),
        ("mysql", Backend.MARIADB),
        ("mariadb", Backend.MARIADB),
        ("sqlite", Backend.SQLITE),
        (Backend.MARIADB, Backend.MARIADB),
    ],
)
def test_profile_of_names(name: str, family: Backend) -> None:
    assert profile_of(name).backend is family


def test_an_unknown_database_names_the_supported_ones() -> None:
    with pytest.raises(
        ValueError, match=r"'oracle'.*mariadb, mysql, postgres, postgresql, sqlite"
    ):
        profile_of("oracle")


@pytest.mark.parametrize(
    ("family", "driver", "pooler", "autocommit"),
    [
        (Backend.POSTGRESQL, "psycopg", "none", True),
        (Backend.POSTGRESQL, "asyncpg", "none", True),
        (Backend.POSTGRESQL, "psycopg", "pgbouncer", True),
        # Behind the pooler asyncpg sends its unnamed statement again with each execution.
        (Backend.POSTGRESQL, "asyncpg", "pgbouncer", True),
        (Backend.MARIADB, "pymysql", "none", False),
        (Backend.MARIADB, "asyncmy", "none", False),
        (Backend.SQLITE, "pysqlite", "none", False),
        (Backend.SQLITE, "aiosqlite", "none", False),
    ],
)
def test_which_statements_autocommit(
    family: Backend, driver: str, pooler: str, autocommit: bool
) -> None:
    assert profile_of(family).autocommit_statements(driver, pooler) is autocommit


def _settings(**values: object) -> DatabaseSettings:
    return DatabaseSettings(_env_file=None, **values)  # type: ignore[call-arg]


def test_postgresql_direct_sends_the_timeout_at_startup() -> None:
    settings = _settings(database_url="postgresql://app@db/app", statement_timeout=2.5)
    _, sync = engine_options(settings, async_=False)
    _, async_ = engine_options(settings, async_=True)
    assert sync["connect_args"]["options"] == "-c statement_timeout=2500"
    assert "prepare_threshold" not in sync["connect_args"]
    assert async_["connect_args"]["server_settings"]["statement_timeout"] == "2500"
    assert "statement_cache_size" not in async_["connect_args"]


def test_behind_pgbouncer_nothing_outlives_a_transaction() -> None:
    settings = _settings(
        database_url="postgresql://app@pooler:6432/app",
        database_pooler="pgbouncer",
        statement_timeout=2.5,
    )
    assert settings.database_pooler is Pooler.PGBOUNCER
    _, sync = engine_options(settings, async_=False)
    _, async_ = engine_options(settings, async_=True)
    # No startup options (PgBouncer refuses `options`), no server-side prepares.
    assert "options" not in sync["connect_args"]
    assert sync["connect_args"]["prepare_threshold"] is None
    connect = async_["connect_args"]
    assert connect["server_settings"] == {"application_name": "sqlmodel-production"}
    assert connect["statement_cache_size"] == 0
    assert connect["prepared_statement_cache_size"] == 0
    # Unnamed: replaced by the next statement, nothing stays on a server connection.
    assert connect["prepared_statement_name_func"]() == ""


def test_a_pooler_is_refused_for_other_databases() -> None:
    with pytest.raises(
        ValidationError, match="DATABASE_POOLER=pgbouncer is for PostgreSQL"
    ):
        _settings(database_url="mariadb://root@db/app", database_pooler="pgbouncer")
