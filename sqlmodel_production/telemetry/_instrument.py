"""`instrument(app, database)`: the one call that makes a service observable."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NoOpTracerProvider, Tracer
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from sqlmodel_production._compat import fastapi_telemetry_config
from sqlmodel_production.db import Database, add_observer

from ._db import EngineTelemetry
from ._events import TelemetryObserver, add_span_events, observe_replicas
from ._histograms import Histograms
from ._http import TelemetryMiddleware
from ._logs import use_json_logs
from ._prometheus import prometheus_reader
from ._setup import (
    disabled,
    metric_readers_from_env,
    resource,
    tracer_provider_from_env,
)

__all__ = ["Telemetry", "instrument"]

SCOPE = "sqlmodel_production"
"""The instrumentation scope of every span and metric (`otel_scope_name` in Prometheus)."""

_STATE_KEY = "sqlmodel_production_telemetry"
"""Where the app keeps its `Telemetry` (`app.state`)."""
_ENV_TRACER_PROVIDER: list[TracerProvider] = []
"""The tracer provider made from the environment, made once per process."""


class Telemetry:
    """What `instrument` set up: providers, the Prometheus registry, the listeners; `shutdown()` stops it.

    Attributes:
        tracer_provider: where spans go; None without tracing.
        meter_provider: where metrics go; None without metrics.
        registry: the Prometheus registry `/metrics` serves; None without Prometheus.
        histograms: the package's histograms, added to every reader of the meter
            provider (`instrument` attaches them); None without metrics.
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        registry: CollectorRegistry | None,
        *,
        histograms: Histograms | None = None,
        slow_threshold: float,
        sql_comments: bool = False,
    ) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.registry = registry
        self.histograms = histograms
        self.tracer: Tracer | None = (
            None if tracer_provider is None else tracer_provider.get_tracer(SCOPE)
        )
        self.meter = None if meter_provider is None else meter_provider.get_meter(SCOPE)
        self.engines = EngineTelemetry(
            self.meter,
            self.tracer,
            histograms=histograms,
            slow_threshold=slow_threshold,
            sql_comments=sql_comments,
        )
        self._undo: list[Callable[[], None]] = []
        if self.meter is not None:
            self._observer = TelemetryObserver(self.meter)
            self._undo.append(add_observer(self._observer))
        if self.tracer is not None:
            add_span_events()

    def watch(self, database: Database) -> None:
        """Trace and measure the statements and pools of `database`'s engines, made now or later."""
        self._undo.append(database.on_engine(self.engines.add))
        if self.meter is not None and database.settings.database_replica_urls:
            observe_replicas(self.meter, database)

    def metrics_text(self) -> bytes:
        """The metrics in Prometheus' text format, as `/metrics` serves them."""
        if self.registry is None:
            raise RuntimeError("Prometheus is off: instrument(..., prometheus=True)")
        return generate_latest(self.registry)

    def shutdown(self) -> None:
        """Stop observing the database and the package's decisions; flush and close the meter provider.

        The app keeps its `/metrics` route and its request telemetry (Starlette
        cannot remove a middleware): its metrics stop with the meter provider,
        its request spans go on while the tracer provider does.
        """
        for undo in self._undo:
            undo()
        self._undo.clear()
        self.engines.remove_all()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()


def instrument(
    app: Starlette | None = None,
    database: Database | None = None,
    *,
    prometheus: bool = False,
    metrics_path: str = "/metrics",
    json_logs: bool = False,
    slow_threshold: float = 0.5,
    service_name: str | None = None,
    tracer_provider: TracerProvider | None = None,
    metric_readers: Sequence[MetricReader] = (),
    operation_spans: bool = False,
    sql_comments: bool = False,
) -> Telemetry:
    """Trace and measure an app and its database with OpenTelemetry; exporters from `OTEL_*`.

    Adds a server span per request (`GET /heroes/{item_id}`),
    `http.server.request.duration` and `http.server.active_requests` (a pure
    ASGI middleware of the package's; FastAPI's own HTTP telemetry is told to
    stay off, so there is one server span); a client span per statement under
    it (the router's statements on the driver included) and
    `db.client.operation.duration`;
    pool usage, waits and timeouts of the primary and each replica; retries,
    classified errors, replica lag and slow statements (docs/telemetry.md lists
    every metric and attribute).

    Args:
        app: the FastAPI (or Starlette) app; None to instrument only the database.
        database: the app's `Database`; None to instrument only the app.
        prometheus: serve the metrics at `metrics_path` in Prometheus' text
            format (also on when `OTEL_METRICS_EXPORTER` names `prometheus`).
        metrics_path: where Prometheus scrapes; never traced or measured itself.
        json_logs: log JSON lines carrying the trace and span ids (`JsonFormatter`).
        slow_threshold: seconds from which a statement counts in
            `sqlmodel_production.db.slow_statements`.
        service_name: `service.name` when `OTEL_SERVICE_NAME` is not set.
        tracer_provider: where spans go; by default the global SDK provider
            if one is set, else one made from `OTEL_TRACES_EXPORTER` (none: no spans).
        metric_readers: more readers for the metrics (tests use an in-memory one).
        operation_spans: FastAPI's spans for dependencies, the endpoint and
            serialization under each request span (FastAPI 0.165 and later;
            the request span is then FastAPI's own).
        sql_comments: append `/*traceparent='...'*/` to each statement of a
            sampled trace (sqlcommenter), so the database's own logs (slow query
            log, `pg_stat_activity`) name the trace. Each such statement's text is
            new to the server: drivers that cache prepared statements (asyncpg)
            prepare it again.

    Returns:
        The `Telemetry`, whose `shutdown()` stops it; the app keeps it in
        `app.state.sqlmodel_production_telemetry`.

    Raises:
        RuntimeError: the app is instrumented already.

    Example:
        ```python
        database = Database()
        app = FastAPI(lifespan=database.lifespan)
        instrument(app, database, prometheus=True)
        ```
    """
    if app is not None and getattr(app.state, _STATE_KEY, None) is not None:
        raise RuntimeError(
            "This app is instrumented already (instrument() was called on it, or the "
            "reference service's create_app did): keep the Telemetry that call returned "
            "(app.state.sqlmodel_production_telemetry)"
        )
    if disabled():
        return Telemetry(None, None, None, slow_threshold=slow_threshold)
    if tracer_provider is None:
        tracer_provider = _tracer_provider(service_name)
    readers, prometheus_from_env = metric_readers_from_env()
    readers.extend(metric_readers)
    registry = None
    if prometheus or prometheus_from_env:
        registry = CollectorRegistry(auto_describe=True)
        readers.append(prometheus_reader(registry))
    meter_provider = histograms = None
    if readers:
        service = resource(service_name)
        meter_provider = MeterProvider(metric_readers=readers, resource=service)
        histograms = Histograms(InstrumentationScope(SCOPE), service)
        histograms.attach(readers)
    telemetry = Telemetry(
        tracer_provider,
        meter_provider,
        registry,
        histograms=histograms,
        slow_threshold=slow_threshold,
        sql_comments=sql_comments,
    )
    if database is not None:
        telemetry.watch(database)
    if app is not None:
        _instrument_app(
            app, telemetry, metrics_path=metrics_path, operation_spans=operation_spans
        )
    if json_logs:
        use_json_logs()
    return telemetry


def _instrument_app(
    app: Starlette, telemetry: Telemetry, *, metrics_path: str, operation_spans: bool
) -> None:
    """Request spans and `http.server.request.duration` for `app`, and its `/metrics`."""
    setattr(app.state, _STATE_KEY, telemetry)  # the Telemetry lives as long as the app
    registry = telemetry.registry
    excluded = {metrics_path} if registry is not None else set()
    config = fastapi_telemetry_config(app)
    fastapi_traces = (
        config is not None and operation_spans and telemetry.tracer_provider is not None
    )
    if config is not None:
        # FastAPI's own HTTP telemetry stays off, so that a request has one server span
        # and one `http.server.request.duration` (the package's middleware costs far
        # less per request); it traces only when its operation spans are asked for.
        config.update(
            tracer_provider=telemetry.tracer_provider or NoOpTracerProvider(),
            meter_provider=NoOpMeterProvider(),
            tracing=fastapi_traces,
            metrics=False,
            operation_spans=operation_spans,
            exclude=_excluding(excluded, config.get("exclude")),
        )
    app.add_middleware(
        TelemetryMiddleware,
        tracer=None if fastapi_traces else telemetry.tracer,
        meter=telemetry.meter,
        histograms=telemetry.histograms,
        exclude=excluded,
    )
    if registry is not None:
        app.add_route(
            metrics_path,
            _metrics_endpoint(registry),
            methods=["GET"],
            include_in_schema=False,
        )


def _excluding(
    paths: set[str], other: Callable[[Any], bool] | None
) -> Callable[[Any], bool] | None:
    """FastAPI's `exclude`: the scrape path, and whatever the app excluded itself."""
    if not paths:
        return other

    def exclude(scope: Any) -> bool:
        return scope.get("path") in paths or (other is not None and other(scope))

    return exclude


def _tracer_provider(service_name: str | None) -> TracerProvider | None:
    """The global SDK provider if one is set (`opentelemetry-instrument`, the user's), else one from the environment."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    if not _ENV_TRACER_PROVIDER:
        made = tracer_provider_from_env(service_name)
        if made is None:
            return None
        _ENV_TRACER_PROVIDER.append(made)
        trace.set_tracer_provider(made)  # other libraries' spans join the same traces
    return _ENV_TRACER_PROVIDER[0]


def _metrics_endpoint(registry: CollectorRegistry) -> Callable[[Request], Any]:
    # The classic text format (0.0.4), which every Prometheus version scrapes.
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    return metrics
