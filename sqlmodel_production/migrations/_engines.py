"""Engines for a migration run: the package's tuning, no pool, no statement timeout."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from sqlmodel_production.db import DatabaseSettings, create_async_engine, create_engine

__all__ = ["async_migration_engine", "migration_engine"]


def migration_engine(settings: DatabaseSettings | None = None) -> Engine:
    """The sync engine an `env.py` runs migrations on, for `settings` (`DATABASE_URL` ...).

    It connects as the application does (the sync driver, `utf8mb4` and strict mode
    on MariaDB, the PostgreSQL `application_name`), without a pool (one run, one
    connection) and without `STATEMENT_TIMEOUT`: building an index on a large table
    may take longer than any request should.
    """
    return create_engine(_without_timeout(settings), poolclass=NullPool)


def async_migration_engine(settings: DatabaseSettings | None = None) -> AsyncEngine:
    """The async engine for an `env.py` made from Alembic's `async` template; see `migration_engine`."""
    return create_async_engine(_without_timeout(settings), poolclass=NullPool)


def _without_timeout(settings: DatabaseSettings | None) -> DatabaseSettings:
    settings = settings or DatabaseSettings()
    return settings.model_copy(update={"statement_timeout": None})
