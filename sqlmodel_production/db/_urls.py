"""Driver selection for database URLs (pure: no I/O)."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

from ._backends import Backend, profile_of

__all__ = ["Backend", "async_url", "backend_of", "sync_url"]


def backend_of(url: str | URL) -> Backend:
    """Return the database family of a URL.

    Raises:
        ValueError: the URL names a database this toolkit does not support.
    """
    return profile_of(make_url(url).get_backend_name()).backend


def sync_url(url: str | URL) -> URL:
    """The URL with the sync driver of its backend (psycopg, PyMySQL, sqlite3)."""
    return _with_driver(url, async_=False)


def async_url(url: str | URL) -> URL:
    """The URL with the async driver of its backend (asyncpg, asyncmy, aiosqlite)."""
    return _with_driver(url, async_=True)


def _with_driver(url: str | URL, *, async_: bool) -> URL:
    url = make_url(url)
    profile = profile_of(url.get_backend_name())
    return url.set(drivername=f"{profile.dialect}+{profile.drivers[async_]}")
