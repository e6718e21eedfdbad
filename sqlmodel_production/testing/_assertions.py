"""`assert_queries` and `assert_max_queries`: query counts with the statements on failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel_production.diagnostics import QueryRecording, record_queries

__all__ = ["assert_max_queries", "assert_queries"]


@contextmanager
def assert_queries(expected: int) -> Iterator[QueryRecording]:
    """Fail unless the block runs exactly `expected` statements (Django's `assertNumQueries`).

    Transaction control (`BEGIN`, `SAVEPOINT`, ...) is not counted, so the
    count is the same on every database.

    Example:
        ```python
        with assert_queries(2):
            client.get("/teams/1/heroes")
        ```
    """
    with record_queries() as recording:
        yield recording
    if recording.count != expected:
        raise AssertionError(_message(f"expected {expected}", recording))


@contextmanager
def assert_max_queries(limit: int) -> Iterator[QueryRecording]:
    """Fail if the block runs more than `limit` statements."""
    with record_queries() as recording:
        yield recording
    if recording.count > limit:
        raise AssertionError(_message(f"expected at most {limit}", recording))


def _message(expectation: str, recording: QueryRecording) -> str:
    noun = "query" if recording.count == 1 else "queries"
    return f"{recording.count} {noun} ran, {expectation}:\n{recording.report()}"
