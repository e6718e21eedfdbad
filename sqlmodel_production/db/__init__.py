"""Settings, engines and sessions for SQLite, PostgreSQL and MariaDB."""

from ._database import Database as Database
from ._engine import create_async_engine as create_async_engine
from ._engine import create_engine as create_engine
from ._settings import DatabaseSettings as DatabaseSettings
from ._settings import Environment as Environment
from ._urls import Backend as Backend
from ._urls import async_url as async_url
from ._urls import backend_of as backend_of
from ._urls import sync_url as sync_url

__all__ = [
    "Backend",
    "Database",
    "DatabaseSettings",
    "Environment",
    "async_url",
    "backend_of",
    "create_async_engine",
    "create_engine",
    "sync_url",
]
