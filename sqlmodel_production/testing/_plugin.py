"""Fixtures: fail a test on an N+1 or on a leaked connection."""

from __future__ import annotations

import gc
from collections.abc import Callable, Generator, Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlmodel_production.diagnostics import (
    LeakDetector,
    Mode,
    NPlusOneDetector,
    NPlusOneError,
    RepeatedLoad,
)
from sqlmodel_production.diagnostics.internal import watch_thread

__all__ = [
    "n_plus_one",
    "no_connection_leaks",
    "pytest_configure",
    "pytest_runtest_makereport",
]

# The findings whose NPlusOneError failed the test's call: reported once, there.
_REPORTED = pytest.StashKey[list[RepeatedLoad]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "n_plus_one(repeated_queries=True): options of the n_plus_one fixture; "
        "repeated_queries=False counts only lazy-loaded relationships",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "call" and call.excinfo is not None:
        item.stash[_REPORTED] = [
            e.finding for e in _n_plus_one_errors(call.excinfo.value)
        ]
    return report


def _n_plus_one_errors(error: BaseException) -> Iterator[NPlusOneError]:
    """The NPlusOneErrors in an error, its causes and contexts and its groups."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NPlusOneError):
            yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e)


@pytest.fixture
def n_plus_one(request: pytest.FixtureRequest) -> Iterator[NPlusOneDetector]:
    """Fail the test on an N+1 query: a relationship lazy-loaded in a loop, or the
    same `session.get` or statement run again and again by a loop.

    The load that makes the repetition raises `NPlusOneError` at the user's
    line; should the code under test swallow it, the test fails at teardown
    all the same (one report per N+1: a test that failed with the error is not
    failed again at teardown). A get or statement counts when one running
    function repeats it from one line; two calls of a helper, or two requests
    sent by the test, are not a loop. `@pytest.mark.n_plus_one(repeated_queries=False)`
    (or `n_plus_one.repeated_queries = False` in the test) counts relationships
    only, and leaves repeated statements to `RepeatedQueryWarning`.

    Covers sync and async tests (`@pytest.mark.anyio`, pytest-asyncio), and an
    app served in the test's own event loop
    (`httpx.AsyncClient(transport=httpx.ASGITransport(app))`); a request
    served by `TestClient` runs in another thread: give that app
    `DiagnosticsMiddleware(n_plus_one="raise")`.
    """
    marker = request.node.get_closest_marker("n_plus_one")
    repeated = bool(marker.kwargs.get("repeated_queries", True)) if marker else True
    detector = NPlusOneDetector(Mode.RAISE, repeated_queries=repeated)
    # The context covers threads started from the test's context; the thread
    # covers async tests, which runners run in a context of their own.
    with detector, watch_thread(detector):
        yield detector
    reported = request.node.stash.get(_REPORTED, [])
    left = [f for f in detector.n_plus_one if not any(f is r for r in reported)]
    if left:
        pytest.fail("\n".join(str(f) for f in left), pytrace=False)


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
