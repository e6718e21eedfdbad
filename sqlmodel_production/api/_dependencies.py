"""FastAPI session dependencies: `SessionDep` and `AsyncSessionDep`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection

from sqlmodel_production.db._database import STATE_KEY, Database

__all__ = [
    "AsyncSessionDep",
    "SessionDep",
    "get_async_session",
    "get_database",
    "get_session",
]


def get_database(connection: HTTPConnection) -> Database:
    """The `Database` whose lifespan the app runs under."""
    try:
        return getattr(connection.state, STATE_KEY)  # type: ignore[no-any-return]
    except AttributeError:
        raise RuntimeError(
            "No Database is attached to this app: create it with "
            "FastAPI(lifespan=database.lifespan), and in tests enter the client "
            "as a context manager (`with TestClient(app) as client:`) so the lifespan runs."
        ) from None


def get_session(connection: HTTPConnection) -> Iterator[Session]:
    """Yield a sync session for one request; it is closed when the response is sent."""
    with get_database(connection).session() as session:
        yield session


async def get_async_session(connection: HTTPConnection) -> AsyncIterator[AsyncSession]:
    """Yield an async session for one request; it is closed when the response is sent."""
    async with get_database(connection).async_session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_session)]
