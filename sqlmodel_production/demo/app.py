"""The reference service, built by the router factory (the hand-written twin is `handwritten.py`)."""

import importlib.util

from fastapi import FastAPI

from sqlmodel_production import Database, DiagnosticsMiddleware, Environment
from sqlmodel_production.api import crud_router, install_error_handlers, link_router
from sqlmodel_production.demo.models import Hero, HeroMissionLink, Mission, Team
from sqlmodel_production.models import derive_schemas

DESCRIPTION = (
    "Heroes, Teams and Missions on sqlmodel-production: "
    "tuned engines, derived schemas, 409/422 instead of 500 for bad data."
)

hero_schemas = derive_schemas(Hero, write_only={"secret_name"})
team_schemas = derive_schemas(Team)
mission_schemas = derive_schemas(Mission)


def create_app(
    database: Database | None = None, *, async_: bool = True, telemetry: bool = True
) -> FastAPI:
    """Build the reference service from `crud_router` and `link_router`.

    Args:
        database: where the data lives; `DATABASE_URL` from the environment when omitted.
        async_: async endpoints (AsyncSession) or sync ones (Session).
        telemetry: instrument it (`add_telemetry`) when the `telemetry` extra is installed.
    """
    database = database or Database()
    app = FastAPI(title="Heroes", description=DESCRIPTION, lifespan=database.lifespan)
    app.include_router(
        crud_router(
            Hero,
            prefix="/heroes",
            schemas=hero_schemas,
            include={"team": team_schemas.Public},
            filters={
                "name": ("eq", "ilike"),
                "age": ("eq", "lt", "le", "gt", "ge", "is_null"),
                "team_id": ("eq", "in", "is_null"),
            },
            order_by=["name", "age"],
            async_=async_,
        )
    )
    app.include_router(
        crud_router(
            Team,
            prefix="/teams",
            schemas=team_schemas,
            include={"heroes": hero_schemas.Public},
            filters={"name": ("eq", "ilike")},
            order_by=["name"],
            async_=async_,
        )
    )
    app.include_router(
        crud_router(
            Mission,
            prefix="/missions",
            schemas=mission_schemas,
            exclude={"read"},
            async_=async_,
        )
    )
    app.include_router(
        link_router(
            HeroMissionLink,
            parent=Mission,
            child=Hero,
            parent_prefix="/missions",
            child_prefix="/heroes",
            parent_public=mission_schemas.Public,
            child_public=hero_schemas.Public,
            async_=async_,
        )
    )
    install_error_handlers(app)
    add_diagnostics(app, database)
    if telemetry:
        add_telemetry(app, database)
    return app


def add_telemetry(app: FastAPI, database: Database) -> None:
    """With the `telemetry` extra installed: traces and metrics (`OTEL_*`), Prometheus at `/metrics`.

    Without it nothing is imported and nothing changes; `OTEL_SDK_DISABLED=true`
    turns it off too.
    """
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        return
    from sqlmodel_production.telemetry import instrument

    instrument(app, database, prometheus=True, service_name="heroes")


def add_diagnostics(app: FastAPI, database: Database) -> None:
    """In development, every answer reports its queries and any N+1 is a warning.

    `Server-Timing: db;dur=1.9;desc="2 queries"` shows in the browser's developer
    tools. Production runs without the middleware: nothing is recorded.
    """
    if database.settings.environment is Environment.DEVELOPMENT:
        app.add_middleware(DiagnosticsMiddleware, server_timing=True, n_plus_one="warn")


def async_app() -> FastAPI:
    """The service with async endpoints on `DATABASE_URL`: an app factory for uvicorn's workers."""
    return create_app(async_=True)


def sync_app() -> FastAPI:
    """The service with sync endpoints on `DATABASE_URL`: an app factory for uvicorn's workers."""
    return create_app(async_=False)
