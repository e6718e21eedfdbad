"""Run a tutorial's session function through the sync or the async driver, on its own tables."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlmodel import Session, SQLModel

from sqlmodel_production import Database

T = TypeVar("T")


def in_session(database: Database, async_: bool, fn: Callable[[Session], T]) -> T:
    """Call `fn` with a sync session, or with an async session's through `run_sync`."""
    if not async_:
        with database.session() as session:
            return fn(session)

    async def main() -> T:
        try:
            async with database.async_session() as session:
                return await session.run_sync(fn)
        finally:
            # Async connections belong to this event loop: close them before it ends.
            await database.async_engine.dispose()

    return asyncio.run(main())


@contextmanager
def tables(database: Database, *models: type[SQLModel]) -> Iterator[None]:
    """Create the tables of `models` only (the metadata is shared), and drop them after."""
    created = [model.__table__ for model in models]  # type: ignore[attr-defined]
    SQLModel.metadata.drop_all(database.engine, tables=created)
    SQLModel.metadata.create_all(database.engine, tables=created)
    try:
        yield
    finally:
        # `database.engine` again: an async test may have disposed the engines.
        SQLModel.metadata.drop_all(database.engine, tables=created)
