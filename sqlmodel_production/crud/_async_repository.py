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

from sqlmodel_production.crud._repository import (
    DeletedRows,
    ModelT,
    Page,
    Repository,
    Row,
)

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

    async def read(
        self,
        session: AsyncSession,
        id: Any,
        *,
        scope: Mapping[str, Any] | None = None,
        deleted: DeletedRows = "hide",
    ) -> Row | None:
        return await session.run_sync(
            lambda s: self.sync.read(s, id, scope=scope, deleted=deleted)
        )

    async def list(self, session: AsyncSession, **options: Any) -> Page:
        return await session.run_sync(lambda s: self.sync.list(s, **options))

    async def count(
        self,
        session: AsyncSession,
        *,
        filters: Mapping[str, Any] | None = None,
        scope: Mapping[str, Any] | None = None,
        deleted: DeletedRows = "hide",
    ) -> int:
        return await session.run_sync(
            lambda s: self.sync.count(s, filters=filters, scope=scope, deleted=deleted)
        )

    async def create(
        self,
        session: AsyncSession,
        data: SQLModel | Mapping[str, Any],
        *,
        scope: Mapping[str, Any] | None = None,
        stamp: Mapping[str, Any] | None = None,
    ) -> Row:
        return await session.run_sync(
            lambda s: self.sync.create(s, data, scope=scope, stamp=stamp)
        )

    async def create_many(
        self,
        session: AsyncSession,
        items: Sequence[SQLModel | Mapping[str, Any]],
        *,
        scope: Mapping[str, Any] | None = None,
        stamp: Mapping[str, Any] | None = None,
    ) -> builtins.list[Row]:
        return await session.run_sync(
            lambda s: self.sync.create_many(s, items, scope=scope, stamp=stamp)
        )

    async def update(
        self,
        session: AsyncSession,
        id: Any,
        data: Mapping[str, Any],
        *,
        version: int | None = None,
        scope: Mapping[str, Any] | None = None,
        stamp: Mapping[str, Any] | None = None,
    ) -> Row | None:
        return await session.run_sync(
            lambda s: self.sync.update(
                s, id, data, version=version, scope=scope, stamp=stamp
            )
        )

    async def delete(
        self, session: AsyncSession, id: Any, *, scope: Mapping[str, Any] | None = None
    ) -> bool:
        return await session.run_sync(lambda s: self.sync.delete(s, id, scope=scope))

    async def restore(
        self, session: AsyncSession, id: Any, *, scope: Mapping[str, Any] | None = None
    ) -> Row | None:
        return await session.run_sync(lambda s: self.sync.restore(s, id, scope=scope))

    async def upsert(
        self,
        session: AsyncSession,
        data: SQLModel | Mapping[str, Any],
        *,
        on: Sequence[str],
        scope: Mapping[str, Any] | None = None,
        stamp: Mapping[str, Any] | None = None,
    ) -> Row | None:
        return await session.run_sync(
            lambda s: self.sync.upsert(s, data, on=on, scope=scope, stamp=stamp)
        )
