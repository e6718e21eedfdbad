"""The slow-query log: statements above a threshold, with fingerprint and caller."""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import perf_counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlmodel_production.db.internal import direct_safe

from ._fingerprint import fingerprint
from ._frames import find_caller

__all__ = ["log_slow_queries", "logger"]

logger = logging.getLogger("sqlmodel_production.diagnostics")


def log_slow_queries(
    engine: Engine | AsyncEngine,
    threshold: float = 0.5,
    *,
    log: logging.Logger | None = None,
) -> Callable[[], None]:
    """Log every statement of `engine` that runs longer than `threshold` seconds.

    Each record is a warning on the `sqlmodel_production.diagnostics` logger
    carrying `duration`, `fingerprint` and `caller` as extra attributes, so a
    JSON log formatter can group slow statements by fingerprint. Parameters are
    never logged (they may hold personal data).

    Args:
        engine: a sync or async engine.
        threshold: seconds above which a statement is logged.
        log: the logger to use instead of the package's.

    Returns:
        A function that removes the listeners.
    """
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    target = log or logger

    @direct_safe
    def before(
        conn: Connection | None,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> tuple[str, Any]:
        if context is not None:
            context._smp_slow_started = perf_counter()  # type: ignore[attr-defined]
        return statement, parameters

    @direct_safe
    def after(
        conn: Connection | None,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        started = getattr(context, "_smp_slow_started", None)
        if started is None:
            return
        duration = perf_counter() - started
        if duration < threshold:
            return
        caller = find_caller()
        print_ = fingerprint(statement)
        target.warning(
            "slow query (%.0f ms) at %s: %s",
            duration * 1000,
            caller or "unknown caller",
            print_,
            extra={"duration": duration, "fingerprint": print_, "caller": caller},
        )

    event.listen(sync_engine, "before_cursor_execute", before, retval=True)
    event.listen(sync_engine, "after_cursor_execute", after)

    def remove() -> None:
        event.remove(sync_engine, "before_cursor_execute", before)
        event.remove(sync_engine, "after_cursor_execute", after)

    return remove
