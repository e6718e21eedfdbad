from fastapi import FastAPI
from sqlmodel import Field, SQLModel

from sqlmodel_production import (
    Database,
    ReadYourWritesMiddleware,
    crud_router,
    install_error_handlers,
)


class Note(SQLModel, table=True):
    __tablename__ = "notes"
    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=200)


# DATABASE_URL=postgresql://app:secret@pgbouncer:6432/app
# DATABASE_POOLER=pgbouncer
# DATABASE_REPLICA_URLS=postgresql://app:secret@replica-1:5432/app,postgresql://app:secret@replica-2:5432/app
# REPLICA_MAX_LAG=5
def create_app(database: Database | None = None) -> FastAPI:
    database = database or Database()
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(crud_router(Note, prefix="/notes"))
    # A client that wrote reads from the primary for 6 s (a cookie and a header).
    app.add_middleware(ReadYourWritesMiddleware, window=6)
    install_error_handlers(app)
    return app
