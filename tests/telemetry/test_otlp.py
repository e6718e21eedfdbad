"""OTLP from the environment: spans and metrics reach a collector's HTTP endpoint.

A process of its own (tracing from the environment is set once per process) serves the
docs' app on SQLite with `OTEL_TRACES_EXPORTER=otlp` and `OTEL_METRICS_EXPORTER=otlp`;
a small HTTP server here stands in for the collector and decodes what it receives.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

ROOT = Path(__file__).parents[2]

_APP = """
from fastapi.testclient import TestClient
from sqlmodel import SQLModel
from sqlmodel_production import Database
from docs_src.telemetry import tutorial001

database = Database()
SQLModel.metadata.create_all(database.engine, tables=[tutorial001.Event.__table__])
with TestClient(tutorial001.create_app(database)) as client:
    created = client.post("/events/", json={"title": "launch"}).json()
    assert client.get(f"/events/{created['id']}").status_code == 200
"""


@pytest.fixture
def collector() -> Iterator[tuple[str, dict[str, list[bytes]]]]:
    """The base URL of a stand-in OTLP/HTTP collector, and the bodies it received by path."""
    received: dict[str, list[bytes]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.setdefault(self.path, []).append(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_spans_and_metrics_go_to_the_otlp_endpoint(
    collector: tuple[str, dict[str, list[bytes]]], tmp_path: Path
) -> None:
    endpoint, received = collector
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'events.db'}",
        OTEL_SERVICE_NAME="events",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_METRICS_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_TRACES_SAMPLER="parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG="1.0",
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-c", _APP],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    spans = []
    for body in received.get("/v1/traces", []):
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = {
                a.key: a.value.string_value for a in resource.resource.attributes
            }["service.name"]
            assert service == "events"
            spans += [s for scope in resource.scope_spans for s in scope.spans]
    names = {span.name for span in spans}
    assert {"POST /events/", "GET /events/{event_id}", "INSERT events"} <= names

    metrics = set()
    for body in received.get("/v1/metrics", []):
        request = ExportMetricsServiceRequest.FromString(body)
        metrics |= {
            metric.name
            for resource in request.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        }
    assert {
        "http.server.request.duration",
        "db.client.operation.duration",
        "db.client.connection.count",
    } <= metrics
