"""Create just a test's own tables and drop them afterwards (the metadata is shared)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import SQLModel

from sqlmodel_production import Database


@contextmanager
def created(database: Database, *models: type[SQLModel]) -> Iterator[None]:
    """Create the tables of `models`, and drop them whatever the test did."""
    tables = [model.__table__ for model in models]  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(database.engine, tables=tables)
    try:
        yield
    finally:
        SQLModel.metadata.drop_all(database.engine, tables=tables)
