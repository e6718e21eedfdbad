"""The query recorder: every statement's time, fingerprint and caller, per block or per request."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass, field, replace
from time import perf_counter
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExecutionContext

from sqlmodel_production.db.internal import direct_safe

from ._fingerprint import fingerprint
from ._frames import Caller, find_caller

__all__ = ["Query", "QueryRecording", "record_queries"]


@dataclass(frozen=True, slots=True)
class Query:
    """One statement sent to the database."""

    statement: str
    """The SQL as the driver received it (placeholders, never values)."""
    duration: float
    """Seconds from cursor execute to its return; 0.0 for a statement the database refused."""
    caller: Caller | None
    """The line of the user's code that caused it."""
    executemany: bool = False

    @property
    def fingerprint(self) -> str:
        """The statement with literals and parameters stripped."""
        return fingerprint(self.statement)

    def __str__(self) -> str:
        where = f"  [{self.caller}]" if self.caller else ""
        return f"{' '.join(self.statement.split())}{where}"


@dataclass(eq=False)
class QueryRecording:
    """The queries of one block or one request, in the order they ran.

    Concurrent requests and tasks each get their own recording: scopes live in
    a context variable, never in a global.
    """

    queries: list[Query] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many statements ran."""
        return len(self.queries)

    @property
    def duration(self) -> float:
        """Total database time in seconds."""
        return sum(q.duration for q in self.queries)

    def fingerprints(self) -> Counter[str]:
        """How many times each normalized statement ran."""
        return Counter(q.fingerprint for q in self.queries)

    def report(self) -> str:
        """The numbered list of statements with their callers, for failure messages."""
        return "\n".join(f"{i}. {q}" for i, q in enumerate(self.queries, 1))

    def __len__(self) -> int:
        return len(self.queries)

    def __iter__(self) -> Iterator[Query]:
        return iter(self.queries)


# How a driver opens a transaction differs by backend (SQLite's BEGIN IMMEDIATE
# is a statement, the others' BEGIN is not): leave transaction control out so
# that counts are the same on every database.
_TRANSACTION_CONTROL = (
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "START TRANSACTION",
)

_scopes: ContextVar[tuple[QueryRecording, ...]] = ContextVar(
    "smp_query_scopes", default=()
)


class record_queries:
    """Record the statements run inside a block, on every engine, sync or async.

    Transaction control (`BEGIN`, `SAVEPOINT`, ...) is not recorded. A
    statement that fails (a duplicate key, say) is recorded all the same, with
    no duration. Nested blocks each see their own statements and those of
    blocks they contain.

    Example:
        ```python
        with record_queries() as recording:
            heroes = session.exec(select(Hero)).all()
        assert recording.count == 1, recording.report()
        ```
    """

    def __init__(self) -> None:
        self.recording = QueryRecording()
        self._token: Token[tuple[QueryRecording, ...]] | None = None

    def __enter__(self) -> QueryRecording:
        install()
        self._token = _scopes.set((*_scopes.get(), self.recording))
        return self.recording

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._token is not None
        _scopes.reset(self._token)
        self._token = None


_lock = threading.Lock()
_installed = False


def install() -> None:
    """Listen on every engine, present and future (idempotent).

    The listeners sit on the `Engine` class, so async engines (whose
    `sync_engine` is an `Engine`) are covered too; outside a recording they
    cost one context-variable lookup per statement.
    """
    global _installed
    with _lock:
        if not _installed:
            event.listen(Engine, "before_cursor_execute", _before, retval=True)
            event.listen(Engine, "after_cursor_execute", _after)
            _installed = True


@direct_safe
def _before(
    conn: Connection | None,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: ExecutionContext | None,
    executemany: bool,
) -> tuple[str, Any]:
    # Recorded before it runs: SQLAlchemy calls no statement listener after a
    # statement that fails, and a failed INSERT is still a query the request made.
    scopes = _scopes.get()
    if not scopes or statement.lstrip()[:17].upper().startswith(_TRANSACTION_CONTROL):
        return statement, parameters
    query = Query(statement, 0.0, find_caller(), executemany)
    for recording in scopes:
        recording.queries.append(query)
    if context is not None:
        context._smp_running = (query, scopes, perf_counter())  # type: ignore[attr-defined]
    return statement, parameters


@direct_safe
def _after(
    conn: Connection | None,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: ExecutionContext | None,
    executemany: bool,
) -> None:
    running = getattr(context, "_smp_running", None)
    if running is None:
        return
    query, scopes, started = running
    done = replace(query, duration=perf_counter() - started)
    for recording in scopes:
        queries = recording.queries
        for i in range(len(queries) - 1, -1, -1):  # most often the last one
            if queries[i] is query:
                queries[i] = done
                break
