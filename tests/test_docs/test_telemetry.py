"""docs/telemetry.md: the one call, JSON logs with trace ids, the Prometheus configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from docs_src.telemetry import tutorial001
from sqlmodel_production import Database
from tests.conftest import Target
from tests.test_docs._helpers import tables

ROOT = Path(__file__).parents[2]


def test_one_call_serves_metrics_for_prometheus(
    target: Target, database: Database
) -> None:
    with tables(database, tutorial001.Event):
        with TestClient(tutorial001.create_app(database)) as client:
            created = client.post("/events/", json={"title": "launch"})
            assert created.status_code == 200, created.text
            assert client.post("/events/", json={"title": "launch"}).status_code == 409
            assert client.get(f"/events/{created.json()['id']}").status_code == 200
            text = client.get("/metrics").text
    assert 'http_route="/events/{event_id}"' in text
    assert "\nhttp_server_request_duration_seconds_count{" in text
    assert "\ndb_client_operation_duration_seconds_count{" in text
    assert 'error_type="unique_violation"' in text


_TUTORIAL002 = """
import sqlite3, sys
from fastapi.testclient import TestClient
from sqlmodel import SQLModel
from sqlmodel_production import Database
from docs_src.telemetry import tutorial002

database = Database()
SQLModel.metadata.create_all(database.engine, tables=[tutorial002.Event.__table__])
with TestClient(tutorial002.create_app(database)) as client:
    blocker = sqlite3.connect(database.engine.url.database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    answer = client.post("/events/", json={"title": "locked out"})
    blocker.execute("ROLLBACK")
    assert answer.status_code == 503, answer.text
"""


def test_json_logs_carry_the_request_s_trace(tmp_path: Path) -> None:
    """Run in a process of its own: tracing from the environment is set once per process."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("OTEL_")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'events.db'}",
        SQLITE_BUSY_TIMEOUT="0",
        OTEL_TRACES_EXPORTER="console",
        OTEL_SERVICE_NAME="events",
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-c", _TUTORIAL002],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [
        json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")
    ]
    retries = [line for line in lines if line.get("error_kind") == "database_locked"]
    assert len(retries) == 5, result.stderr[-3000:]
    (trace_id,) = {line["trace_id"] for line in retries}
    assert len(trace_id) == 32 and len(retries[0]["span_id"]) == 16
    assert {line["logger"] for line in retries} == {"sqlmodel_production.transactions"}
    # The console exporter printed the request's span with the same trace id.
    assert f'"trace_id": "0x{trace_id}"' in result.stdout
    assert '"name": "POST /events/"' in result.stdout


def test_the_prometheus_configuration_scrapes_metrics() -> None:
    """The sample is the one the real-Prometheus test runs (tests/telemetry/test_prometheus.py)."""
    config = yaml.safe_load((ROOT / "docs_src/telemetry/prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"]
