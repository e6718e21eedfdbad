"""Fixtures: fail a test on an N+1 or on a leaked connection."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlmodel_production.diagnostics import LeakDetector, Mode, NPlusOneDetector
from sqlmodel_production.diagnostics._n_plus_one import watch_thread

__all__ = ["n_plus_one", "no_connection_leaks"]


@pytest.fixture
def n_plus_one() -> Iterator[NPlusOneDetector]:
    """Fail the test on an N+1 query (a relationship lazy-loaded in a loop).

    The lazy load that makes the repetition raises `NPlusOneError` at the
    user's line; should the code under test swallow it, the test fails at
    teardown all the same. Covers sync and async tests (`@pytest.mark.anyio`,
    pytest-asyncio), and an app served in the test's own event loop
    (`httpx.AsyncClient(transport=httpx.ASGITransport(app))`); a request
    served by `TestClient` runs in another thread: give that app
    `DiagnosticsMiddleware(n_plus_one="raise")`.
    """
    detector = NPlusOneDetector(Mode.RAISE)
    # The context covers threads started from the test's context; the thread
    # covers async tests, which runners run in a context of their own.
    with detector, watch_thread(detector):
        yield detector
    if detector.n_plus_one:
        pytest.fail("\n".join(str(f) for f in detector.n_plus_one), pytrace=False)


@pytest.fixture
def no_connection_leaks() -> Iterator[Callable[[Engine | AsyncEngine], LeakDetector]]:
    """Fail the test if a watched engine's connection is garbage-collected unreturned.

    Call it with each engine to watch; sync pools take a collected connection
    back silently, so without this the leak goes unnoticed.

    Example:
        ```python
        def test_export(no_connection_leaks, database):
            no_connection_leaks(database.engine)
            export_all(database)
        ```
    """
    detectors: list[LeakDetector] = []

    def watch(engine: Engine | AsyncEngine) -> LeakDetector:
        detectors.append(LeakDetector(engine).install())
        return detectors[-1]

    yield watch
    gc.collect()
    leaks = [leak for detector in detectors for leak in detector.leaks]
    for detector in detectors:
        detector.remove()
    if leaks:
        pytest.fail("\n".join(str(leak) for leak in leaks), pytrace=False)
