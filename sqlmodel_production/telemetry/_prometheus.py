"""The metrics in Prometheus' text format, with Prometheus' own name where the translation gives a reserved one.

OpenTelemetry's Prometheus exporter names a metric as the compatibility
specification says: dots become underscores, a unit in braces (`{connection}`)
is dropped, counters get `_total`, and an up-down counter is a gauge with no
suffix. The semantic conventions name the pool's connection count
`db.client.connection.count`, an up-down counter; translated, it becomes the
gauge `db_client_connection_count`, and Prometheus reserves `_count` for the
series of histograms and summaries (`promtool check metrics`: "non-histogram
and non-summary metrics should not have `_count` suffix"; a gauge counting
things is named after the things, in the plural).

So on `/metrics` alone it is `db_client_connections`, its help text naming the
OpenTelemetry metric it is; OTLP and every other reader keep the conventions'
name. `PROMETHEUS_NAMES` lists every such rename.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric

__all__ = ["PROMETHEUS_NAMES", "prometheus_reader"]

PROMETHEUS_NAMES = {"db.client.connection.count": "db_client_connections"}
"""OpenTelemetry metric -> its name on `/metrics`, where the translated name is one Prometheus reserves."""

_TRANSLATED = {"db.client.connection.count": "db_client_connection_count"}
"""What the exporter makes of each renamed metric (dots to underscores, no unit in braces)."""


def prometheus_reader(registry: CollectorRegistry) -> PrometheusMetricReader:
    """A metric reader whose metrics `registry` serves, under `PROMETHEUS_NAMES` where they apply."""
    translated = CollectorRegistry(auto_describe=False)
    reader = PrometheusMetricReader(registry=translated)
    registry.register(
        _Renamed(
            translated,
            {
                _TRANSLATED[otel]: (name, otel)
                for otel, name in PROMETHEUS_NAMES.items()
            },
        )
    )
    return reader


class _Renamed:
    """A `prometheus_client` collector: another registry's metrics, some renamed."""

    def __init__(
        self, source: CollectorRegistry, names: Mapping[str, tuple[str, str]]
    ) -> None:
        self.source = source
        self.names = names

    def describe(self) -> list[Metric]:
        # Nothing to check at registration: collecting then would collect the
        # meter provider before it exists.
        return []

    def collect(self) -> Iterator[Metric]:
        for family in self.source.collect():
            found = self.names.get(family.name)
            if found is None:
                yield family
                continue
            name, otel = found
            renamed = Metric(
                name, f"{family.documentation} (OpenTelemetry: {otel})", family.type
            )
            renamed.samples = [
                sample._replace(name=name + sample.name[len(family.name) :])
                for sample in family.samples
            ]
            yield renamed
