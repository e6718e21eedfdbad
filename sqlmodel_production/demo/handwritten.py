"""The reference service written by hand, as SQLModel's FastAPI tutorial does (`_async/routes.py`, `_sync/routes.py`)."""

from fastapi import FastAPI

from sqlmodel_production import Database
from sqlmodel_production.api import install_error_handlers
from sqlmodel_production.demo.app import DESCRIPTION, add_diagnostics


def create_app(database: Database | None = None, *, async_: bool = True) -> FastAPI:
    """Build the hand-written reference service.

    Args:
        database: where the data lives; `DATABASE_URL` from the environment when omitted.
        async_: serve the async endpoints (AsyncSession) or their sync twins (Session).
    """
    if async_:
        from sqlmodel_production.demo._async.routes import router
    else:
        from sqlmodel_production.demo._sync.routes import router
    database = database or Database()
    app = FastAPI(title="Heroes", description=DESCRIPTION, lifespan=database.lifespan)
    app.include_router(router)
    install_error_handlers(app)
    add_diagnostics(app, database)
    return app
