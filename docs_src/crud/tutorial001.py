from fastapi import FastAPI
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database, crud_router, install_error_handlers


class Author(SQLModel, table=True):
    __tablename__ = "authors"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    born: int | None = Field(default=None, index=True)
    notes: str = Field(default="", max_length=255)


def create_app(database: Database, *, async_: bool = True) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(
            Author,
            prefix="/authors",
            write_only={"notes"},
            filters={"name": ("eq", "ilike"), "born": ("ge", "le", "in", "is_null")},
            order_by=["name", "born"],
            max_limit=50,
            async_=async_,
        )
    )
    install_error_handlers(app)
    return app
