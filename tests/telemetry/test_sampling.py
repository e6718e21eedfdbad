"""Sampling: the share of new traces the ratio says, whole traces for the sampled ones, the caller's decision kept.

A request without a caller's trace context is decided by its new trace id before
the SDK makes any span (`telemetry/_sampling.py`); these tests hold that decision
to the SDK's own and to the specification's samplers, on every target.
"""

from __future__ import annotations

import io
import json
import logging
import random
from collections.abc import Callable

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, StatusCode

from sqlmodel_production.db import Backend
from sqlmodel_production.diagnostics import log_slow_queries
from sqlmodel_production.telemetry import JsonFormatter
from sqlmodel_production.telemetry._sampling import RequestSampling
from tests.conftest import Target
from tests.telemetry.conftest import Served, each_statement

LOW_64 = (1 << 64) - 1


def _servers(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if s.kind is SpanKind.SERVER]


def _traceparent(sampled: bool) -> str:
    trace_id = random.getrandbits(128) or 1
    return f"00-{trace_id:032x}-b7ad6b7169203331-{'01' if sampled else '00'}"


def _assert_whole(served: Served, server: ReadableSpan) -> None:
    """The request's span and a client span per statement under it, with their attributes."""
    assert server.name == "GET /heroes/{hero_id}"
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/heroes/{hero_id}"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["url.path"].startswith("/heroes/")
    children = [
        s
        for s in served.finished()
        if s.parent is not None and s.parent.span_id == server.context.span_id
    ]
    (read,) = [s for s in children if s.name == "SELECT hero"]
    assert read.kind is SpanKind.CLIENT
    assert read.context.trace_id == server.context.trace_id
    assert read.context.trace_flags.sampled
    attributes = dict(read.attributes or {})
    assert attributes["db.operation.name"] == "SELECT"
    assert attributes["db.collection.name"] == "hero"
    assert attributes["sqlmodel_production.db.node"] == "primary"
    assert "db.system.name" in attributes


def test_a_tenth_of_new_traces_is_sampled_and_each_one_whole(
    target: Target, serve: Callable[..., Served]
) -> None:
    sampler = TraceIdRatioBased(0.1)
    served = serve(sampler=ParentBased(sampler))
    hero = served.client.post("/heroes/", json={"name": "A", "secret_name": "s"}).json()
    served.spans.clear()
    random.seed(21)
    for _ in range(300):
        assert served.client.get(f"/heroes/{hero['id']}").status_code == 200
    servers = _servers(served.finished())
    # Binomial(300, 0.1): 30 on average, 14 to 46 within three standard deviations.
    assert 14 <= len(servers) <= 46, len(servers)
    for server in servers:
        assert server.context.trace_id & LOW_64 < sampler.bound
        _assert_whole(served, server)
    clients = [s for s in served.finished() if s.kind is SpanKind.CLIENT]
    roots = {s.context.span_id for s in servers}
    assert all(s.parent is not None and s.parent.span_id in roots for s in clients)
    # Every request is measured, sampled or not.
    durations = [
        p
        for p in served.points("http.server.request.duration")
        if p.attributes.get("http.route") == "/heroes/{hero_id}"
    ]
    assert sum(p.count for p in durations) == 300


@pytest.mark.only(Backend.SQLITE)
def test_each_new_trace_is_decided_as_the_sdk_decides_it(
    target: Target, serve: Callable[..., Served]
) -> None:
    """Every request's trace id, seen from inside it, is sampled exactly when the SDK's sampler says so."""
    sampler = ParentBased(TraceIdRatioBased(0.25))
    served = serve(sampler=sampler)
    provider = served.telemetry.tracer_provider
    assert provider is not None
    tracer = provider.get_tracer("tests.user")
    seen: dict[int, tuple[int, bool]] = {}

    def look(_: str) -> None:
        context = trace.get_current_span().get_span_context()
        with tracer.start_as_current_span("user work") as mine:
            seen[context.trace_id] = (int(context.trace_flags), mine.is_recording())

    database = served.database
    engine = database.async_engine.sync_engine if target.async_ else database.engine
    random.seed(7)
    with each_statement(engine, look):
        for _ in range(200):
            assert served.client.get("/heroes/").status_code == 200
    assert len(seen) == 200  # a new trace per request
    recorded = {s.context.trace_id for s in _servers(served.finished())}
    for trace_id, (flags, recording) in seen.items():
        expected = sampler.should_sample(None, trace_id, "GET").decision.is_sampled()
        assert bool(flags & 0x01) is expected
        assert (trace_id in recorded) is expected
        assert (
            recording is expected
        )  # a span of the user's follows the request's decision
    assert 25 <= len(recorded) <= 75  # Binomial(200, 0.25): 50 on average


def test_a_caller_s_sampled_traceparent_is_always_honoured(
    target: Target, serve: Callable[..., Served]
) -> None:
    served = serve(sampler=ParentBased(TraceIdRatioBased(0.0)))
    hero = served.client.post("/heroes/", json={"name": "A", "secret_name": "s"}).json()
    random.seed(3)
    parents = [_traceparent(sampled=True) for _ in range(10)]
    for parent in parents:
        answer = served.client.get(
            f"/heroes/{hero['id']}", headers={"traceparent": parent}
        )
        assert answer.status_code == 200
    servers = _servers(served.finished())
    assert [f"{s.context.trace_id:032x}" for s in servers] == [
        p.split("-")[1] for p in parents
    ]
    for server in servers:
        assert server.parent is not None and server.parent.is_remote
        assert f"{server.parent.span_id:016x}" == "b7ad6b7169203331"
        _assert_whole(served, server)


def test_a_caller_s_unsampled_traceparent_is_never_recorded(
    target: Target, serve: Callable[..., Served]
) -> None:
    served = serve(sampler=ParentBased(TraceIdRatioBased(1.0)))
    hero = served.client.post("/heroes/", json={"name": "A", "secret_name": "s"}).json()
    served.spans.clear()
    random.seed(4)
    for _ in range(10):
        answer = served.client.get(
            f"/heroes/{hero['id']}", headers={"traceparent": _traceparent(False)}
        )
        assert answer.status_code == 200
    assert served.finished() == []
    assert served.points("db.client.operation.duration")


# (OTEL_TRACES_SAMPLER, its argument, the caller's traceparent flag or none, recorded?)
SAMPLERS = [
    ("always_on", None, None, True),
    ("always_on", None, False, True),
    ("always_off", None, None, False),
    ("always_off", None, True, False),
    ("traceidratio", "1.0", None, True),
    ("traceidratio", "1.0", False, True),  # not parent-based: the ratio alone
    ("traceidratio", "0.0", None, False),
    ("traceidratio", "0.0", True, False),
    ("parentbased_always_on", None, None, True),
    ("parentbased_always_on", None, False, False),
    ("parentbased_always_off", None, None, False),
    ("parentbased_always_off", None, True, True),
    ("parentbased_traceidratio", "0.0", None, False),
    ("parentbased_traceidratio", "0.0", True, True),
    ("parentbased_traceidratio", "1.0", None, True),
    ("parentbased_traceidratio", "1.0", False, False),
]
DECIDED_BEFORE_THE_SDK = {
    "always_off",
    "traceidratio",
    "parentbased_always_off",
    "parentbased_traceidratio",
}


@pytest.mark.only(Backend.SQLITE)
@pytest.mark.parametrize(("name", "argument", "parent", "recorded"), SAMPLERS)
def test_the_sampler_variables_behave_as_the_specification_says(
    target: Target,
    serve: Callable[..., Served],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    argument: str | None,
    parent: bool | None,
    recorded: bool,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", name)
    if argument is None:
        monkeypatch.delenv("OTEL_TRACES_SAMPLER_ARG", raising=False)
    else:
        monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", argument)
    served = serve()  # the tracer provider's sampler from the environment
    tracer = served.telemetry.tracer
    assert tracer is not None
    assert (RequestSampling.of(tracer) is not None) is (name in DECIDED_BEFORE_THE_SDK)
    hero = served.client.post("/heroes/", json={"name": "A", "secret_name": "s"}).json()
    served.spans.clear()
    headers = {} if parent is None else {"traceparent": _traceparent(parent)}
    assert (
        served.client.get(f"/heroes/{hero['id']}", headers=headers).status_code == 200
    )
    servers = _servers(served.finished())
    assert len(servers) == (1 if recorded else 0)
    if recorded:
        _assert_whole(served, servers[0])
    else:
        assert served.finished() == []


def test_json_logs_of_a_dropped_request_carry_its_trace_id(
    target: Target, serve: Callable[..., Served]
) -> None:
    """A request the sampler dropped still has a trace id: its log lines share it, marked not sampled."""
    served = serve(sampler=ParentBased(TraceIdRatioBased(0.0)))
    hero = served.client.post("/heroes/", json={"name": "A", "secret_name": "s"}).json()
    database = served.database
    engine = database.async_engine.sync_engine if target.async_ else database.engine
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("tests.telemetry.dropped")
    log.addHandler(handler)
    log.propagate = False
    remove = log_slow_queries(engine, 0.0, log=log)
    try:
        per_request = []
        for _ in range(2):
            stream.seek(0)
            stream.truncate()
            served.client.get(f"/heroes/{hero['id']}")
            per_request.append(
                [json.loads(line) for line in stream.getvalue().splitlines()]
            )
    finally:
        remove()
        log.removeHandler(handler)
    ids = []
    for lines in per_request:
        assert lines, "no slow-statement line"
        assert len({line["trace_id"] for line in lines}) == 1
        assert all(not line["trace_flags"] & 0x01 for line in lines)
        assert all(len(line["trace_id"]) == 32 for line in lines)
        ids.append(lines[0]["trace_id"])
    assert ids[0] != ids[1]
    assert served.finished() == []


def test_a_sampled_new_trace_carries_events_errors_and_sql_comments(
    target: Target, serve: Callable[..., Served]
) -> None:
    """The spans made without asking the sampler again take events, errors and attributes as the SDK's do."""

    served = serve(
        sampler=ParentBased(TraceIdRatioBased(1.0)), options={"sql_comments": True}
    )
    assert served.telemetry.tracer is not None
    assert RequestSampling.of(served.telemetry.tracer) is not None
    body = {"name": "Z-Force", "headquarters": "Bar"}
    assert served.client.post("/teams/", json=body).status_code == 200
    database = served.database
    engine = database.async_engine.sync_engine if target.async_ else database.engine
    sent: list[str] = []
    served.spans.clear()
    with each_statement(engine, sent.append):
        assert served.client.post("/teams/", json=body).status_code == 409
    spans = served.finished()
    (server,) = _servers(spans)
    assert server.name == "POST /teams/"
    (event,) = [e for e in server.events if e.name == "sqlmodel_production.db_error"]
    assert (event.attributes or {})["error.type"] == "unique_violation"
    (failed,) = [s for s in spans if s.status.status_code is StatusCode.ERROR]
    assert failed.name == "INSERT team"
    assert (failed.attributes or {})["error.type"] == "unique_violation"
    assert failed.parent is not None
    assert failed.parent.span_id == server.context.span_id
    comment = f"/*traceparent='00-{failed.context.trace_id:032x}-{failed.context.span_id:016x}-"
    assert any(comment in sql for sql in sent)
