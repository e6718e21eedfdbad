"""The reference service instrumented with in-memory exporters, on every target."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.sdk.trace.sampling import Sampler

from sqlmodel_production import Database
from sqlmodel_production.db._prepared import direct_safe
from sqlmodel_production.demo.app import create_app
from sqlmodel_production.telemetry import Telemetry, instrument
from tests.conftest import Target
from tests.demo.conftest import create_tables, drop_tables


@contextmanager
def each_statement(engine: sa.Engine, call: Callable[[str], object]) -> Iterator[None]:
    """Call `call` with each statement the engine sends to the driver while the block runs
    (comments included), from inside the statement's execution (its span is current)."""

    @direct_safe
    def look(*args: object) -> tuple[object, object]:
        call(str(args[2]))
        return args[2], args[3]

    sa.event.listen(engine, "before_cursor_execute", look, retval=True)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", look)


@dataclass
class Served:
    """An instrumented reference service and what its telemetry recorded."""

    client: TestClient
    database: Database
    telemetry: Telemetry
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def points(self, name: str) -> list[Any]:
        """Every data point of metric `name` collected now."""
        data = self.reader.get_metrics_data()
        return [
            point
            for resource in (data.resource_metrics if data else [])
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


@pytest.fixture
def serve(
    target: Target, make_database: Callable[..., Database]
) -> Iterator[Callable[..., Served]]:
    """Serve the router-built reference service, instrumented, on a database with some settings changed."""
    opened: list[Served] = []

    def serve(
        *,
        create: bool = True,
        sampler: Sampler | None = None,
        options: dict[str, Any] | None = None,
        **settings: object,
    ) -> Served:
        database = make_database(**settings)
        if create:
            create_tables(database)
        app = create_app(database, async_=target.async_, telemetry=False)
        spans = InMemorySpanExporter()
        provider = TracerProvider(sampler=sampler)
        provider.add_span_processor(SimpleSpanProcessor(spans))
        reader = InMemoryMetricReader()
        telemetry = instrument(
            app,
            database,
            prometheus=True,
            tracer_provider=provider,
            metric_readers=[reader],
            **(options or {}),
        )
        client = TestClient(app).__enter__()
        served = Served(client, database, telemetry, spans, reader)
        opened.append(served)
        return served

    yield serve
    for served in opened:
        served.client.__exit__(None, None, None)
        served.telemetry.shutdown()
        if served.database.settings.database_replica_urls:
            import asyncio

            asyncio.run(served.database.dispose())
        else:
            drop_tables(served.database)
