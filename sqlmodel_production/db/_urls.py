"""Driver selection for database URLs (pure: no I/O)."""

from __future__ import annotations

import enum

from sqlalchemy.engine import URL, make_url


class Backend(enum.StrEnum):
    """The three database families this toolkit supports."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"
    MARIADB = "mariadb"


_FAMILIES = {
    "sqlite": Backend.SQLITE,
    "postgresql": Backend.POSTGRESQL,
    "postgres": Backend.POSTGRESQL,
    "mysql": Backend.MARIADB,
    "mariadb": Backend.MARIADB,
}

# backend -> (sync driver, async driver)
_DRIVERS = {
    Backend.SQLITE: ("pysqlite", "aiosqlite"),
    Backend.POSTGRESQL: ("psycopg", "asyncpg"),
    Backend.MARIADB: ("pymysql", "asyncmy"),
}


def backend_of(url: str | URL) -> Backend:
    """Return the database family of a URL.

    Raises:
        ValueError: the URL names a database this toolkit does not support.
    """
    url = make_url(url)
    family = url.get_backend_name()
    try:
        return _FAMILIES[family]
    except KeyError:
        supported = ", ".join(sorted(_FAMILIES))
        raise ValueError(
            f"Unsupported database {family!r} in DATABASE_URL; use one of: {supported}"
        ) from None


def sync_url(url: str | URL) -> URL:
    """The URL with the sync driver of its backend (psycopg, PyMySQL, sqlite3)."""
    return _with_driver(url, async_=False)


def async_url(url: str | URL) -> URL:
    """The URL with the async driver of its backend (asyncpg, asyncmy, aiosqlite)."""
    return _with_driver(url, async_=True)


def _with_driver(url: str | URL, *, async_: bool) -> URL:
    url = make_url(url)
    backend = backend_of(url)
    driver = _DRIVERS[backend][async_]
    name = "mysql" if backend is Backend.MARIADB else backend.value
    return url.set(drivername=f"{name}+{driver}")
