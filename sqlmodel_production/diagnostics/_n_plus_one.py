"""The N+1 detector, on the Session's `do_orm_execute` event."""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import FrameType, TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from sqlmodel_production._compat import in_greenlet

from ._findings import (
    AsyncLazyLoadError,
    Mode,
    NPlusOneError,
    NPlusOneWarning,
    RepeatedLoad,
    RepeatedLoadKind,
    RepeatedQueryWarning,
    async_lazy_load_message,
)
from ._fingerprint import fingerprint
from ._frames import Caller, find_caller_frame

__all__ = ["NPlusOneDetector", "detect_n_plus_one", "watch_thread"]

logger = logging.getLogger("sqlmodel_production.diagnostics")


class NPlusOneDetector:
    """Detect N+1 queries inside a block or a request, on sync and async sessions.

    It listens to SQLAlchemy's own signals (`ORMExecuteState.lazy_loaded_from`,
    the loader path, `is_column_load`), so it tells a lazy load apart from the
    user's own statements and never patches SQLAlchemy. A relationship
    lazy-loaded `threshold` times from the same line is an N+1; a `session.get`
    loop, repeated attribute reloads and a repeated statement are softer
    findings, warned about (or logged) but never raised. With
    `repeated_queries=True`, the same `session.get` or statement run
    `threshold` times by one running function from one line (a loop, not
    two calls or two requests) is an N+1 too, raised in raise mode. Inserts
    and other writes are never findings.

    Inside the block, a lazy load on an `AsyncSession` raises
    `AsyncLazyLoadError`, naming the relationship and the fix, instead of a bare
    `MissingGreenlet`.

    Example:
        ```python
        with detect_n_plus_one("raise") as detector:
            for team in session.exec(select(Team)).all():
                team.heroes  # NPlusOneError: N+1 queries: Team.heroes was lazy-loaded 2 times ...
        ```
    """

    def __init__(
        self,
        mode: Mode | str = Mode.RAISE,
        *,
        threshold: int = 2,
        repeated_queries: bool = False,
    ) -> None:
        if threshold < 2:
            raise ValueError(
                "threshold must be at least 2: one load is not a repetition"
            )
        self.mode = Mode(mode)
        self.threshold = threshold
        self.repeated_queries = repeated_queries
        """Count a `session.get` or a statement repeated in a loop as an N+1."""
        self._seen: dict[tuple[RepeatedLoadKind, str, Caller | None], RepeatedLoad] = {}
        # The running frame that last issued each repeated statement, and how many
        # times in a row it did: held (not its id) so that its address is not reused.
        self._loops: dict[
            tuple[RepeatedLoadKind, str, Caller | None], tuple[FrameType, int]
        ] = {}
        self._token: Token[tuple[NPlusOneDetector, ...]] | None = None

    @property
    def findings(self) -> list[RepeatedLoad]:
        """Every repetition at or above the threshold, N+1 and softer findings alike."""
        return [f for f in self._seen.values() if f.count >= self.threshold]

    @property
    def n_plus_one(self) -> list[RepeatedLoad]:
        """Only the N+1 findings (relationships lazy-loaded in a loop)."""
        return [f for f in self.findings if f.is_n_plus_one]

    def __enter__(self) -> NPlusOneDetector:
        install()
        self._token = _detectors.set((*_detectors.get(), self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._token is not None
        _detectors.reset(self._token)
        self._token = None
        self._loops.clear()
        if exc_type is None:
            self.report()

    def report(self) -> None:
        """Warn about or log the findings (the N+1 ones already raised in raise mode)."""
        for finding in self.findings:
            if self.mode is Mode.LOG:
                logger.warning("%s", finding, extra={"finding": finding})
            elif not (self.mode is Mode.RAISE and finding.is_n_plus_one):
                category = (
                    NPlusOneWarning if finding.is_n_plus_one else RepeatedQueryWarning
                )
                _warn(str(finding), category, finding.caller)

    def observe(
        self,
        kind: RepeatedLoadKind,
        subject: str,
        caller: Caller | None,
        *,
        collection: bool = True,
        frame: FrameType | None = None,
    ) -> None:
        """Count one load; raise at the threshold in raise mode.

        `frame` is the user's running frame that issued a repeated get or
        statement (None when a framework stood between): the same frame
        issuing it `threshold` times in a row is a loop.
        """
        key = (kind, subject, caller)
        finding = self._seen.get(key)
        if finding is None:
            finding = self._seen[key] = RepeatedLoad(
                kind, subject, caller, collection=collection
            )
        finding.count += 1
        if self.repeated_queries and frame is not None and kind in _LOOPABLE:
            last = self._loops.get(key)
            in_row = last[1] + 1 if last is not None and last[0] is frame else 1
            self._loops[key] = (frame, in_row)
            if in_row >= self.threshold and not finding.in_loop:
                finding.in_loop = True
                finding.count = in_row
                if self.mode is Mode.RAISE:
                    raise NPlusOneError(finding)
                return
        if (
            self.mode is Mode.RAISE
            and finding.is_n_plus_one
            and not finding.in_loop
            and finding.count == self.threshold
        ):
            raise NPlusOneError(finding)


_LOOPABLE = (RepeatedLoadKind.REPEATED_GET, RepeatedLoadKind.REPEATED_QUERY)


def detect_n_plus_one(
    mode: Mode | str = Mode.RAISE, *, threshold: int = 2, repeated_queries: bool = False
) -> NPlusOneDetector:
    """A context manager detecting N+1 queries in its block; see `NPlusOneDetector`."""
    return NPlusOneDetector(
        mode, threshold=threshold, repeated_queries=repeated_queries
    )


_detectors: ContextVar[tuple[NPlusOneDetector, ...]] = ContextVar(
    "smp_n_plus_one", default=()
)
# Detectors watching a whole thread, whatever context its code runs in.
_threads = threading.local()
_lock = threading.Lock()
_installed = False


@contextmanager
def watch_thread(detector: NPlusOneDetector) -> Iterator[NPlusOneDetector]:
    """Make `detector` see everything this thread runs in the block, in any context.

    A detector entered with `with` sees its own context and the tasks started
    from it; a pytest fixture cannot reach the context that an async test
    runner (anyio's, pytest-asyncio's) gives the test, but the runner's event
    loop runs in the fixture's thread.
    """
    install()
    previous: tuple[NPlusOneDetector, ...] = getattr(_threads, "detectors", ())
    _threads.detectors = (*previous, detector)
    try:
        yield detector
    finally:
        _threads.detectors = previous


def install() -> None:
    """Listen on every Session, sync or inside an AsyncSession (idempotent)."""
    global _installed
    with _lock:
        if not _installed:
            event.listen(Session, "do_orm_execute", _on_orm_execute)
            _installed = True


def _on_orm_execute(state: ORMExecuteState) -> None:
    detectors = _detectors.get()
    watching: tuple[NPlusOneDetector, ...] = getattr(_threads, "detectors", ())
    if watching:
        detectors = (*detectors, *(d for d in watching if d not in detectors))
    if not detectors or not state.is_select:
        return
    caller, frame = find_caller_frame()
    collection = True
    if state.lazy_loaded_from is not None and state.loader_strategy_path is not None:
        mapper, prop = state.loader_strategy_path.path[-2:]
        subject = f"{mapper.class_.__name__}.{prop.key}"  # type: ignore[union-attr]
        collection = bool(prop.uselist)  # type: ignore[union-attr]
        kind = RepeatedLoadKind.LAZY_LOAD
        if _is_async(state) and not in_greenlet():
            raise AsyncLazyLoadError(
                async_lazy_load_message(subject, caller, collection=collection)
            )
    elif state.is_relationship_load:
        return  # selectinload and friends: one query per parent query, by design
    elif state.is_column_load:
        kind, subject = RepeatedLoadKind.ATTRIBUTE_RELOAD, _entity(state)
    elif caller is not None and caller.entry.endswith(".get"):
        kind, subject = RepeatedLoadKind.REPEATED_GET, _entity(state)
    else:
        kind, subject = (
            RepeatedLoadKind.REPEATED_QUERY,
            fingerprint(str(state.statement)),
        )
    if kind is RepeatedLoadKind.LAZY_LOAD or kind is RepeatedLoadKind.ATTRIBUTE_RELOAD:
        frame = None
    for detector in detectors:
        detector.observe(kind, subject, caller, collection=collection, frame=frame)


def _entity(state: ORMExecuteState) -> str:
    mapper = state.bind_mapper
    return mapper.class_.__name__ if mapper is not None else "?"


def _is_async(state: ORMExecuteState) -> bool:
    try:
        bind: Any = state.session.get_bind(mapper=state.bind_mapper)
    except Exception:  # unbound session: nothing to say
        return False
    return bool(getattr(bind, "dialect", None) and bind.dialect.is_async)


def _warn(message: str, category: type[Warning], caller: Caller | None) -> None:
    if caller is None:
        warnings.warn(message, category, stacklevel=4)
    else:
        warnings.warn_explicit(message, category, caller.filename, caller.lineno)
