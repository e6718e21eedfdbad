"""Telemetry through PgBouncer (transaction mode) and with a streaming read replica, sync and async.

Which node served each statement is on its span and in the pool name of its metrics;
the replica's lag and whether it serves reads are metrics of their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from opentelemetry.trace import SpanKind

from sqlmodel_production.db import Backend, Pooler
from tests._topology import at_port, require
from tests.conftest import Target
from tests.telemetry._promtool import check_with_promtool
from tests.telemetry.conftest import Served

pytestmark = pytest.mark.only(Backend.POSTGRESQL)


def _client_spans(served: Served) -> list[dict[str, object]]:
    return [
        {"name": s.name, **dict(s.attributes or {})}
        for s in served.finished()
        if s.kind is SpanKind.CLIENT
    ]


def test_reads_on_the_replica_are_marked_and_its_lag_measured(
    target: Target, serve: Callable[..., Served], database_url: str
) -> None:
    require("replica")
    served = serve(database_replica_urls=[at_port(database_url, 5433)])
    client = served.client
    hero = client.post("/heroes/", json={"name": "A", "secret_name": "s"}).json()
    for _ in range(100):  # until the replica replayed the write
        if client.get(f"/heroes/{hero['id']}").status_code == 200:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the replica never showed the hero")
    served.spans.clear()
    assert client.get(f"/heroes/{hero['id']}").status_code == 200

    reads = [s for s in _client_spans(served) if s["name"] == "SELECT hero"]
    assert reads, _client_spans(served)
    for read in reads:
        assert read["sqlmodel_production.db.node"] == "replica"
        assert read["sqlmodel_production.db.replica"] == 0
        assert read["server.port"] == 5433
    suffix = "-async" if target.async_ else ""
    pools = {
        p.attributes["db.client.connection.pool.name"]
        for p in served.points("db.client.operation.duration")
    }
    assert {f"primary{suffix}", f"replica-0{suffix}"} <= pools
    (lag,) = served.points("sqlmodel_production.replica.lag")
    assert lag.attributes == {"sqlmodel_production.replica": "0"}
    assert 0 <= lag.value <= 5
    (usable,) = served.points("sqlmodel_production.replica.usable")
    assert usable.value == 1
    counts = {
        p.attributes["db.client.connection.pool.name"]
        for p in served.points("db.client.connection.count")
    }
    assert f"replica-0{suffix}" in counts
    text = served.client.get("/metrics").text
    assert "\nsqlmodel_production_replica_lag_seconds{" in text
    assert "\nsqlmodel_production_replica_usable{" in text
    check_with_promtool(text)


def test_through_pgbouncer_statements_and_pools_are_seen(
    target: Target, serve: Callable[..., Served], database_url: str
) -> None:
    require("pgbouncer")
    serve()  # creates the tables, on the server itself
    served = serve(
        create=False,
        database_url=at_port(database_url, 6432),
        database_pooler=Pooler.PGBOUNCER,
    )
    client = served.client
    hero = client.post("/heroes/", json={"name": "A", "secret_name": "s"}).json()
    served.spans.clear()
    assert client.get(f"/heroes/{hero['id']}").status_code == 200
    assert (
        client.post("/teams/", json={"name": "T", "headquarters": "h"}).status_code
        == 200
    )
    assert (
        client.post("/teams/", json={"name": "T", "headquarters": "h"}).status_code
        == 409
    )

    spans = _client_spans(served)
    assert {s["name"] for s in spans} >= {"SELECT hero", "INSERT team"}
    assert {s["server.port"] for s in spans} == {6432}
    servers = [s for s in served.finished() if s.kind is SpanKind.SERVER]
    assert [s.name for s in servers] == [
        "GET /heroes/{hero_id}",
        "POST /teams/",
        "POST /teams/",
    ]
    (error,) = served.points("sqlmodel_production.db.errors")
    assert error.attributes["error.type"] == "unique_violation"
    check_with_promtool(served.client.get("/metrics").text)
