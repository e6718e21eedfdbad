"""Traces: a server span per request, a client span per statement under it, events for errors and retries.

On every target (SQLite, PostgreSQL, MariaDB; sync and async drivers), through the
router's pooled reads on the driver (asyncpg's own `fetch` on PostgreSQL async).
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from collections.abc import Callable

import opentelemetry.context
import pytest
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, StatusCode

from sqlmodel_production import Database
from sqlmodel_production.db import Backend
from sqlmodel_production.db._driver import _direct_listeners
from sqlmodel_production.db._prepared import Prepared
from sqlmodel_production.diagnostics import log_slow_queries
from sqlmodel_production.telemetry import JsonFormatter, instrument
from sqlmodel_production.telemetry._db import _SUPPRESS
from tests.conftest import Target
from tests.telemetry.conftest import Served, each_statement

SYSTEMS = {
    Backend.SQLITE: "sqlite",
    Backend.POSTGRESQL: "postgresql",
    Backend.MARIADB: "mariadb",
}


def _engine(served: Served, target: Target) -> object:
    database = served.database
    return database.async_engine.sync_engine if target.async_ else database.engine


def test_a_read_is_a_server_span_with_a_client_span_per_statement(
    target: Target, serve: Callable[..., Served]
) -> None:
    served = serve()
    client = served.client
    hero = client.post("/heroes/", json={"name": "Rusty", "secret_name": "s"}).json()
    served.spans.clear()
    assert client.get(f"/heroes/{hero['id']}").status_code == 200

    spans = served.finished()
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.name == "GET /heroes/{hero_id}"
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/heroes/{hero_id}"
    assert server.attributes["http.request.method"] == "GET"
    assert server.attributes["http.response.status_code"] == 200
    statements = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert statements, "no client span for the read"
    for span in statements:
        assert span.parent is not None
        assert span.parent.span_id == server.context.span_id
        assert span.context.trace_id == server.context.trace_id
    (read,) = [s for s in statements if s.name == "SELECT hero"]
    attributes = dict(read.attributes or {})
    assert attributes["db.system.name"] == SYSTEMS[target.backend]
    assert attributes["db.operation.name"] == "SELECT"
    assert attributes["db.query.summary"] == "SELECT hero"
    assert attributes["db.collection.name"] == "hero"
    assert attributes["sqlmodel_production.db.node"] == "primary"
    if target.backend is Backend.SQLITE:
        assert "server.address" not in attributes
    else:
        assert attributes["server.address"] == "127.0.0.1"
        assert isinstance(attributes["server.port"], int)
    # The read ran where the router runs it with telemetry off: on the driver.
    listeners = _direct_listeners(_engine(served, target), {})  # type: ignore[arg-type]
    assert listeners is not None, "telemetry forced the router off the driver"


def test_the_router_s_prepared_reads_stay_on_the_driver(
    target: Target, serve: Callable[..., Served]
) -> None:
    """Telemetry's listeners are marked `direct_safe`: `Prepared` statements still skip `Connection`."""
    from sqlmodel_production.db._driver import on_driver
    from sqlmodel_production.demo.models import Hero

    served = serve()
    served.client.get("/heroes/")
    engine = _engine(served, target)
    import sqlalchemy as sa

    statement = Prepared(sa.select(Hero.id))  # type: ignore[call-overload]
    assert on_driver(statement, engine, {}) is not None  # type: ignore[arg-type]


def test_a_conflict_is_an_event_on_the_request_span_and_an_error_on_the_statement(
    target: Target, serve: Callable[..., Served]
) -> None:
    served = serve()
    body = {"name": "Z-Force", "headquarters": "Bar"}
    assert served.client.post("/teams/", json=body).status_code == 200
    served.spans.clear()
    assert served.client.post("/teams/", json=body).status_code == 409

    spans = served.finished()
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.name == "POST /teams/"
    (event,) = [e for e in server.events if e.name == "sqlmodel_production.db_error"]
    assert event.attributes is not None
    assert event.attributes["error.type"] == "unique_violation"
    assert event.attributes["http.response.status_code"] == 409
    failed = [
        s
        for s in spans
        if s.kind is SpanKind.CLIENT and s.status.status_code is StatusCode.ERROR
    ]
    assert [s.name for s in failed] == ["INSERT team"]
    assert (failed[0].attributes or {})["error.type"] == "unique_violation"
    (point,) = served.points("sqlmodel_production.db.errors")
    assert dict(point.attributes) == {
        "error.type": "unique_violation",
        "http.response.status_code": 409,
    }
    assert point.value == 1


def test_the_caller_s_trace_continues(
    target: Target, serve: Callable[..., Served]
) -> None:
    served = serve()
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    served.client.get(
        "/teams/", headers={"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"}
    )
    (server,) = [s for s in served.finished() if s.kind is SpanKind.SERVER]
    assert format(server.context.trace_id, "032x") == trace_id
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == "b7ad6b7169203331"


@pytest.mark.only(Backend.SQLITE)
def test_a_retry_is_an_event_and_a_count(
    target: Target, serve: Callable[..., Served]
) -> None:
    """SQLite says "database is locked" while another writer holds the lock: retried, then a 503."""
    served = serve(sqlite_busy_timeout=0)
    path = served.database.engine.url.database
    assert path is not None
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        answer = served.client.post("/teams/", json={"name": "T", "headquarters": "h"})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert answer.status_code == 503
    (server,) = [s for s in served.finished() if s.kind is SpanKind.SERVER]
    retries = [e for e in server.events if e.name == "sqlmodel_production.retry"]
    outcomes = [dict(e.attributes or {}) for e in retries]
    assert [o["sqlmodel_production.attempt"] for o in outcomes] == [1, 2, 3, 4, 5]
    assert {o["error.type"] for o in outcomes} == {"database_locked"}
    assert [o["sqlmodel_production.outcome"] for o in outcomes][-1] == "gave_up"
    counted = {
        point.attributes["outcome"]: point.value
        for point in served.points("sqlmodel_production.transaction.retries")
    }
    assert counted == {"retried": 4, "gave_up": 1}
    assert server.status.status_code is StatusCode.ERROR


def test_no_client_spans_under_a_request_the_sampler_dropped(
    target: Target, serve: Callable[..., Served]
) -> None:
    """At a sampling rate below 1, an unsampled request costs no span per statement; metrics still count."""
    served = serve(sampler=ParentBased(TraceIdRatioBased(0.0)))
    assert served.client.get("/heroes/").status_code == 200
    assert served.finished() == []
    assert served.points("db.client.operation.duration")
    assert served.points("http.server.request.duration")


def test_json_logs_carry_the_trace_and_span_ids(
    target: Target, serve: Callable[..., Served]
) -> None:
    """The slow-statement log, in JSON, names the request's trace and span."""
    served = serve()
    engine = _engine(served, target)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("tests.telemetry.slow")
    log.addHandler(handler)
    log.propagate = False
    remove = log_slow_queries(engine, 0.0, log=log)  # type: ignore[arg-type]
    try:
        served.client.get("/heroes/")
    finally:
        remove()
        log.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "no slow-statement line"
    (server,) = [s for s in served.finished() if s.kind is SpanKind.SERVER]
    for line in lines:
        assert line["trace_id"] == format(server.context.trace_id, "032x")
        assert len(line["span_id"]) == 16
        assert line["level"] == "WARNING"
        assert "fingerprint" in line and "duration" in line


def test_the_suppression_key_is_opentelemetry_s() -> None:
    """Pins the private key asyncpg's and SQLAlchemy's instrumentations check."""
    assert _SUPPRESS is opentelemetry.context._SUPPRESS_INSTRUMENTATION_KEY
    token = opentelemetry.context.attach(
        opentelemetry.context.set_value(_SUPPRESS, True)
    )
    try:
        assert opentelemetry.context.get_value("suppress_instrumentation") is None
        assert opentelemetry.context.get_value(_SUPPRESS) is True
    finally:
        opentelemetry.context.detach(token)


@pytest.mark.only(Backend.SQLITE)
def test_a_starlette_app_gets_the_package_s_middleware(
    target: Target, database: Database
) -> None:
    """Without FastAPI's own telemetry (Starlette, FastAPI before 0.165), a middleware of the package's does its work."""
    import sqlalchemy as sa
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    def item(request: Request) -> JSONResponse:
        with database.engine.connect() as conn:
            value = conn.execute(sa.text("SELECT 1")).scalar_one()
        return JSONResponse({"id": request.path_params["item_id"], "one": value})

    app = Starlette(routes=[Route("/items/{item_id}", item)])
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    telemetry = instrument(
        app, database, tracer_provider=provider, metric_readers=[reader]
    )
    try:
        with TestClient(app) as client:
            assert client.get("/items/7").status_code == 200
    finally:
        telemetry.shutdown()
    finished = spans.get_finished_spans()
    (server,) = [s for s in finished if s.kind is SpanKind.SERVER]
    assert server.name == "GET /items/{item_id}"
    (statement,) = [s for s in finished if s.name == "SELECT"]
    assert statement.kind is SpanKind.CLIENT
    assert statement.parent is not None
    assert statement.parent.span_id == server.context.span_id
    data = reader.get_metrics_data()
    assert data is not None
    (duration,) = [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "http.server.request.duration"
        for point in metric.data.data_points
    ]
    assert dict(duration.attributes) == {
        "http.request.method": "GET",
        "http.route": "/items/{item_id}",
        "http.response.status_code": 200,
        "url.scheme": "http",
    }


def test_with_fastapi_s_operation_spans_the_request_span_is_fastapi_s(
    target: Target, serve: Callable[..., Served]
) -> None:
    """FastAPI's operation spans hang under FastAPI's own request span: the package then starts none."""
    served = serve(options={"operation_spans": True})
    client = served.client
    hero = client.post("/heroes/", json={"name": "Rusty", "secret_name": "s"}).json()
    served.spans.clear()
    assert client.get(f"/heroes/{hero['id']}").status_code == 200
    spans = served.finished()
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.name == "GET /heroes/{hero_id}"
    assert server.instrumentation_scope is not None
    assert server.instrumentation_scope.name == "fastapi"
    (read,) = [s for s in spans if s.name == "SELECT hero"]
    assert read.context.trace_id == server.context.trace_id
    durations = [
        p
        for p in served.points("http.server.request.duration")
        if p.attributes.get("http.route") == "/heroes/{hero_id}"
    ]
    assert [p.count for p in durations] == [1]  # measured once, by the package


def test_other_instrumentations_are_told_to_stay_quiet_during_a_statement(
    target: Target, serve: Callable[..., Served]
) -> None:
    """While a statement runs under the package's span, OpenTelemetry's "suppress instrumentation"
    key is set: asyncpg's and SQLAlchemy's instrumentations check it (`is_instrumentation_enabled`)
    and add no second span. Checked by hand with opentelemetry-instrumentation-asyncpg and
    -sqlalchemy 0.66b1, which pin another semantic-conventions release than the SDK here."""
    served = serve()
    engine = _engine(served, target)
    seen: list[object] = []
    with each_statement(
        engine, lambda _: seen.append(opentelemetry.context.get_value(_SUPPRESS))
    ):
        served.client.get("/heroes/")
    assert seen and all(value is True for value in seen)
    assert opentelemetry.context.get_value(_SUPPRESS) is None  # detached after each one
    assert [s for s in served.finished() if s.kind is SpanKind.CLIENT]


def test_sql_comments_carry_the_statement_s_trace_context(
    target: Target, serve: Callable[..., Served]
) -> None:
    """sqlcommenter: the statement the server receives names its span; it still runs."""
    served = serve(options={"sql_comments": True})
    hero = served.client.post("/heroes/", json={"name": "A", "secret_name": "s"}).json()
    engine = _engine(served, target)
    sent: list[str] = []
    served.spans.clear()
    with each_statement(engine, sent.append):
        assert served.client.get(f"/heroes/{hero['id']}").json()["name"] == "A"
    (read,) = [s for s in served.finished() if s.name == "SELECT hero"]
    expected = (
        f"/*traceparent='00-{read.context.trace_id:032x}-{read.context.span_id:016x}-"
    )
    last = [sql for sql in sent if sql.startswith("SELECT")][-1]
    assert expected in last
    flags = int(last.rsplit("-", 1)[1].removesuffix("'*/"), 16)
    assert flags & 0x01  # sampled
