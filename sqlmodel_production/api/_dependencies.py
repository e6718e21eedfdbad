"""FastAPI session dependencies: `SessionDep` and `AsyncSessionDep`."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any, get_type_hints

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlalchemy.orm import Session as SASession
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection

from sqlmodel_production.db import Database
from sqlmodel_production.db.internal import STATE_KEY, unattached_database

__all__ = [
    "AsyncSessionDep",
    "SessionDep",
    "get_async_session",
    "get_database",
    "get_session",
]


def get_database(connection: HTTPConnection) -> Database:
    """The `Database` whose lifespan the app runs under.

    An app without one gets the process's only `Database`, with a warning at the
    first request (its pools are then never disposed by a lifespan).

    Raises:
        RuntimeError: the app runs no `Database`'s lifespan, and there is not
            exactly one `Database` to use instead.
    """
    database = getattr(connection.state, STATE_KEY, None)
    return database if database is not None else unattached_database()


def get_session(connection: HTTPConnection) -> Iterator[Session]:
    """Yield a sync session for one request; it is closed when the response is sent."""
    with get_database(connection).session() as session:
        connection.scope[_SESSION] = session
        yield session


async def get_async_session(connection: HTTPConnection) -> AsyncIterator[AsyncSession]:
    """Yield an async session for one request; it is closed when the response is sent."""
    async with get_database(connection).async_session() as session:
        connection.scope[_ASYNC_SESSION] = session
        yield session


# The router's endpoints do not depend on the session (FastAPI's generator
# dependencies cost more than a whole read): they use the one a dependency of
# the request opened, else an override of the dependency, else their own.
_SESSION = "sqlmodel_production.session"
_ASYNC_SESSION = "sqlmodel_production.async_session"


def opened_session(connection: HTTPConnection, *, async_: bool) -> Any:
    """The session `get_session` / `get_async_session` opened for this request, if either ran."""
    return connection.scope.get(_ASYNC_SESSION if async_ else _SESSION)


def session_override(
    connection: HTTPConnection, *, async_: bool
) -> Callable[..., Any] | None:
    """The app's override of `get_async_session` (or `get_session`), if it has one."""
    overrides = getattr(connection.scope.get("app"), "dependency_overrides", None)
    if not overrides:
        return None
    return overrides.get(get_async_session if async_ else get_session)  # type: ignore[no-any-return]


@asynccontextmanager
async def open_async_override(
    override: Callable[..., Any], connection: HTTPConnection
) -> AsyncIterator[AsyncSession]:
    """The session an override of `get_async_session` gives, closed as FastAPI would close it."""
    arguments = _override_arguments(override, connection)
    if inspect.isasyncgenfunction(override):
        async with asynccontextmanager(override)(**arguments) as session:
            yield _checked(override, session, SAAsyncSession)
    elif inspect.isgeneratorfunction(override):
        with contextmanager(override)(**arguments) as session:
            yield _checked(override, session, SAAsyncSession)
    else:
        value = override(**arguments)
        session = await value if inspect.isawaitable(value) else value
        yield _checked(override, session, SAAsyncSession)


@contextmanager
def open_override(
    override: Callable[..., Any], connection: HTTPConnection
) -> Iterator[Session]:
    """The session an override of `get_session` gives, closed as FastAPI would close it."""
    arguments = _override_arguments(override, connection)
    if inspect.isasyncgenfunction(override) or inspect.iscoroutinefunction(override):
        raise TypeError(
            f"{override.__qualname__} overrides get_session, which sync endpoints call "
            "in a worker thread: make it a plain function or generator"
        )
    if inspect.isgeneratorfunction(override):
        with contextmanager(override)(**arguments) as session:
            yield _checked(override, session, SASession)
    else:
        yield _checked(override, override(**arguments), SASession)


def _checked(override: Callable[..., Any], session: Any, expected: type[Any]) -> Any:
    """`session`, if it is what the endpoints can use; a clear error otherwise."""
    if isinstance(session, expected):
        return session
    if expected is SAAsyncSession:
        wanted, dependency, fixture = (
            "an AsyncSession",
            "get_async_session",
            "smp_async_session",
        )
    else:
        wanted, dependency, fixture = "a sync Session", "get_session", "smp_session"
    raise TypeError(
        f"{override.__qualname__} overrides {dependency} with {type(session).__name__}, "
        f"but these endpoints need {wanted}: the router was built with "
        f"async_={expected is SAAsyncSession}. Give {wanted} (the {fixture} fixture), "
        "or build the router for the other style"
    )


def _override_arguments(
    override: Callable[..., Any], connection: HTTPConnection
) -> dict[str, Any]:
    """The request, for the parameters that ask for it; an override can take nothing else."""
    try:
        hints = get_type_hints(override)
    except (NameError, TypeError):
        hints = {}
    arguments = {}
    for name, parameter in inspect.signature(override).parameters.items():
        hint = hints.get(name, parameter.annotation)
        if isinstance(hint, type) and issubclass(hint, HTTPConnection):
            arguments[name] = connection
        elif parameter.default is inspect.Parameter.empty:
            raise TypeError(
                f"crud_router endpoints open the session override "
                f"{override.__qualname__}() themselves, and can give it only the request "
                f"(a parameter annotated Request or HTTPConnection), not {name!r}: take "
                "what it needs from a closure, or from the request's app state"
            )
    return arguments


SessionDep = Annotated[Session, Depends(get_session)]
AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_session)]
