"""Run a test's sync or async variant against the test's database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production import Database

T = TypeVar("T")


def run(
    database: Database,
    async_: bool,
    sync_fn: Callable[[Session], T],
    async_fn: Callable[[AsyncSession], Coroutine[Any, Any, T]],
) -> T:
    """Call `sync_fn` with a sync session or `async_fn` with an async one."""
    if not async_:
        with database.session() as session:
            return sync_fn(session)

    async def main() -> T:
        try:
            async with database.async_session() as session:
                return await async_fn(session)
        finally:
            await database.dispose()

    return asyncio.run(main())
