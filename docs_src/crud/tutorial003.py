from fastapi import FastAPI
from sqlmodel import Field, Relationship, SQLModel

from sqlmodel_production import (
    Database,
    crud_router,
    install_error_handlers,
    link_router,
)
from sqlmodel_production.models import derive_schemas


class DocPublisher(SQLModel, table=True):
    __tablename__ = "doc_publisher"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    books: list["DocBook"] = Relationship(back_populates="publisher")


class DocBook(SQLModel, table=True):
    __tablename__ = "doc_book"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    publisher_id: int | None = Field(
        default=None, foreign_key="doc_publisher.id", index=True
    )
    publisher: DocPublisher | None = Relationship(back_populates="books")


class DocShelf(SQLModel, table=True):
    __tablename__ = "doc_shelf"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)


class DocShelfBook(SQLModel, table=True):
    __tablename__ = "doc_shelf_book"

    shelf_id: int = Field(foreign_key="doc_shelf.id", primary_key=True, index=True)
    book_id: int = Field(foreign_key="doc_book.id", primary_key=True, index=True)
    position: int = Field(default=0)


publisher_schemas = derive_schemas(DocPublisher)
book_schemas = derive_schemas(DocBook)


def create_app(database: Database, *, async_: bool = True) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(
            DocPublisher,
            prefix="/publishers",
            include={"books": book_schemas.Public},
            async_=async_,
        )
    )
    app.include_router(
        crud_router(
            DocBook,
            prefix="/books",
            include={"publisher": publisher_schemas.Public},
            filters={"publisher_id": ("eq", "in")},
            async_=async_,
        )
    )
    app.include_router(
        crud_router(DocShelf, prefix="/shelves", exclude={"read"}, async_=async_)
    )
    app.include_router(
        link_router(
            DocShelfBook,
            parent=DocShelf,
            child=DocBook,
            parent_prefix="/shelves",
            child_prefix="/books",
            async_=async_,
        )
    )
    install_error_handlers(app)
    return app
