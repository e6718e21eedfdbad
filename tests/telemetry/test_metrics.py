"""Metrics: semantic-convention names and units, the package's own, and `/metrics` for Prometheus.

On every target; the pool-timeout test on each backend's sync driver (the test holds
the only connection of the app's pool).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from sqlmodel_production import Database
from sqlmodel_production.db import Backend
from sqlmodel_production.demo.app import create_app
from sqlmodel_production.telemetry import instrument
from tests.conftest import Target
from tests.demo.conftest import create_tables, drop_tables
from tests.telemetry._promtool import check_with_promtool
from tests.telemetry.conftest import Served


def _load(served: Served) -> None:
    client = served.client
    team = client.post("/teams/", json={"name": "T", "headquarters": "h"}).json()
    hero = client.post(
        "/heroes/", json={"name": "A", "secret_name": "s", "team_id": team["id"]}
    ).json()
    assert client.get(f"/heroes/{hero['id']}").status_code == 200
    assert client.get("/heroes/", params={"limit": 5}).status_code == 200
    assert client.get("/heroes/999999").status_code == 404
    assert client.patch(f"/heroes/{hero['id']}", json={"age": 3}).status_code == 200


def test_requests_are_measured_by_route_method_and_status(
    target: Target, serve: Callable[..., Served]
) -> None:
    served = serve()
    _load(served)
    seen = {
        (
            p.attributes["http.request.method"],
            p.attributes.get("http.route"),
            p.attributes["http.response.status_code"],
        ): p.count
        for p in served.points("http.server.request.duration")
    }
    assert seen[("GET", "/heroes/{hero_id}", 200)] == 1
    assert seen[("GET", "/heroes/{hero_id}", 404)] == 1
    assert seen[("GET", "/heroes/", 200)] == 1
    assert seen[("POST", "/teams/", 200)] == 1
    assert seen[("PATCH", "/heroes/{hero_id}", 200)] == 1
    active = {
        (p.attributes["http.request.method"], p.attributes["url.scheme"]): p.value
        for p in served.points("http.server.active_requests")
    }
    assert active == {("GET", "http"): 0, ("POST", "http"): 0, ("PATCH", "http"): 0}


def test_statements_and_pools_are_measured(
    target: Target, serve: Callable[..., Served]
) -> None:
    served = serve(pool_size=3, max_overflow=2)
    _load(served)
    pool = "primary-async" if target.async_ else "primary"
    statements = served.points("db.client.operation.duration")
    selects = [
        p
        for p in statements
        if p.attributes["db.operation.name"] == "SELECT"
        and p.attributes.get("db.collection.name") == "hero"
    ]
    assert selects, sorted(str(dict(p.attributes)) for p in statements)
    for point in selects:
        assert point.attributes["db.client.connection.pool.name"] == pool
        assert point.attributes["db.system.name"] in ("sqlite", "postgresql", "mariadb")
        assert point.count >= 1 and point.sum > 0
    counts = {
        (
            p.attributes["db.client.connection.pool.name"],
            p.attributes["db.client.connection.state"],
        ): p.value
        for p in served.points("db.client.connection.count")
    }
    assert counts[(pool, "used")] == 0  # between requests every connection is back
    assert counts[(pool, "idle")] >= 1
    (maximum,) = [
        p
        for p in served.points("db.client.connection.max")
        if p.attributes["db.client.connection.pool.name"] == pool
    ]
    assert maximum.value == 5
    waits = [
        p
        for p in served.points("db.client.connection.wait_time")
        if p.attributes["db.client.connection.pool.name"] == pool
    ]
    assert waits and waits[0].count >= 4
    timeouts = {
        p.attributes["db.client.connection.pool.name"]: p.value
        for p in served.points("db.client.connection.timeouts")
    }
    assert timeouts[pool] == 0  # present from the start, so that rate() works


def test_metrics_in_prometheus_text_format(
    target: Target, serve: Callable[..., Served]
) -> None:
    served = serve()
    _load(served)
    answer = served.client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = answer.text
    for name in (
        "http_server_request_duration_seconds_bucket",
        "db_client_operation_duration_seconds_bucket",
        "db_client_connections",
        "db_client_connection_max",
        "db_client_connection_wait_time_seconds_bucket",
        "db_client_connection_timeouts_total",
    ):
        assert f"\n{name}{{" in text, name
    assert 'http_route="/heroes/{hero_id}"' in text
    # The conventions' `db.client.connection.count`, under the name Prometheus allows a gauge.
    assert "\n# TYPE db_client_connections gauge\n" in text
    assert "(OpenTelemetry: db.client.connection.count)" in text
    assert "db_client_connection_count" not in text
    # The scrape itself is neither traced nor measured.
    assert 'http_route="/metrics"' not in served.client.get("/metrics").text
    check_with_promtool(text)


def test_a_checkout_that_times_out_is_counted(
    backend: Backend, make_database: Callable[..., Database]
) -> None:
    """One connection in the pool, held by the test: the app's checkout waits, times out, answers 503."""
    database = make_database(pool_size=1, max_overflow=0, pool_timeout=0.2)
    if (
        backend is Backend.SQLITE
        and database.engine.pool.__class__.__name__ != "QueuePool"
    ):
        pytest.fail("the SQLite file database has no queue pool")
    create_tables(database)
    app = create_app(database, async_=False, telemetry=False)
    reader = InMemoryMetricReader()
    telemetry = instrument(app, database, metric_readers=[reader])
    try:
        with TestClient(app) as client:
            held = database.engine.raw_connection()
            try:
                answer = client.post("/teams/", json={"name": "T", "headquarters": "h"})
            finally:
                held.close()
        assert answer.status_code == 503
        assert answer.json()["code"] == "pool_timeout"
        data = reader.get_metrics_data()
        points = {
            metric.name: list(metric.data.data_points)
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        }

        def of_primary(name: str) -> object:
            (point,) = [
                p
                for p in points[name]
                if p.attributes["db.client.connection.pool.name"] == "primary"
            ]
            return point

        assert of_primary("db.client.connection.timeouts").value == 1  # type: ignore[attr-defined]
        assert of_primary("db.client.connection.wait_time").max >= 0.2  # type: ignore[attr-defined]
    finally:
        telemetry.shutdown()
        drop_tables(database)


def test_nothing_changes_without_instrument(target: Target, database: Database) -> None:
    """An app built without telemetry has no /metrics and its engines no telemetry listeners."""
    create_tables(database)
    app = create_app(database, async_=target.async_, telemetry=False)
    try:
        with TestClient(app) as client:
            assert client.get("/metrics").status_code == 404
        engine = database.async_engine.sync_engine if target.async_ else database.engine
        assert not [
            fn
            for fn in engine.dispatch.before_cursor_execute
            if fn.__module__.startswith("sqlmodel_production.telemetry")
        ]
    finally:
        drop_tables(database)
        asyncio.run(database.dispose())


_WITHOUT_OPENTELEMETRY = """
import sys
from fastapi.testclient import TestClient
from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.demo.app import create_app
from sqlmodel_production.demo.sample_data import create_tables

database = Database(DatabaseSettings(_env_file=None, database_url=sys.argv[1]))
create_tables(database)
with TestClient(create_app(database)) as client:
    assert client.get("/heroes/").status_code == 200
    assert client.get("/metrics").status_code == 404
loaded = sorted(
    m
    for m, module in sys.modules.items()
    if module is not None and m.startswith(("opentelemetry.sdk", "opentelemetry.exporter", "prometheus_client"))
)
assert loaded == [], loaded
"""


def test_without_the_extra_the_demo_imports_no_opentelemetry(tmp_path: Path) -> None:
    """The extra uninstalled (its modules made unimportable): the demo serves as before, without /metrics.

    (opentelemetry-api itself is a dependency of FastAPI 0.165, for its own telemetry.)
    """
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "for name in ('opentelemetry.sdk', 'opentelemetry.exporter', 'prometheus_client'):\n"
        "    sys.modules[name] = None\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_OPENTELEMETRY, f"sqlite:///{tmp_path / 'db'}"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_statements_from_the_threshold_on_count_as_slow(
    target: Target, serve: Callable[..., Served]
) -> None:
    served = serve(options={"slow_threshold": 0.0})
    served.client.get("/heroes/")
    slow = [
        p
        for p in served.points("sqlmodel_production.db.slow_statements")
        if p.attributes.get("db.collection.name") == "hero"
    ]
    assert [p.attributes["db.operation.name"] for p in slow] == ["SELECT"]
    assert slow[0].value == 1


def test_an_engine_made_again_after_dispose_replaces_the_old_one(
    target: Target, serve: Callable[..., Served]
) -> None:
    """The pool metrics follow the engines a `Database` makes again after `dispose()`."""
    served = serve()
    served.client.get("/heroes/")
    asyncio.run(served.database.dispose())
    served.client.get("/heroes/")
    pool = "primary-async" if target.async_ else "primary"
    states = [
        p.attributes["db.client.connection.state"]
        for p in served.points("db.client.connection.count")
        if p.attributes["db.client.connection.pool.name"] == pool
    ]
    assert sorted(states) == ["idle", "used"]
    assert (
        len([i for i in served.telemetry.engines.engines if i.pool_name == pool]) == 1
    )
