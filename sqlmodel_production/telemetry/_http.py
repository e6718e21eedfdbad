"""Requests as OpenTelemetry server spans and `http.server.request.duration` (an ASGI middleware).

A pure ASGI middleware, outermost of the app's own: it reads the incoming
`traceparent`, starts a server span for the request, makes it the current span
while the app runs (the statements' client spans and the retry and error events
land under it) and, once the answer is sent, names it `{method} {route template}`
from the route the router matched (`GET /heroes/{item_id}`), never from the raw
path, so that names and metric series stay few.
"""

from __future__ import annotations

from collections.abc import Collection
from time import perf_counter
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.metrics import Meter
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

__all__ = ["DURATION_BUCKETS", "TelemetryMiddleware"]

DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
"""`http.server.request.duration` buckets, as the semantic conventions advise."""
_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)


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
        meter: where `http.server.request.duration` goes; None for none.
        exclude: paths neither traced nor measured (the `/metrics` scrape).
    """

    def __init__(
        self,
        app: Any,
        *,
        tracer: Tracer | None,
        meter: Meter | None,
        exclude: Collection[str] = (),
    ) -> None:
        self.app = app
        self.tracer = tracer
        self.exclude = frozenset(exclude)
        self.duration = (
            None
            if meter is None
            else meter.create_histogram(
                "http.server.request.duration",
                unit="s",
                description="Duration of HTTP server requests.",
                explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
            )
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in self.exclude:
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        method = scope["method"] if scope["method"] in _METHODS else "_OTHER"
        status = 0
        span = token = None
        if self.tracer is not None:
            parent = propagate.extract(scope["headers"], getter=_GETTER)
            span = self.tracer.start_span(
                method,
                context=parent,
                kind=SpanKind.SERVER,
                attributes={
                    "http.request.method": method,
                    "url.path": scope["path"],
                    "url.scheme": scope.get("scheme", "http"),
                    "network.protocol.version": scope.get("http_version", "1.1"),
                },
            )
            token = otel_context.attach(trace.set_span_in_context(span, parent))

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
            route = _template(scope)
            if span is not None:
                _finish(span, method, route, status, error)
            if token is not None:
                otel_context.detach(token)
            if self.duration is not None:
                attributes: dict[str, Any] = {
                    "http.request.method": method,
                    "http.response.status_code": status,
                    "url.scheme": scope.get("scheme", "http"),
                }
                if route is not None:
                    attributes["http.route"] = route
                if status >= 500:
                    attributes["error.type"] = (
                        type(error).__qualname__ if error is not None else str(status)
                    )
                self.duration.record(perf_counter() - started, attributes)


def _template(scope: Any) -> str | None:
    """The route template the router matched (`/heroes/{item_id}`), None when none did."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else None


def _finish(
    span: Any, method: str, route: str | None, status: int, error: BaseException | None
) -> None:
    if route is not None:
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if error is not None:
        span.record_exception(error)
    if status >= 500:
        span.set_attribute(
            "error.type", type(error).__qualname__ if error is not None else str(status)
        )
        span.set_status(Status(StatusCode.ERROR))
    span.end()
