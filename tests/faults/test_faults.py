"""Real faults on throwaway servers, under load, through the async and the sync router.

Each scenario serves the reference service as a uvicorn process in production
settings, creates teams from a few client threads, does its fault, and then
asserts counts only: no 500, no acknowledged write lost, every 503 with
`Retry-After`, no request cut off unanswered after its write, the service
answering 2xx again, and a trace of the fault (it really happened).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from faults._faults import FAULTS, Fault
from faults._run import run_fault
from faults._servers import Server
from faults._service import create_schema
from faults._table import Row, problems, problems_besides_500s

pytestmark = pytest.mark.faults


class AnsweredWith500(AssertionError):
    """The run's only problem: answers with status 500."""


def judge(row: Row, fault: Fault) -> None:
    found = problems(row, shows=fault.shows)
    if found and not problems_besides_500s(row, shows=fault.shows):
        raise AnsweredWith500(found)
    assert found == []


_schemas: set[str] = set()


@pytest.mark.parametrize("router", ["async", "sync"])
@pytest.mark.parametrize("fault", FAULTS, ids=[f.key for f in FAULTS])
def test_fault(
    server: Server,
    router: str,
    fault: Fault,
    fault_rows: list[Row],
    app_logs: Path,
) -> None:
    assert server.name in fault.backends  # the others are deselected (conftest)
    if server.url not in _schemas:
        create_schema(server.url)
        _schemas.add(server.url)
    row = run_fault(fault, server, router, logs=app_logs)
    fault_rows.append(row)
    judge(row, fault)
