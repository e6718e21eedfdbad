"""Serve a FastAPI app with the test's session (a dependency override)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production._compat import dependency_calls, expand_included_routers

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["check_session_kind", "override_session", "session_kinds"]

SYNC, ASYNC = "sync", "async"


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

    Raises:
        TypeError: the app's endpoints use only the other kind of session.
    """
    from sqlmodel_production.api import get_async_session, get_session

    check_session_kind(
        session_kinds(app.routes, get_session, get_async_session),
        ASYNC if isinstance(session, AsyncSession) else SYNC,
    )

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


def session_kinds(
    routes: Iterable[Any],
    get_session: Callable[..., Any],
    get_async_session: Callable[..., Any],
) -> set[str]:
    """The kinds of session (`"sync"`, `"async"`) the endpoints among `routes` use (pure).

    An endpoint uses the kind of the session dependency it (or a dependency of
    it) declares; an endpoint made by `crud_router` or `link_router`, which
    declares none, uses the kind of its own function.
    """
    kinds: set[str] = set()
    for route in expand_included_routers(routes):
        found = dependency_calls(route)
        if found is None:
            continue  # not an APIRoute: a websocket, a static route
        calls = set(found)
        if get_session in calls:
            kinds.add(SYNC)
        if get_async_session in calls:
            kinds.add(ASYNC)
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None and getattr(endpoint, "__module__", "").startswith(
            "sqlmodel_production."
        ):
            kinds.add(ASYNC if inspect.iscoroutinefunction(endpoint) else SYNC)
    return kinds


def check_session_kind(kinds: set[str], given: str) -> None:
    """Refuse a session of a kind (`"sync"`, `"async"`) that none of the endpoints use (pure).

    Raises:
        TypeError: `kinds` has endpoints, all of the other kind; the message
            says what to pass instead.
    """
    if not kinds or given in kinds:
        return
    if given == SYNC:
        raise TypeError(
            "override_session() got a sync Session, but this app's endpoints are "
            "async (AsyncSessionDep, crud_router(..., async_=True)): they would "
            "ignore it and run on the app's own database. Pass an AsyncSession "
            "instead (the smp_async_session fixture, in an async test that serves "
            "the app with httpx.AsyncClient(transport=httpx.ASGITransport(app))), "
            "or make the endpoints sync."
        )
    raise TypeError(
        "override_session() got an AsyncSession, but this app's endpoints are "
        "sync (SessionDep, crud_router(..., async_=False)): they would ignore it "
        "and run on the app's own database. Pass a Session instead (the "
        "smp_session fixture, with TestClient(app)), or make the endpoints async."
    )
