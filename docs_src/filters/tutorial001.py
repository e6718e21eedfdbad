from fastapi import FastAPI
from sqlmodel import Field, Relationship, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import crud_router, install_error_handlers
from sqlmodel_production.models import derive_schemas


class Writer(SQLModel, table=True):
    __tablename__ = "writers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, index=True)
    novels: list["Novel"] = Relationship(back_populates="writer")


class Novel(SQLModel, table=True):
    __tablename__ = "novels"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200, index=True)
    price: int
    writer_id: int | None = Field(default=None, foreign_key="writers.id", index=True)
    writer: Writer | None = Relationship(back_populates="novels")


novel_schemas = derive_schemas(Novel)


def create_app(database: Database, *, async_: bool = True) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(
            Novel,
            prefix="/novels",
            schemas=novel_schemas,
            filters={"price": ("ge", "le"), "writer.name": ("eq", "ilike")},
            search=["title", "writer.name"],
            order_by=["price"],
            async_=async_,
        )
    )
    app.include_router(
        crud_router(
            Writer,
            prefix="/writers",
            include={"novels": novel_schemas.Public},
            include_limit=20,
            async_=async_,
        )
    )
    install_error_handlers(app)
    return app
