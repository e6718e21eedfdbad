"""`schemathesis run --checks all` against the reference service finds only what no OpenAPI document can declare.

The command line, all four phases (examples, coverage, fuzzing, stateful) and every
check, against the service served by uvicorn on each backend and driver, with a
fixed seed and few examples so that it stays a CI test. Schemathesis is given the
reference service's hooks (`schemathesis_hooks`): a drawn cursor of the declared
shape is taken out, as only the API can issue one.

The one finding expected: a body whose `team_id` names no team is a 422
(`foreign_key_violation`, the field in `loc`), a "schema-valid request rejected"
(ST202), as a schema cannot say which teams exist. Any other finding fails.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.pool import NullPool

from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.demo.app import create_app
from tests.conftest import Target
from tests.demo.conftest import create_tables, drop_tables

ROOT = Path(__file__).parents[2]
MISSING_TEAM = {
    "POST /heroes/",
    "POST /heroes/bulk",
    "PATCH /heroes/{hero_id}",
}
"""The operations whose body carries `team_id`: the only ones that may be rejected."""


@pytest.fixture
def served(target: Target, settings: DatabaseSettings) -> Iterator[str]:
    """The reference service on a free port, on the test database; its base URL."""
    database = Database(settings, poolclass=NullPool)
    create_tables(database)
    config = uvicorn.Config(
        create_app(database, async_=target.async_),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        drop_tables(database)


def test_checks_all_finds_nothing_but_a_reference_to_a_missing_row(
    served: str, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    ndjson = tmp_path / "events.ndjson"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        "--checks",
        "all",
        "--max-examples",
        "10",
        "--seed",
        "20",
        "--workers",
        "1",
        "--report",
        "json,ndjson",
        "--report-json-path",
        str(report),
        "--report-ndjson-path",
        str(ndjson),
        f"{served}/openapi.json",
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.demo.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600
    )
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(report.read_text())
    assert result["complete"], run.stdout[-3000:]
    assert result["operations"]["tested"] >= 19
    assert result["errors"] == [], run.stdout[-3000:]
    assert {
        name for name, phase in result["phases"].items() if phase["status"] == "skip"
    } <= {"examples"}
    unexpected = [
        failure
        for failure in result["failures"]
        if failure["code"] != "ST202" or not set(failure["operations"]) <= MISSING_TEAM
    ]
    assert unexpected == [], run.stdout[-6000:]
    bodies = _rejected_bodies(ndjson)
    assert bodies, "no rejected request at all: is team_id still drawn?"
    for body in bodies:
        assert {(e["type"], e["loc"][-1]) for e in body["detail"]} == {
            ("foreign_key_violation", "team_id")
        }, body


def _rejected_bodies(ndjson: Path) -> list[dict[str, Any]]:
    """The answers to the requests the run reported as "schema-valid request rejected"."""
    bodies = []
    for line in ndjson.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if finished is None:
            continue
        recorder = finished["recorder"]
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                failure = (check.get("failure_info") or {}).get("failure") or {}
                if failure.get("type") == "RejectedPositiveData":
                    response = recorder["interactions"][case_id]["response"]
                    content = base64.b64decode(response["content"]["$base64"])
                    bodies.append(json.loads(content))
    return bodies
