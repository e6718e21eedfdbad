"""Tracer and meter providers from the standard `OTEL_*` environment variables.

Read here: `OTEL_SDK_DISABLED`, `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`
(the resource), `OTEL_TRACES_EXPORTER` and `OTEL_METRICS_EXPORTER` (`otlp`,
`console`, `none`; metrics also `prometheus`; comma-separated lists). Read by the
SDK itself: `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`,
`OTEL_EXPORTER_OTLP_ENDPOINT` and the other exporter settings,
`OTEL_METRIC_EXPORT_INTERVAL`.

One difference from the specification's defaults: with no exporter named, OTLP is
used only when an OTLP endpoint is set, so that a service started without a
collector does not log an export failure every few seconds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

__all__ = [
    "disabled",
    "exporters",
    "metric_readers_from_env",
    "resource",
    "tracer_provider_from_env",
]


def disabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether `OTEL_SDK_DISABLED` turns telemetry off."""
    return environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def exporters(signal: str, environ: Mapping[str, str] = os.environ) -> list[str]:
    """The exporters `OTEL_{signal}_EXPORTER` names (`signal`: `TRACES` or `METRICS`), `none` dropped."""
    default = (
        "otlp"
        if environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")
        else "none"
    )
    names = environ.get(f"OTEL_{signal}_EXPORTER", default)
    found = [name.strip().lower() for name in names.split(",") if name.strip()]
    unknown = set(found) - {"otlp", "console", "none", "prometheus"}
    if unknown:
        raise ValueError(
            f"OTEL_{signal}_EXPORTER names unknown exporters: {', '.join(sorted(unknown))}"
        )
    return [name for name in found if name != "none"]


def resource(service_name: str | None) -> Resource:
    """The service's resource: `OTEL_RESOURCE_ATTRIBUTES`, with `OTEL_SERVICE_NAME`, else `service_name`."""
    attributes = {}
    if service_name and not os.environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = service_name
    return Resource.create(attributes)


def tracer_provider_from_env(service_name: str | None) -> TracerProvider | None:
    """A tracer provider exporting where `OTEL_TRACES_EXPORTER` says; None when it names none."""
    names = exporters("TRACES")
    if not names:
        return None
    provider = TracerProvider(resource=resource(service_name))
    for name in names:
        if name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        elif name == "otlp":
            provider.add_span_processor(BatchSpanProcessor(_otlp_span_exporter()))
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER: {name} exports no traces")
    return provider


def metric_readers_from_env() -> tuple[list[MetricReader], bool]:
    """The periodic readers `OTEL_METRICS_EXPORTER` names, and whether it names `prometheus`."""
    readers: list[MetricReader] = []
    names = exporters("METRICS")
    for name in names:
        if name == "console":
            readers.append(PeriodicExportingMetricReader(ConsoleMetricExporter()))
        elif name == "otlp":
            readers.append(PeriodicExportingMetricReader(_otlp_metric_exporter()))
    return readers, "prometheus" in names


def _grpc() -> bool:
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf").strip()
    return protocol == "grpc"


def _otlp_span_exporter() -> SpanExporter:
    if _grpc():
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found, unused-ignore]
            OTLPSpanExporter,
        )
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )
    exporter: SpanExporter = OTLPSpanExporter()
    return exporter


def _otlp_metric_exporter() -> MetricExporter:
    if _grpc():
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (  # type: ignore[import-not-found, unused-ignore]
            OTLPMetricExporter,
        )
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter,
        )
    exporter: MetricExporter = OTLPMetricExporter()
    return exporter
