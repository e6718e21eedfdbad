"""The reference service written by hand in the seed's style (`_async/routes.py`, `_sync/routes.py`)."""

from fastapi import FastAPI

from examples.heroes.app import DESCRIPTION, add_diagnostics
from sqlmodel_production import Database
from sqlmodel_production.api import install_error_handlers


def create_app(database: Database | None = None, *, async_: bool = True) -> FastAPI:
    """Build the hand-written reference service.

    Args:
        database: where the data lives; `DATABASE_URL` from the environment when omitted.
        async_: serve the async endpoints (AsyncSession) or their sync twins (Session).
    """
    if async_:
        from examples.heroes._async.routes import router
    else:
        from examples.heroes._sync.routes import router
    database = database or Database()
    app = FastAPI(title="Heroes", description=DESCRIPTION, lifespan=database.lifespan)
    app.include_router(router)
    install_error_handlers(app)
    add_diagnostics(app, database)
    return app
