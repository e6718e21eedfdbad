"""Observers: what the package tells about its own decisions, for telemetry (pure: no I/O).

The package's layers report the few things only they know: a transaction that
is run again (and why), a database error answered with a 409 / 422 / 503 / 504,
and every engine a `Database` makes (with the node it reaches: the primary or
a replica). Nothing here imports a telemetry library: `sqlmodel_production.telemetry`
adds an `Observer` and speaks OpenTelemetry. With no observer added, a report
costs one check of an empty list.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.engine import Engine

from ._error_codes import ClassifiedError

__all__ = [
    "EngineInfo",
    "Observer",
    "add_observer",
    "report_error_answered",
    "report_retry",
]


@dataclass(frozen=True)
class EngineInfo:
    """An engine a `Database` made, and the node it reaches.

    Attributes:
        engine: the sync engine, or the sync side of an async one (where its
            events are listened to).
        node: `"primary"` or `"replica"`.
        index: the replica's place in `DATABASE_REPLICA_URLS`; 0 for the primary.
        async_: whether the engine is the sync side of an `AsyncEngine`.
    """

    engine: Engine
    node: Literal["primary", "replica"]
    index: int = 0
    async_: bool = False

    @property
    def pool_name(self) -> str:
        """A name for the engine's pool: `primary`, `replica-1` (`-async` for the async engines)."""
        name = "primary" if self.node == "primary" else f"replica-{self.index}"
        return f"{name}-async" if self.async_ else name


class Observer:
    """Told what the package decides; every method does nothing unless overridden.

    Methods are called where the decision is made (in the request's task or
    thread, inside its trace context), must be quick and must not raise.
    """

    def retry(self, error: ClassifiedError, attempt: int, wait: float | None) -> None:
        """Attempt number `attempt` failed with the retryable `error`; `wait` seconds before the next, None: given up."""

    def error_answered(self, error: ClassifiedError, status: int) -> None:
        """A database error was answered with HTTP `status` (`install_error_handlers`)."""


_OBSERVERS: list[weakref.ref[Observer]] = []


def add_observer(observer: Observer) -> Callable[[], None]:
    """Tell `observer` what the package decides, from now on, for as long as it lives.

    The observer is held weakly: keep a reference to it (`instrument` keeps its
    `Telemetry` on the app), and once nothing does it is told nothing more.

    Returns:
        A function that removes it.
    """
    ref = weakref.ref(observer)
    _OBSERVERS.append(ref)

    def remove() -> None:
        if ref in _OBSERVERS:
            _OBSERVERS.remove(ref)

    return remove


def _alive() -> list[Observer]:
    alive = []
    for ref in list(_OBSERVERS):
        observer = ref()
        if observer is None:
            _OBSERVERS.remove(ref)
        else:
            alive.append(observer)
    return alive


def report_retry(error: ClassifiedError, attempt: int, wait: float | None) -> None:
    """Tell every observer that a transaction failed with a retryable error."""
    if _OBSERVERS:
        for observer in _alive():
            observer.retry(error, attempt, wait)


def report_error_answered(error: ClassifiedError, status: int) -> None:
    """Tell every observer that a database error became an HTTP answer."""
    if _OBSERVERS:
        for observer in _alive():
            observer.error_answered(error, status)
