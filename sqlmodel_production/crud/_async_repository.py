"""`AsyncRepository`: the same repository, reached from async code through `run_sync`.

No logic lives here: each method hands the sync `Repository` method to
`AsyncSession.run_sync`, which runs it on the async connection through
SQLAlchemy's greenlet bridge (the pattern SQLAlchemy and SQLModel use).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any, Generic

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production.crud._repository import ModelT, Page, Repository, Row

__all__ = ["AsyncRepository"]


class AsyncRepository(Generic[ModelT]):
    """Async twin of `Repository`, with identical method names and arguments.

    Example:
        ```python
        heroes = AsyncRepository(Repository(Hero))
        async with database.async_session() as session:
            page = await heroes.list(session, order_by="-age", limit=10)
        ```
    """

    def __init__(self, repository: Repository[ModelT]) -> None:
        self.sync = repository

    async def get(self, session: AsyncSession, id: Any) -> ModelT | None:
        return await session.run_sync(self.sync.get, id)

    async def read(self, session: AsyncSession, id: Any) -> Row | None:
        return await session.run_sync(self.sync.read, id)

    async def list(self, session: AsyncSession, **options: Any) -> Page:
        return await session.run_sync(lambda s: self.sync.list(s, **options))

    async def count(
        self, session: AsyncSession, *, filters: Mapping[str, Any] | None = None
    ) -> int:
        return await session.run_sync(lambda s: self.sync.count(s, filters=filters))

    async def create(
        self, session: AsyncSession, data: SQLModel | Mapping[str, Any]
    ) -> Row:
        return await session.run_sync(self.sync.create, data)

    async def create_many(
        self, session: AsyncSession, items: Sequence[SQLModel | Mapping[str, Any]]
    ) -> builtins.list[Row]:
        return await session.run_sync(self.sync.create_many, items)

    async def update(
        self,
        session: AsyncSession,
        id: Any,
        data: Mapping[str, Any],
        *,
        version: int | None = None,
    ) -> Row | None:
        return await session.run_sync(
            lambda s: self.sync.update(s, id, data, version=version)
        )

    async def delete(self, session: AsyncSession, id: Any) -> bool:
        return await session.run_sync(self.sync.delete, id)

    async def upsert(
        self,
        session: AsyncSession,
        data: SQLModel | Mapping[str, Any],
        *,
        on: Sequence[str],
    ) -> Row:
        return await session.run_sync(lambda s: self.sync.upsert(s, data, on=on))
