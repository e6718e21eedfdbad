from fastapi import FastAPI
from sqlmodel import Field

from sqlmodel_production import Database, crud_router, install_error_handlers
from sqlmodel_production.models import IntPK, Versioned


class Draft(IntPK, Versioned, table=True):
    __tablename__ = "drafts"

    title: str = Field(max_length=100)
    body: str = Field(default="", max_length=2000)


def create_app(database: Database, *, async_: bool = True) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(crud_router(Draft, prefix="/drafts", async_=async_))
    install_error_handlers(app)
    return app
