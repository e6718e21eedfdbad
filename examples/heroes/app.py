"""The reference service's application factory."""

from __future__ import annotations

from fastapi import FastAPI

from sqlmodel_production import Database
from sqlmodel_production.api import install_error_handlers

DESCRIPTION = (
    "The seed's Heroes, Teams and Missions on sqlmodel-production: "
    "tuned engines, 409/422 instead of 500 for bad data."
)


def create_app(database: Database | None = None, *, async_: bool = True) -> FastAPI:
    """Build the reference service.

    Args:
        database: where the data lives; `DATABASE_URL` from the environment when omitted.
        async_: serve the async endpoints (AsyncSession) or their sync twins (Session).
    """
    if async_:
        from ._async.routes import router
    else:
        from ._sync.routes import router
    database = database or Database()
    app = FastAPI(title="Heroes", description=DESCRIPTION, lifespan=database.lifespan)
    app.include_router(router)
    install_error_handlers(app)
    return app
