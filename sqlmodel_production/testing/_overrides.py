"""Serve a FastAPI app with the test's session (a dependency override)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["override_session"]


@contextmanager
def override_session(
    app: FastAPI, session: Session | AsyncSession
) -> Iterator[FastAPI]:
    """Make `SessionDep` (or `AsyncSessionDep` for an `AsyncSession`) yield `session` in the block.

    Every request then runs in the test's transaction: it sees the rows the
    test wrote, the test sees the rows it wrote, and `smp_session` rolls all of
    it back after the test. The session is not closed by the request. The app's
    previous override, if any, is put back on exit.

    Example:
        ```python
        @pytest.fixture
        def client(smp_session):
            with override_session(app, smp_session), TestClient(app) as client:
                yield client
        ```
    """
    from sqlmodel_production.api import get_async_session, get_session

    dependency: Callable[..., Any]
    override: Callable[[], Any]
    if isinstance(session, AsyncSession):

        async def yield_async_session() -> AsyncIterator[AsyncSession]:
            yield session

        dependency, override = get_async_session, yield_async_session
    else:

        def yield_session() -> Iterator[Session]:
            yield session

        dependency, override = get_session, yield_session
    overrides = app.dependency_overrides
    missing = object()
    previous = overrides.get(dependency, missing)
    overrides[dependency] = override
    try:
        yield app
    finally:
        if previous is missing:
            overrides.pop(dependency, None)
        else:
            overrides[dependency] = previous  # type: ignore[assignment]
