"""Sync and async engines built from one `DatabaseSettings`, tuned per backend."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine as sa_create_async_engine
from sqlalchemy.pool import QueuePool, StaticPool

from ._backends import POOLER_OPTION, Pooler, Profile, profile_of
from ._errors import mark_lost_connections
from ._row_security import watch_row_settings
from ._settings import DatabaseSettings
from ._urls import async_url, backend_of, sync_url
from ._written import watch_commits

__all__ = ["create_async_engine", "create_engine", "engine_options"]


def create_engine(settings: DatabaseSettings | None = None, **overrides: Any) -> Engine:
    """Build the sync engine (psycopg, PyMySQL or sqlite3) for `settings`.

    Args:
        settings: where and how to connect; read from the environment when omitted.
        **overrides: keyword arguments passed on to `sqlalchemy.create_engine`,
            taking precedence over the tuned defaults.

    Example:
        ```python
        engine = create_engine(DatabaseSettings(database_url="mariadb://app@db/app"))
        ```
    """
    settings = settings or DatabaseSettings()
    url, options = engine_options(settings, async_=False)
    engine = sa.create_engine(url, **_merge(options, overrides))
    _tune(engine, settings, overrides)
    return engine


def create_async_engine(
    settings: DatabaseSettings | None = None, **overrides: Any
) -> AsyncEngine:
    """Build the async engine (asyncpg, asyncmy or aiosqlite) for `settings`.

    Same settings and tuning as `create_engine`; see there.
    """
    settings = settings or DatabaseSettings()
    url, options = engine_options(settings, async_=True)
    engine = sa_create_async_engine(url, **_merge(options, overrides))
    _tune(engine.sync_engine, settings, overrides)
    return engine


def engine_options(
    settings: DatabaseSettings, *, async_: bool
) -> tuple[URL, dict[str, Any]]:
    """The URL and `create_engine` keyword arguments for `settings` (pure, no I/O)."""
    url = (
        async_url(settings.database_url) if async_ else sync_url(settings.database_url)
    )
    profile = profile_of(backend_of(url))
    options: dict[str, Any] = {
        "echo": settings.echo,
        # Threshold 0 is SQLAlchemy's ping at every checkout; above it the ping is ours (`_ping_when_idle`).
        "pool_pre_ping": _ping_after(settings, profile) == 0,
        "pool_recycle": settings.pool_recycle,
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_timeout": settings.pool_timeout,
        # The hot connections serve the load; the rest idle at the bottom of the stack.
        "pool_use_lifo": True,
    }
    if profile.in_memory(url):
        # One shared connection, or every checkout would see an empty database.
        options = {"echo": settings.echo, "poolclass": StaticPool}
    options["connect_args"] = profile.connect_args(settings, async_)
    if settings.database_pooler is not Pooler.NONE:
        options["execution_options"] = {POOLER_OPTION: settings.database_pooler.value}
    return url, options


_POOL_SIZING = ("pool_size", "max_overflow", "pool_timeout", "pool_use_lifo")


def _merge(options: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides win; a pool class without a queue (NullPool for PgBouncer) takes no sizing."""
    merged = options | overrides
    poolclass = overrides.get("poolclass")
    if poolclass is not None and not issubclass(poolclass, QueuePool):
        for key in _POOL_SIZING:
            if key not in overrides:
                merged.pop(key, None)
    return merged


def _ping_after(settings: DatabaseSettings, profile: Profile) -> float | None:
    """Seconds idle in the pool after which a checkout pings the connection; None: never."""
    if not settings.pool_pre_ping or not profile.pinged:
        return None
    return settings.pool_ping_after


def _tune(
    engine: Engine, settings: DatabaseSettings, overrides: Mapping[str, Any]
) -> None:
    """Install the per-connection settings that connect arguments cannot carry."""
    profile = profile_of(backend_of(engine.url))
    event.listen(engine, "handle_error", mark_lost_connections)
    watch_commits(engine)
    watch_row_settings(engine, profile.row_security)
    ping_after = _ping_after(settings, profile)
    # An explicit `pool_pre_ping=` override takes the ping back from us, either way.
    if ping_after and "pool_pre_ping" not in overrides:
        _ping_when_idle(engine, ping_after)
    profile.tune(engine, settings)


_IDLE_SINCE = "sqlmodel_production.idle_since"


def _ping_when_idle(engine: Engine, ping_after: float) -> None:
    """Ping a connection at checkout only if it sat in the pool over `ping_after` seconds.

    A dead connection raises `InvalidatePoolError` (a `DisconnectionError`): the pool
    replaces it and every connection older than it, as `pool_pre_ping=True` does.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # Never checked in: a new connection (the pool clears `info` when it reconnects).
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since <= ping_after:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError(
                    "the pre-ping found the connection closed"
                ) from error
            raise
