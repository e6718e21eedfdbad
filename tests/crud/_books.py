"""Authors, books and weighted tags: the tables of the relationship filter, search and include tests."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from sqlmodel_production.models import WRITE_ONLY


class FbBookTag(SQLModel, table=True):
    __tablename__ = "fb_book_tag"
    book_id: int = Field(foreign_key="fb_book.id", primary_key=True)
    tag_id: int = Field(foreign_key="fb_tag.id", primary_key=True)
    weight: int = 1


class FbAuthor(SQLModel, table=True):
    __tablename__ = "fb_author"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, index=True)  # not unique: names differing in case
    books: list["FbBook"] = Relationship(back_populates="author")


class FbTag(SQLModel, table=True):
    __tablename__ = "fb_tag"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    books: list["FbBook"] = Relationship(back_populates="tags", link_model=FbBookTag)


class FbBook(SQLModel, table=True):
    __tablename__ = "fb_book"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=100, index=True)
    price: int
    author_id: int | None = Field(default=None, foreign_key="fb_author.id", index=True)
    author: FbAuthor | None = Relationship(back_populates="books")
    tags: list[FbTag] = Relationship(back_populates="books", link_model=FbBookTag)


class WoUser(SQLModel, table=True):
    """A user whose password hash is write-only: marked on the column, and excluded."""

    __tablename__ = "wo_user"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    password_hash: str = Field(
        max_length=100, sa_column_kwargs={"info": {WRITE_ONLY: True}}
    )
    api_token: str | None = Field(default=None, max_length=100, exclude=True)
    posts: list["WoPost"] = Relationship(back_populates="author")


class WoPost(SQLModel, table=True):
    __tablename__ = "wo_post"
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="wo_user.id", index=True)
    author: WoUser | None = Relationship(back_populates="posts")


TABLES: list[sa.Table] = [
    FbAuthor.__table__,  # type: ignore[attr-defined]
    FbTag.__table__,  # type: ignore[attr-defined]
    FbBook.__table__,  # type: ignore[attr-defined]
    FbBookTag.__table__,  # type: ignore[attr-defined]
]

AUTHORS = [
    {"id": 1, "name": "Terry Pratchett"},
    {"id": 2, "name": "terry pratchett"},
    {"id": 3, "name": "Terry Pratchett "},  # a trailing space
    {"id": 4, "name": "Neil Gaiman"},
    {"id": 5, "name": "Ursula 100% Le_Guin\\"},  # LIKE's wildcards and escape as data
]
TAGS = [
    {"id": 1, "name": "fantasy"},
    {"id": 2, "name": "comic"},
    {"id": 3, "name": "old"},
]
# (id, title, price, author, tags): book 1 has two tags matching "fantasy or comic".
BOOKS = [
    (1, "The Colour of Magic", 10, 1, [1, 2]),
    (2, "Good Omens", 12, 4, [1, 2, 3]),
    (3, "Mort", 8, 1, [1]),
    (4, "Discworld Companion", 30, 2, []),
    (5, "A Wizard of Earthsea", 9, 5, [1, 3]),
    (6, "Coraline", 7, 4, [3]),
    (7, "No author 100%", 5, None, []),
    (8, "Small_Gods", 11, 3, [2]),
    (9, "Smallx Gods", 11, 3, [2]),
    (10, "Top 100 Books", 20, None, []),
]


def book_rows() -> list[dict[str, Any]]:
    return [
        {"id": i, "title": t, "price": p, "author_id": a} for i, t, p, a, _ in BOOKS
    ]


def link_rows() -> list[dict[str, Any]]:
    return [
        {"book_id": i, "tag_id": tag, "weight": tag}
        for i, *_, tags in BOOKS
        for tag in tags
    ]


def create_books(conn: sa.Connection, *, seed: bool = True) -> None:
    """Create the tables, with `AUTHORS`, `TAGS` and `BOOKS` unless `seed` is false."""
    SQLModel.metadata.drop_all(conn, tables=TABLES)
    SQLModel.metadata.create_all(conn, tables=TABLES)
    conn.commit()
    if seed:
        conn.execute(sa.insert(FbAuthor.__table__), AUTHORS)  # type: ignore[attr-defined]
        conn.execute(sa.insert(FbTag.__table__), TAGS)  # type: ignore[attr-defined]
        conn.execute(sa.insert(FbBook.__table__), book_rows())  # type: ignore[attr-defined]
        conn.execute(sa.insert(FbBookTag.__table__), link_rows())  # type: ignore[attr-defined]
        conn.commit()


def drop_books(conn: sa.Connection) -> None:
    conn.rollback()
    SQLModel.metadata.drop_all(conn, tables=TABLES)
    conn.commit()


@contextmanager
def books_tables(conn: sa.Connection, *, seed: bool = True) -> Iterator[None]:
    """The tables for the block (see `create_books`), dropped afterwards."""
    create_books(conn, seed=seed)
    try:
        yield
    finally:
        drop_books(conn)
