"""Which request wrote: a commit on the package's engines marks the request being served.

Read-your-writes across requests needs to know that a request wrote, whatever
wrote it: the router, a hand-written endpoint committing its `SessionDep`,
`transaction()`, or Core on `engine.begin()`. Every engine the package makes
listens for commits; while a request is served (`serving`, entered by
`ReadYourWritesMiddleware`) a commit marks it (`WROTE_NOW` in its ASGI scope),
so its response can tell the client to read from the primary. A context
variable carries the request, so commits in a worker thread (sync endpoints)
and in SQLAlchemy's greenlet (async ones) find it too.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from ._runners import WROTE, WROTE_NOW

__all__ = ["serving", "served_wrote", "watch_commits"]

_SERVING: ContextVar[MutableMapping[str, Any] | None] = ContextVar(
    "sqlmodel_production.serving", default=None
)


@contextmanager
def serving(scope: MutableMapping[str, Any]) -> Iterator[None]:
    """Commits made while this is entered, in this context or ones copied from it, mark `scope`."""
    token = _SERVING.set(scope)
    try:
        yield
    finally:
        _SERVING.reset(token)


def served_wrote() -> bool:
    """Whether the request being served, or recently its client, wrote (its reads go to the primary)."""
    scope = _SERVING.get()
    return scope is not None and bool(scope.get(WROTE))


def _committed(_connection: Connection) -> None:
    scope = _SERVING.get()
    if scope is not None:
        scope[WROTE] = WROTE_NOW


def watch_commits(engine: Engine) -> None:
    """Mark the request being served (if any) when a transaction on `engine` commits."""
    event.listen(engine, "commit", _committed)
