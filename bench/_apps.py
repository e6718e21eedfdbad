"""The contestants, as ASGI app factories for `uvicorn --factory` (and for the smoke test).

Every app reads `DATABASE_URL` and `ENVIRONMENT` from the environment, as
`sqlmodel-production demo` does; the floor (`bench._floor`) reads `DATABASE_URL` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind

from sqlmodel_production import Database
from sqlmodel_production.demo.app import create_app
from sqlmodel_production.demo.handwritten import create_app as create_handwritten_app

__all__ = ["CONTESTANTS", "Contestant"]


def router_async() -> FastAPI:
    """Our router factory, async endpoints (the `demo` default), telemetry off."""
    return create_app(Database(), async_=True, telemetry=False)


def router_sync() -> FastAPI:
    """Our router factory, sync endpoints (`demo --sync`), telemetry off."""
    return create_app(Database(), async_=False, telemetry=False)


def router_metrics() -> FastAPI:
    """`router_async` with telemetry's metrics on (what `demo` does with the extra): no tracing."""
    from sqlmodel_production.telemetry import instrument

    database = Database()
    app = create_app(database, async_=True, telemetry=False)
    instrument(app, database, prometheus=True, tracer_provider=None)
    return app


def router_traced() -> FastAPI:
    """`router_metrics` with tracing too, 10 % of requests sampled, spans batched to an exporter that drops them."""
    return _traced(0.1)


def router_traced_sampled() -> FastAPI:
    """`router_traced` sampling every request (`bench.telemetry_cost` weighs it with `router_traced_dropped`)."""
    return _traced(1.0)


def router_traced_dropped() -> FastAPI:
    """`router_traced` sampling no request."""
    return _traced(0.0)


def _traced(ratio: float) -> FastAPI:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from sqlmodel_production.telemetry import instrument

    provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(ratio)))
    provider.add_span_processor(BatchSpanProcessor(_Dropped()))
    database = Database()
    app = create_app(database, async_=True, telemetry=False)
    instrument(app, database, prometheus=True, tracer_provider=provider)
    return app


def handwritten_sync() -> FastAPI:
    """The hand-written sync endpoints (`Session`, ORM objects, `response_model`)."""
    return create_handwritten_app(Database(), async_=False)


def handwritten_async() -> FastAPI:
    """The hand-written async endpoints (`AsyncSession`)."""
    return create_handwritten_app(Database(), async_=True)


class _Dropped(SpanExporter):
    """Takes every batch of spans and sends it nowhere: the cost measured is the service's, not a collector's.

    It counts the requests' (server) spans it was given, so that a measurement
    can say how many of its requests the sampler took.
    """

    server_spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        _Dropped.server_spans += sum(s.kind is SpanKind.SERVER for s in spans)
        return SpanExportResult.SUCCESS


def traced_requests(app: Any) -> int | None:
    """How many requests `router_traced` sampled since the last call (their spans flushed first); None for another app."""
    telemetry = getattr(app.state, "sqlmodel_production_telemetry", None)
    provider = None if telemetry is None else telemetry.tracer_provider
    if provider is None:
        return None
    provider.force_flush()
    count, _Dropped.server_spans = _Dropped.server_spans, 0
    return count


class Contestant:
    """One app under test: a label, the `module:factory` served, and by which server.

    `scenarios`: the only scenarios it serves (None: every one); a peer serves
    heroes only. `cursor`: whether it serves keyset pages.
    """

    def __init__(
        self,
        key: str,
        label: str,
        factory: str,
        *,
        cursor: bool,
        server: str = "uvicorn",
        scenarios: frozenset[str] | None = None,
    ) -> None:
        self.key = key
        self.label = label
        self.factory = factory
        self.cursor = cursor
        self.server = server
        self.scenarios = scenarios

    def serves(self, scenario: Any) -> bool:
        if scenario.cursor and not self.cursor:
            return False
        return self.scenarios is None or scenario.key in self.scenarios


_HEROES = frozenset({"get_one", "list_offset", "create", "patch"})


CONTESTANTS = [
    Contestant(
        "floor",
        "raw floor (Starlette + asyncpg + orjson)",
        "bench._floor:create_app",
        cursor=True,
    ),
    Contestant(
        "router_async", "router, async", "bench._apps:router_async", cursor=True
    ),
    Contestant("router_sync", "router, sync", "bench._apps:router_sync", cursor=True),
    Contestant(
        "router_metrics",
        "router, async, metrics on",
        "bench._apps:router_metrics",
        cursor=True,
        scenarios=_HEROES,
    ),
    Contestant(
        "router_traced",
        "router, async, metrics + tracing at 10 %",
        "bench._apps:router_traced",
        cursor=True,
        scenarios=_HEROES,
    ),
    Contestant(
        "handwritten_async",
        "hand-written, async",
        "bench._apps:handwritten_async",
        cursor=False,
    ),
    Contestant(
        "handwritten_sync",
        "hand-written, sync",
        "bench._apps:handwritten_sync",
        cursor=False,
    ),
    Contestant(
        "fastcrud",
        "FastCRUD 0.23 crud_router (peer)",
        "bench._peers:fastcrud",
        cursor=False,
        scenarios=_HEROES,
    ),
    Contestant(
        "advanced_alchemy",
        "Advanced Alchemy 1.12 service (peer)",
        "bench._peers:advanced_alchemy",
        cursor=False,
        scenarios=_HEROES,
    ),
    Contestant(
        "floor_granian",
        "raw floor on granian",
        "bench._floor:create_app",
        cursor=True,
        server="granian",
        scenarios=_HEROES,
    ),
    Contestant(
        "router_async_granian",
        "router, async, on granian",
        "bench._apps:router_async",
        cursor=True,
        server="granian",
        scenarios=_HEROES,
    ),
]
