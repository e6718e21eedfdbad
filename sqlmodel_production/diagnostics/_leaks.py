"""The connection-leak detector, on pool checkout and checkin events."""

from __future__ import annotations

import logging
import threading
import warnings
import weakref
from contextvars import ContextVar
from dataclasses import dataclass, field
from time import monotonic
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlmodel_production._exceptions import ConnectionLeakError, ConnectionLeakWarning

from ._findings import Mode
from ._frames import Caller, find_caller

__all__ = [
    "Checkout",
    "ConnectionLeakError",
    "ConnectionLeakWarning",
    "Leak",
    "LeakDetector",
]

logger = logging.getLogger("sqlmodel_production.diagnostics")


@dataclass(eq=False)
class Checkout:
    """One pooled connection in use: where and when it was checked out."""

    site: Caller | None
    started: float = field(default_factory=monotonic)
    fairy: weakref.ref[Any] | None = None

    @property
    def age(self) -> float:
        """Seconds since checkout."""
        return monotonic() - self.started


@dataclass(frozen=True)
class Leak:
    """A connection that was not returned, and why we know."""

    checkout: Checkout
    reason: str

    def __str__(self) -> str:
        site = self.checkout.site or "an unknown line"
        return (
            f"Connection leak: a connection checked out at {site} was {self.reason}. "
            "Return it with a context manager (`with engine.connect() as conn:`, "
            "`with Session(engine) as session:`) or close() it in a finally block."
        )


class LeakDetector:
    """Track where each pooled connection of an engine was checked out.

    Reports connections garbage-collected without being returned (sync pools
    recover those silently, async ones only warn), connections still out when a
    `track()` block (a request) ends, and connections held past `hold_threshold`
    seconds (on checkin, and on demand with `held_longer_than`).

    Example:
        ```python
        detector = LeakDetector(database.engine, mode="log").install()
        with detector.track():  # one request
            ...
        ```
    """

    def __init__(
        self,
        engine: Engine | AsyncEngine,
        *,
        mode: Mode | str = Mode.LOG,
        hold_threshold: float = 30.0,
    ) -> None:
        self.engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
        self.mode = Mode(mode)
        self.hold_threshold = hold_threshold
        self.leaks: list[Leak] = []
        self._out: dict[int, Checkout] = {}
        self._lock = threading.Lock()
        self._installed = False

    def install(self) -> LeakDetector:
        """Start listening on the engine's pool (idempotent); returns self."""
        if not self._installed:
            event.listen(self.engine, "checkout", self._on_checkout)
            event.listen(self.engine, "checkin", self._on_checkin)
            event.listen(self.engine, "detach", self._on_detach)
            self._installed = True
        return self

    def remove(self) -> None:
        """Stop listening."""
        if self._installed:
            event.remove(self.engine, "checkout", self._on_checkout)
            event.remove(self.engine, "checkin", self._on_checkin)
            event.remove(self.engine, "detach", self._on_detach)
            self._installed = False

    def __enter__(self) -> LeakDetector:
        return self.install()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    def checked_out(self) -> list[Checkout]:
        """The connections out of the pool now, oldest first."""
        with self._lock:
            return sorted(self._out.values(), key=lambda c: c.started)

    def held_longer_than(self, seconds: float | None = None) -> list[Checkout]:
        """The connections out for longer than `seconds` (default: `hold_threshold`)."""
        limit = self.hold_threshold if seconds is None else seconds
        return [c for c in self.checked_out() if c.age > limit]

    def track(self) -> _Tracking:
        """A block (one request) whose connections must all be returned by its end."""
        return _Tracking(self)

    def report(self, leak: Leak) -> None:
        """Record a leak and raise, warn or log it according to the mode."""
        self.leaks.append(leak)
        if self.mode is Mode.RAISE:
            raise ConnectionLeakError(str(leak))
        if self.mode is Mode.WARN:
            warnings.warn(str(leak), ConnectionLeakWarning, stacklevel=2)
        else:
            logger.warning("%s", leak, extra={"leak": leak})

    def _on_checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        key = id(record)
        checkout = Checkout(find_caller())
        checkout.fairy = weakref.ref(proxy, lambda _: self._on_collected(key, checkout))
        with self._lock:
            self._out[key] = checkout
        for tracking in _trackings.get():
            if tracking.detector is self:
                tracking.keys.add(key)

    def _on_checkin(self, dbapi_connection: Any, record: Any) -> None:
        checkout = self._pop(id(record))
        if checkout is None:
            return
        if checkout.fairy is not None and checkout.fairy() is None:
            # Checked in by the pool's own garbage-collection hook, not by close().
            self._gc_leak(checkout)
        elif checkout.age > self.hold_threshold:
            logger.warning(
                "Connection held for %.1f s (over %.1f s), checked out at %s",
                checkout.age,
                self.hold_threshold,
                checkout.site or "an unknown line",
            )

    def _on_detach(self, dbapi_connection: Any, record: Any) -> None:
        self._pop(id(record))

    def _on_collected(self, key: int, checkout: Checkout) -> None:
        with self._lock:
            if self._out.get(key) is not checkout:
                return
            del self._out[key]
        self._gc_leak(checkout)

    def _gc_leak(self, checkout: Checkout) -> None:
        leak = Leak(checkout, "garbage-collected without being returned to the pool")
        self.leaks.append(leak)  # never raise inside the garbage collector
        logger.warning("%s", leak, extra={"leak": leak})

    def _pop(self, key: int) -> Checkout | None:
        with self._lock:
            return self._out.pop(key, None)


class _Tracking:
    def __init__(self, detector: LeakDetector) -> None:
        self.detector = detector
        self.keys: set[int] = set()
        self._token: Any = None

    def __enter__(self) -> _Tracking:
        self.detector.install()
        self._token = _trackings.set((*_trackings.get(), self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _trackings.reset(self._token)
        with self.detector._lock:
            left = [self.detector._out[k] for k in self.keys if k in self.detector._out]
        for checkout in left:
            self.detector.report(Leak(checkout, "not returned when the request ended"))


_trackings: ContextVar[tuple[_Tracking, ...]] = ContextVar(
    "smp_leak_tracking", default=()
)
