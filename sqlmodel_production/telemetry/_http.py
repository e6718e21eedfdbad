"""Requests as OpenTelemetry server spans, `http.server.request.duration` and `http.server.active_requests`.

A pure ASGI middleware, outermost of the app's own: it reads the incoming
`traceparent`, starts a server span for the request, makes it the current span
while the app runs (the statements' client spans and the retry and error events
land under it) and, once the answer is sent, names it `{method} {route template}`
from the route the router matched (`GET /heroes/{item_id}`), never from the raw
path, so that names and metric series stay few. On FastAPI the template is the
one FastAPI's own router notes for its telemetry, prefixes of included routers
and mounts included.

Every request costs little: the duration goes to a histogram bound once per
method, route, status and scheme (`_histograms.py`), the active requests are a
count read when metrics are collected, and a request the sampler drops builds no
span attributes, nor, with the trace-id ratio samplers, any object of the SDK
(`_sampling.py`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from time import perf_counter
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from sqlmodel_production._compat import (
    current_span_key,
    fastapi_route_template,
    follow_fastapi_route,
    set_valid_attributes,
)

from ._context import attach, detach
from ._histograms import Histograms, Recorder
from ._sampling import RequestSampling, UnsampledSpan

__all__ = ["DURATION_BUCKETS", "TelemetryMiddleware"]

DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
"""`http.server.request.duration` buckets, as the semantic conventions advise."""
_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
_FASTAPI_TELEMETRY = "fastapi.telemetry"
_SPAN = current_span_key()


class _HeaderGetter(Getter[list[tuple[bytes, bytes]]]):
    def get(self, carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        wanted = key.encode("latin-1")
        found = [v.decode("latin-1") for k, v in carrier if k == wanted]
        return found or None

    def keys(self, carrier: list[tuple[bytes, bytes]]) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier]


_GETTER = _HeaderGetter()


class TelemetryMiddleware:
    """Trace and time every HTTP request of an ASGI app.

    Args:
        app: the ASGI app.
        tracer: where server spans go; None for none.
        meter: where `http.server.active_requests` goes; None for no metrics.
        histograms: where `http.server.request.duration` goes; needed with a meter.
        exclude: paths neither traced nor measured (the `/metrics` scrape).
    """

    def __init__(
        self,
        app: Any,
        *,
        tracer: Tracer | None,
        meter: Meter | None,
        histograms: Histograms | None = None,
        exclude: Collection[str] = (),
    ) -> None:
        self.app = app
        self.tracer = tracer
        self.sampling = None if tracer is None else RequestSampling.of(tracer)
        self.exclude = frozenset(exclude)
        self.measured = meter is not None
        self._recorders: dict[
            tuple[str, str | None, int, str, str | None], Recorder
        ] = {}
        self._active: dict[tuple[str, str], int] = {}
        if meter is None:
            return
        if histograms is None:
            raise ValueError("metrics need the meter provider's Histograms")
        self.duration = histograms.histogram(
            "http.server.request.duration",
            unit="s",
            description="Duration of HTTP server requests.",
            boundaries=DURATION_BUCKETS,
        )
        meter.create_observable_up_down_counter(
            "http.server.active_requests",
            callbacks=[self._observe_active],
            unit="{request}",
            description="Number of active HTTP server requests.",
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in self.exclude:
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        method = scope["method"] if scope["method"] in _METHODS else "_OTHER"
        scheme = scope.get("scheme", "http")
        status = 0
        span: Span | None = None
        token: Any = None
        if self.tracer is not None:
            span, token = self._start(scope, method, scheme)
        active = (method, scheme)
        if self.measured:
            self._active[active] = self._active.get(active, 0) + 1
        followed, owned = follow_fastapi_route(scope)

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_status)
        except BaseException as exc:
            error = exc
            raise
        finally:
            if error is not None and status == 0:
                status = 500
            route = None if followed is None else fastapi_route_template(followed)
            if owned:
                scope.pop(_FASTAPI_TELEMETRY, None)
            if route is None:
                route = _template(scope)
            if span is not None:
                if span.__class__ is not UnsampledSpan and span.is_recording():
                    _finish(span, method, route, status, error)
                detach(token)
            if self.measured:
                self._active[active] -= 1
                self._recorder(method, route, status, scheme, error).record(
                    perf_counter() - started
                )

    def _start(self, scope: Any, method: str, scheme: str) -> tuple[Span, Any]:
        """The request's server span, made current: the caller's trace continued, or a new one."""
        parent = _parent(scope["headers"])
        sampling = self.sampling
        trace_id = None
        if parent is None and sampling is not None:
            decided = sampling.new_trace()
            if not isinstance(decided, int):  # dropped: no attributes, no SDK span
                return decided, attach(Context({_SPAN: decided}))
            trace_id = decided
        attributes = {
            "http.request.method": method,
            "url.scheme": scheme,
            "url.path": scope["path"],
            "network.protocol.version": scope.get("http_version", "1.1"),
        }
        span: Span
        if trace_id is None or sampling is None:
            assert self.tracer is not None
            if parent is None:
                parent = Context()
            span = self.tracer.start_span(
                method, context=parent, kind=SpanKind.SERVER, attributes=attributes
            )
            return span, attach(trace.set_span_in_context(span, parent))
        # A new trace the sampler takes.
        span = sampling.server_span(method, attributes, trace_id, Context())
        return span, attach(Context({_SPAN: span}))

    def _recorder(
        self,
        method: str,
        route: str | None,
        status: int,
        scheme: str,
        error: BaseException | None,
    ) -> Recorder:
        error_type = (
            None
            if status < 500
            else type(error).__qualname__
            if error is not None
            else str(status)
        )
        key = (method, route, status, scheme, error_type)
        recorder = self._recorders.get(key)
        if recorder is None:
            attributes: dict[str, Any] = {
                "http.request.method": method,
                "http.response.status_code": status,
                "url.scheme": scheme,
            }
            if route is not None:
                attributes["http.route"] = route
            if error_type is not None:
                attributes["error.type"] = error_type
            recorder = self._recorders[key] = self.duration.bind(attributes)
        return recorder

    def _observe_active(self, options: CallbackOptions) -> Iterable[Observation]:
        for (method, scheme), count in list(self._active.items()):
            yield Observation(
                count, {"http.request.method": method, "url.scheme": scheme}
            )


def _parent(headers: list[tuple[bytes, bytes]]) -> Context | None:
    """The caller's trace context, extracted when a header the propagators read was sent; None when none was (a new trace)."""
    propagator = propagate.get_global_textmap()
    fields = _FIELDS.get(propagator)
    if fields is None:
        fields = _FIELDS[propagator] = frozenset(
            name.lower().encode("latin-1") for name in propagator.fields
        )
    for name, _ in headers:
        if name in fields:
            return propagate.extract(headers, getter=_GETTER)
    return None


_FIELDS: dict[Any, frozenset[bytes]] = {}
"""The header names each propagator reads, as ASGI spells them (bytes, lower case)."""


def _template(scope: Any) -> str | None:
    """The route template the router matched (`/heroes/{item_id}`), None when none did."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else None


def _finish(
    span: Any, method: str, route: str | None, status: int, error: BaseException | None
) -> None:
    if route is not None:
        span.update_name(f"{method} {route}")
        set_valid_attributes(
            span, {"http.route": route, "http.response.status_code": status}
        )
    else:
        span.set_attribute("http.response.status_code", status)
    if error is not None:
        span.record_exception(error)
    if status >= 500:
        span.set_attribute(
            "error.type", type(error).__qualname__ if error is not None else str(status)
        )
        span.set_status(Status(StatusCode.ERROR))
    span.end()
