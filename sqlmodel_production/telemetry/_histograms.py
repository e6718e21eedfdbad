"""Histograms that cost a few instructions per value, handed to every metric reader when it collects.

OpenTelemetry's SDK does a great deal for each `Histogram.record()`: it builds a
`Measurement`, validates and copies the attributes, hashes them into a sorted
key, asks the exemplar filter, takes two locks, for every reader. Measured on the
router, three or four such records a request (the request, its statements, its
checkout) cost more than the rest of the telemetry together. The package's
histograms are therefore kept here instead: each attribute set is bound once to
a `Recorder` (bucket counts, sum, min and max), a value costs one bisection and
four additions, and when a reader collects (a Prometheus scrape, an OTLP export,
an `InMemoryMetricReader`) the histograms are added to what the SDK collected,
as the SDK's own `HistogramDataPoint`s, with the reader's temporality.

What the SDK would add and these do not: Views (renames, other buckets) do not
apply to them, and they carry no exemplars. With a delta-temporality reader,
`min` and `max` are those since the start, not since the last export.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from time import time_ns
from typing import Any

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricReader,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from sqlmodel_production._compat import extend_metric_collection

__all__ = ["Histograms", "PreAggregatedHistogram", "Recorder"]

CARDINALITY_LIMIT = 2000
"""Attribute sets a histogram keeps apart, as the SDK's default; the rest share one overflow set."""
_OVERFLOW = {"otel.metric.overflow": True}
_OVERFLOW_KEY = (("otel.metric.overflow", True),)


class Recorder:
    """One histogram's values for one attribute set.

    Attributes:
        attributes: the attribute set, as readers see it.
        since: when the first value could arrive (ns), the start of a cumulative point.
    """

    __slots__ = (
        "_lock",
        "attributes",
        "bounds",
        "counts",
        "high",
        "low",
        "since",
        "total",
    )

    def __init__(
        self, attributes: Mapping[str, Any], bounds: tuple[float, ...]
    ) -> None:
        self.attributes = dict(attributes)
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0
        self.low = float("inf")
        self.high = float("-inf")
        self.since = time_ns()
        self._lock = threading.Lock()

    def record(self, value: float) -> None:
        """Count `value` (a non-negative number of the histogram's unit)."""
        index = bisect_left(self.bounds, value)
        with self._lock:  # sync endpoints record from the thread pool
            self.counts[index] += 1
            self.total += value
            if value < self.low:
                self.low = value
            if value > self.high:
                self.high = value

    def snapshot(self) -> tuple[list[int], float, float, float]:
        """The bucket counts, sum, min and max now."""
        with self._lock:
            return list(self.counts), self.total, self.low, self.high


class PreAggregatedHistogram:
    """A histogram of the package's: `bind()` an attribute set once, then `record()` on what it returns.

    Args:
        name, unit, description: as `Meter.create_histogram` takes them.
        boundaries: the explicit bucket boundaries.
    """

    def __init__(
        self, name: str, unit: str, description: str, boundaries: Sequence[float]
    ) -> None:
        self.name = name
        self.unit = unit
        self.description = description
        self.boundaries = tuple(boundaries)
        self._recorders: dict[tuple[tuple[str, Any], ...], Recorder] = {}
        self._lock = threading.Lock()

    def bind(self, attributes: Mapping[str, Any]) -> Recorder:
        """The recorder of `attributes` (made on first use); keep it, binding is the slow part."""
        key = tuple(sorted(attributes.items()))
        recorder = self._recorders.get(key)
        if recorder is not None:
            return recorder
        with self._lock:
            recorder = self._recorders.get(key)
            if recorder is None:
                if len(self._recorders) >= CARDINALITY_LIMIT:
                    key, attributes = _OVERFLOW_KEY, _OVERFLOW
                    recorder = self._recorders.get(key)
                if recorder is None:
                    recorder = self._recorders[key] = Recorder(
                        attributes, self.boundaries
                    )
        return recorder

    def points(
        self, temporality: AggregationTemporality, previous: dict[int, Any], now: int
    ) -> list[HistogramDataPoint]:
        """One data point per attribute set that has values (for delta: new values since `previous`)."""
        points = []
        for recorder in list(self._recorders.values()):
            counts, total, low, high = recorder.snapshot()
            start = recorder.since
            if temporality is AggregationTemporality.DELTA:
                before = previous.get(id(recorder))
                previous[id(recorder)] = (counts, total, now)
                if before is not None:
                    counts = [n - m for n, m in zip(counts, before[0], strict=True)]
                    total -= before[1]
                    start = before[2]
            count = sum(counts)
            if count == 0:
                continue
            points.append(
                HistogramDataPoint(
                    attributes=recorder.attributes,
                    start_time_unix_nano=start,
                    time_unix_nano=now,
                    count=count,
                    sum=total,
                    bucket_counts=counts,
                    explicit_bounds=self.boundaries,
                    min=low,
                    max=high,
                )
            )
        return points


class Histograms:
    """The package's histograms of one meter provider, added to each of its readers' collections.

    Args:
        scope: the instrumentation scope they are reported under (the package's meter's).
        resource: the meter provider's resource.
    """

    def __init__(self, scope: InstrumentationScope, resource: Resource) -> None:
        self.scope = scope
        self.resource = resource
        self._histograms: list[PreAggregatedHistogram] = []

    def histogram(
        self, name: str, *, unit: str, description: str, boundaries: Sequence[float]
    ) -> PreAggregatedHistogram:
        """A new histogram, reported to every reader attached."""
        histogram = PreAggregatedHistogram(name, unit, description, boundaries)
        self._histograms.append(histogram)
        return histogram

    def attach(self, readers: Sequence[MetricReader]) -> None:
        """Add the histograms to what each of `readers` (registered on the meter provider) collects."""
        for reader in readers:
            previous: dict[int, Any] = {}

            def extend(
                data: MetricsData | None,
                temporality: AggregationTemporality,
                previous: dict[int, Any] = previous,
            ) -> MetricsData | None:
                return self._extend(data, temporality, previous)

            extend_metric_collection(reader, extend)

    def _extend(
        self,
        data: MetricsData | None,
        temporality: AggregationTemporality,
        previous: dict[int, Any],
    ) -> MetricsData | None:
        now = time_ns()
        metrics = []
        for histogram in self._histograms:
            points = histogram.points(temporality, previous, now)
            if points:
                metrics.append(
                    Metric(
                        name=histogram.name,
                        description=histogram.description,
                        unit=histogram.unit,
                        data=Histogram(
                            data_points=points, aggregation_temporality=temporality
                        ),
                    )
                )
        if not metrics:
            return data
        return _merged(data, metrics, self.scope, self.resource)


def _merged(
    data: MetricsData | None,
    metrics: list[Metric],
    scope: InstrumentationScope,
    resource: Resource,
) -> MetricsData:
    """`data` with `metrics` added under `scope` (beside the SDK's own instruments of that scope)."""
    if data is None or not data.resource_metrics:
        return MetricsData(
            resource_metrics=[
                ResourceMetrics(
                    resource=resource,
                    scope_metrics=[ScopeMetrics(scope, metrics, schema_url="")],
                    schema_url="",
                )
            ]
        )
    first, *rest = data.resource_metrics
    scopes = list(first.scope_metrics)
    for index, found in enumerate(scopes):
        if found.scope.name == scope.name and found.scope.version == scope.version:
            scopes[index] = ScopeMetrics(
                found.scope, [*found.metrics, *metrics], found.schema_url
            )
            break
    else:
        scopes.append(ScopeMetrics(scope, metrics, schema_url=""))
    return MetricsData(
        resource_metrics=[
            ResourceMetrics(first.resource, scopes, first.schema_url),
            *rest,
        ]
    )
