from fastapi import FastAPI
from sqlmodel import Field, Relationship, SQLModel

from sqlmodel_production import (
    Database,
    crud_router,
    install_error_handlers,
    link_router,
)
from sqlmodel_production.models import derive_schemas


class Publisher(SQLModel, table=True):
    __tablename__ = "publishers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    books: list["Book"] = Relationship(back_populates="publisher")


class Book(SQLModel, table=True):
    __tablename__ = "books"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    publisher_id: int | None = Field(
        default=None, foreign_key="publishers.id", index=True
    )
    publisher: Publisher | None = Relationship(back_populates="books")


class Shelf(SQLModel, table=True):
    __tablename__ = "shelves"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)


class ShelfBook(SQLModel, table=True):
    __tablename__ = "shelf_books"

    shelf_id: int = Field(foreign_key="shelves.id", primary_key=True, index=True)
    book_id: int = Field(foreign_key="books.id", primary_key=True, index=True)
    position: int = Field(default=0)


publisher_schemas = derive_schemas(Publisher)
book_schemas = derive_schemas(Book)


def create_app(database: Database, *, async_: bool = True) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(
            Publisher,
            prefix="/publishers",
            include={"books": book_schemas.Public},
            async_=async_,
        )
    )
    app.include_router(
        crud_router(
            Book,
            prefix="/books",
            include={"publisher": publisher_schemas.Public},
            filters={"publisher_id": ("eq", "in")},
            async_=async_,
        )
    )
    app.include_router(
        crud_router(Shelf, prefix="/shelves", exclude={"read"}, async_=async_)
    )
    app.include_router(
        link_router(
            ShelfBook,
            parent=Shelf,
            child=Book,
            parent_prefix="/shelves",
            child_prefix="/books",
            async_=async_,
        )
    )
    install_error_handlers(app)
    return app
