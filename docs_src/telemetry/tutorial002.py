import logging

from fastapi import FastAPI

from sqlmodel_production import Database, crud_router, install_error_handlers
from sqlmodel_production.diagnostics import log_slow_queries
from sqlmodel_production.telemetry import instrument

from .tutorial001 import Event


def create_app(database: Database | None = None) -> FastAPI:
    database = database or Database()
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(crud_router(Event, prefix="/events"))
    install_error_handlers(app)
    # One JSON object per log line, with the trace_id and span_id of the request.
    instrument(app, database, json_logs=True)
    logging.getLogger().setLevel(logging.INFO)
    # Slow statements are logged inside their request: their lines carry its ids.
    log_slow_queries(database.async_engine, threshold=0.2)
    return app
