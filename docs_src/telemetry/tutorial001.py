from fastapi import FastAPI
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database, crud_router, install_error_handlers
from sqlmodel_production.telemetry import instrument


class Event(SQLModel, table=True):
    __tablename__ = "events"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200, unique=True)


# OTEL_SERVICE_NAME=events
# OTEL_TRACES_EXPORTER=otlp  OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318
# OTEL_TRACES_SAMPLER=parentbased_traceidratio  OTEL_TRACES_SAMPLER_ARG=0.1
def create_app(database: Database | None = None) -> FastAPI:
    database = database or Database()
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(crud_router(Event, prefix="/events"))
    install_error_handlers(app)
    instrument(app, database, prometheus=True)  # traces, metrics, GET /metrics
    return app
