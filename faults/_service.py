"""The reference service, as `uvicorn --factory` serves it: the one import of `sqlmodel_production.demo`.

The apps read `DATABASE_URL`, `ENVIRONMENT` and the pool settings from the
environment, as `sqlmodel-production demo` does.
"""

from __future__ import annotations

from fastapi import FastAPI

from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.demo.app import create_app
from sqlmodel_production.demo.sample_data import create_tables

__all__ = ["FACTORIES", "create_schema", "router_async", "router_sync"]


def router_async() -> FastAPI:
    """The reference service with async endpoints (the `demo` default)."""
    return create_app(Database(), async_=True)


def router_sync() -> FastAPI:
    """The reference service with sync endpoints (`demo --sync`)."""
    return create_app(Database(), async_=False)


FACTORIES = {"async": f"{__name__}:router_async", "sync": f"{__name__}:router_sync"}
"""The `module:factory` uvicorn serves, per router."""


def create_schema(database_url: str) -> None:
    """Create the service's tables on `database_url`."""
    database = Database(DatabaseSettings(_env_file=None, database_url=database_url))
    try:
        create_tables(database)
    finally:
        database.engine.dispose()
