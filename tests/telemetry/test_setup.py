"""The `OTEL_*` environment variables `instrument` reads."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sqlmodel_production import Database
from sqlmodel_production.db import Backend
from sqlmodel_production.telemetry import instrument
from sqlmodel_production.telemetry._setup import disabled, exporters


def test_exporters_default_to_otlp_only_with_an_endpoint() -> None:
    assert exporters("TRACES", {}) == []
    assert exporters("TRACES", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}) == [
        "otlp"
    ]
    assert exporters(
        "METRICS", {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://c:4318"}
    ) == ["otlp"]
    assert exporters("TRACES", {"OTEL_TRACES_EXPORTER": "none"}) == []
    assert exporters(
        "METRICS", {"OTEL_METRICS_EXPORTER": "Console, prometheus ,none"}
    ) == ["console", "prometheus"]


def test_an_unknown_exporter_is_refused() -> None:
    with pytest.raises(
        ValueError, match="OTEL_TRACES_EXPORTER names unknown exporters: jaeger"
    ):
        exporters("TRACES", {"OTEL_TRACES_EXPORTER": "jaeger"})


def test_sdk_disabled() -> None:
    assert disabled({"OTEL_SDK_DISABLED": "TRUE"})
    assert not disabled({"OTEL_SDK_DISABLED": "false"})
    assert not disabled({})


def test_disabled_instrument_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    app = FastAPI()
    telemetry = instrument(app, prometheus=True)
    assert telemetry.meter_provider is None and telemetry.tracer_provider is None
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 404


def test_prometheus_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "prometheus")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}

    telemetry = instrument(app)
    try:
        with TestClient(app) as client:
            assert client.get("/ping").status_code == 200
            text = client.get("/metrics").text
        assert 'http_route="/ping"' in text
        assert 'service_name="from-env"' in text
    finally:
        telemetry.shutdown()


def test_an_app_is_instrumented_once() -> None:
    app = FastAPI()
    telemetry = instrument(app, prometheus=True)
    try:
        assert app.state.sqlmodel_production_telemetry is telemetry
        with pytest.raises(RuntimeError, match="instrumented already"):
            instrument(app, prometheus=True)
    finally:
        telemetry.shutdown()


@pytest.mark.only(Backend.SQLITE)
def test_a_database_without_an_app(backend: Backend, database: Database) -> None:
    """A worker or a script: `instrument(database=...)` traces and measures its statements."""
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )

    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    telemetry = instrument(
        database=database, tracer_provider=provider, metric_readers=[reader]
    )
    try:
        with database.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
        data = reader.get_metrics_data()
    finally:
        telemetry.shutdown()
    assert "SELECT" in [s.name for s in spans.get_finished_spans()]
    names = {
        metric.name
        for resource in (data.resource_metrics if data else [])
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert {"db.client.operation.duration", "db.client.connection.count"} <= names
