"""The package's histograms: what every reader of the meter provider collects from them.

No database here: these are the aggregation and its hand-over to the SDK's
readers (an in-memory one, with each temporality, and Prometheus' text).
"""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client import CollectorRegistry, generate_latest

from sqlmodel_production.telemetry import _histograms
from sqlmodel_production.telemetry._histograms import Histograms
from sqlmodel_production.telemetry._prometheus import prometheus_reader

BOUNDS = (0.01, 0.1, 1.0)


def _setup(
    temporality: AggregationTemporality = AggregationTemporality.CUMULATIVE,
) -> tuple[InMemoryMetricReader, Any, MeterProvider]:
    reader = InMemoryMetricReader(preferred_temporality={Histogram: temporality})
    resource = Resource.create({"service.name": "heroes"})
    provider = MeterProvider(metric_readers=[reader], resource=resource)
    provider.get_meter("sqlmodel_production").create_counter("other").add(1)
    histograms = Histograms(InstrumentationScope("sqlmodel_production"), resource)
    histograms.attach([reader])
    duration = histograms.histogram(
        "op.duration", unit="s", description="How long.", boundaries=BOUNDS
    )
    return reader, duration, provider


def _points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    data = reader.get_metrics_data()
    assert data is not None
    return [
        (scope.scope.name, metric, point)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
    ]


def test_values_are_counted_per_attribute_set_beside_the_sdk_s_own_metrics() -> None:
    reader, duration, provider = _setup()
    select = duration.bind({"db.operation.name": "SELECT"})
    assert duration.bind({"db.operation.name": "SELECT"}) is select
    for value in (0.005, 0.05, 0.05, 2.0):
        select.record(value)
    duration.bind({"db.operation.name": "INSERT"}).record(0.1)
    points = {
        point.attributes["db.operation.name"]: (scope, metric, point)
        for scope, metric, point in _points(reader, "op.duration")
    }
    scope, metric, point = points["SELECT"]
    assert scope == "sqlmodel_production"
    assert (metric.unit, metric.description) == ("s", "How long.")
    assert metric.data.aggregation_temporality is AggregationTemporality.CUMULATIVE
    assert point.count == 4 and point.sum == pytest.approx(2.105)
    assert list(point.bucket_counts) == [1, 2, 0, 1]
    assert tuple(point.explicit_bounds) == BOUNDS
    assert (point.min, point.max) == (0.005, 2.0)
    assert list(points["INSERT"][2].bucket_counts) == [0, 1, 0, 0]  # le: 0.1 holds 0.1
    # The SDK's own metric of the same scope is still there, in the same scope.
    assert [scope for scope, _, _ in _points(reader, "other")] == [
        "sqlmodel_production"
    ]
    provider.shutdown()


def test_cumulative_points_keep_counting_and_delta_points_give_what_is_new() -> None:
    for temporality, second in (
        (AggregationTemporality.CUMULATIVE, 3),
        (AggregationTemporality.DELTA, 1),
    ):
        reader, duration, provider = _setup(temporality)
        recorder = duration.bind({})
        recorder.record(0.5)
        recorder.record(0.5)
        ((_, _, first),) = _points(reader, "op.duration")
        assert first.count == 2
        recorder.record(0.5)
        ((_, metric, point),) = _points(reader, "op.duration")
        assert metric.data.aggregation_temporality is temporality
        assert point.count == second, temporality
        assert point.sum == pytest.approx(0.5 * second)
        if temporality is AggregationTemporality.DELTA:
            assert point.start_time_unix_nano == first.time_unix_nano
            assert _points(reader, "op.duration") == []  # nothing new, no point
        provider.shutdown()


def test_attribute_sets_past_the_limit_share_the_overflow_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_histograms, "CARDINALITY_LIMIT", 2)
    reader, duration, provider = _setup()
    for n in range(5):
        duration.bind({"n": n}).record(0.5)
    counts = {
        tuple(sorted(point.attributes.items())): point.count
        for _, _, point in _points(reader, "op.duration")
    }
    assert counts == {
        (("n", 0),): 1,
        (("n", 1),): 1,
        (("otel.metric.overflow", True),): 3,
    }
    provider.shutdown()


def test_prometheus_sees_them_as_histograms() -> None:
    registry = CollectorRegistry(auto_describe=True)
    reader = prometheus_reader(registry)
    resource = Resource.create({})
    provider = MeterProvider(metric_readers=[reader], resource=resource)
    histograms = Histograms(InstrumentationScope("sqlmodel_production"), resource)
    histograms.attach([reader])
    duration = histograms.histogram(
        "op.duration", unit="s", description="How long.", boundaries=BOUNDS
    )
    duration.bind({"db.operation.name": "SELECT"}).record(0.05)
    text = generate_latest(registry).decode()
    assert "# TYPE op_duration_seconds histogram" in text
    assert (
        'op_duration_seconds_bucket{db_operation_name="SELECT",le="0.1",'
        'otel_scope_name="sqlmodel_production"'
    ) in text
    provider.shutdown()
