"""Statements and pools of a `Database`'s engines as OpenTelemetry spans and metrics.

Every engine the `Database` makes (`Database.on_engine`: the primary, each
replica, sync or the async engine's sync side) gets three listeners marked
`direct_safe`, so the router's statements keep running straight on the driver
(asyncpg's own `fetch` included) and are seen all the same: a client span per
statement and `db.client.operation.duration`. Its pool is read when metrics are
collected (`db.client.connection.count`, `.max`) and its checkouts are timed
(`db.client.connection.wait_time`, `.timeouts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from time import perf_counter
from typing import Any

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, Context
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.trace import (
    INVALID_SPAN_CONTEXT,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
)
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from sqlmodel_production._compat import (
    current_span_key,
    observe_pool_waits,
    queue_pool_max_overflow,
)
from sqlmodel_production.db import EngineInfo, classify
from sqlmodel_production.db.internal import direct_safe, profile_of

from ._context import attach, detach, get_current
from ._histograms import Histograms, Recorder
from ._sampling import RequestSampling, UnsampledSpan
from ._statements import Summary, summarize

__all__ = ["EngineTelemetry"]

_STATE = "_smp_telemetry"
"""The execution context's attribute holding (start, span, token) between the listeners."""
_SUPPRESS = _SUPPRESS_INSTRUMENTATION_KEY
"""OpenTelemetry's key for "do not instrument below" (private to opentelemetry-api; pinned by
tests/telemetry/test_traces.py): asyncpg's instrumentation honours it."""

_SPAN = current_span_key()
_NO_PARENT = INVALID_SPAN_CONTEXT
"""A statement outside any span (a script, a worker): its span starts a trace."""

OPERATION_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)
"""`db.client.operation.duration` buckets, as the semantic conventions advise."""
WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)
"""`db.client.connection.wait_time` buckets: most checkouts find an idle connection at once."""


class EngineTelemetry:
    """The instruments for statements and pools, and the engines they watch.

    Args:
        meter: where the metrics go; None for no metrics.
        tracer: where the spans go; None for no spans.
        histograms: where the histograms go (the meter provider's readers); needed with a meter.
        slow_threshold: seconds from which a statement counts as slow.
        sql_comments: append each sampled statement's `traceparent` as a SQL comment.
    """

    def __init__(
        self,
        meter: Meter | None,
        tracer: Tracer | None,
        *,
        histograms: Histograms | None = None,
        slow_threshold: float,
        sql_comments: bool = False,
    ) -> None:
        self.tracer = tracer
        self.slow_threshold = slow_threshold
        self.sql_comments = sql_comments
        self.engines: list[EngineInfo] = []
        self._removers: list[Callable[[], None]] = []
        self.meter = meter
        if meter is None:
            return
        if histograms is None:
            raise ValueError("metrics need the meter provider's Histograms")
        self.duration = histograms.histogram(
            "db.client.operation.duration",
            unit="s",
            description="Duration of database client operations.",
            boundaries=OPERATION_BUCKETS,
        )
        self.slow = meter.create_counter(
            "sqlmodel_production.db.slow_statements",
            unit="{statement}",
            description="Statements that ran at least the slow threshold.",
        )
        self.wait_time = histograms.histogram(
            "db.client.connection.wait_time",
            unit="s",
            description="The time it took to obtain an open connection from the pool.",
            boundaries=WAIT_BUCKETS,
        )
        self.timeouts = meter.create_counter(
            "db.client.connection.timeouts",
            unit="{timeout}",
            description="Checkouts that timed out waiting for a connection from the pool.",
        )
        meter.create_observable_up_down_counter(
            "db.client.connection.count",
            callbacks=[self._observe_count],
            unit="{connection}",
            description="Connections in the pool now, by state (idle or used).",
        )
        meter.create_observable_up_down_counter(
            "db.client.connection.max",
            callbacks=[self._observe_max],
            unit="{connection}",
            description="The most connections the pool may hold.",
        )

    # --- engines --------------------------------------------------------------------

    def add(self, info: EngineInfo) -> None:
        """Watch `info.engine`: its statements, its pool and the pools it gets after `dispose()`.

        An engine made again after `Database.dispose()` replaces the one of the same
        pool name in the pool metrics.
        """
        self.engines = [e for e in self.engines if e.pool_name != info.pool_name]
        self.engines.append(info)
        engine = info.engine
        before, after, failed = _StatementListeners(self, info).listeners()
        event.listen(engine, "before_cursor_execute", before, retval=True)
        event.listen(engine, "after_cursor_execute", after)
        # First: the package's own handler raises `ConnectionLost`, which stops the others.
        event.listen(engine, "handle_error", failed, insert=True)

        def remove() -> None:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
            event.remove(engine, "handle_error", failed)

        self._removers.append(remove)
        if self.meter is not None:
            self._time_checkouts(info)

    def remove_all(self) -> None:
        """Stop watching every engine (the pools' timing goes with their next `dispose()`)."""
        for remove in self._removers:
            remove()
        self._removers.clear()
        self.engines.clear()

    def _time_checkouts(self, info: EngineInfo) -> None:
        attributes = {"db.client.connection.pool.name": info.pool_name}
        waited, timeouts = self.wait_time.bind(attributes).record, self.timeouts

        def record(seconds: float, error: BaseException | None) -> None:
            waited(seconds)
            if isinstance(error, sa_exc.TimeoutError):
                timeouts.add(1, attributes)

        def wrap(engine: Engine) -> None:
            if isinstance(engine.pool, QueuePool):
                observe_pool_waits(engine.pool, record)

        wrap(info.engine)
        event.listen(info.engine, "engine_disposed", lambda conn: wrap(info.engine))
        timeouts.add(0, attributes)  # the series exists from the start: rate() works

    # --- statements -----------------------------------------------------------------

    # --- pools ----------------------------------------------------------------------

    def _pools(self) -> Iterable[tuple[str, QueuePool]]:
        for info in self.engines:
            pool = info.engine.pool
            if isinstance(pool, QueuePool):
                yield info.pool_name, pool

    def _observe_count(self, options: CallbackOptions) -> Iterable[Observation]:
        for name, pool in self._pools():
            used = pool.checkedout()
            idle = pool.checkedin()
            yield Observation(
                used,
                {
                    "db.client.connection.pool.name": name,
                    "db.client.connection.state": "used",
                },
            )
            yield Observation(
                idle,
                {
                    "db.client.connection.pool.name": name,
                    "db.client.connection.state": "idle",
                },
            )

    def _observe_max(self, options: CallbackOptions) -> Iterable[Observation]:
        for name, pool in self._pools():
            overflow = queue_pool_max_overflow(pool)
            if overflow >= 0:
                yield Observation(
                    pool.size() + overflow, {"db.client.connection.pool.name": name}
                )


class _Kind:
    """A SQL string's summary, its span's name and attributes, and its duration's recorder."""

    __slots__ = ("metric_attributes", "name", "recorder", "span_attributes", "summary")

    def __init__(
        self,
        summary: Summary,
        span_attributes: dict[str, Any],
        recorder: Any,
        metric_attributes: dict[str, Any],
    ) -> None:
        self.summary = summary
        self.name: str = span_attributes["db.query.summary"]
        self.span_attributes = span_attributes
        self.recorder = recorder
        self.metric_attributes = metric_attributes


_KINDS = 2048
"""The most SQL strings an engine's listeners remember."""


class _StatementListeners:
    """One engine's statement listeners: a client span per statement, its duration, slow ones."""

    def __init__(self, telemetry: EngineTelemetry, info: EngineInfo) -> None:
        engine = info.engine
        url = engine.url
        profile = profile_of(engine.dialect.name)
        # The backends' names are the semantic conventions' `db.system.name` values.
        base: dict[str, Any] = {"db.system.name": profile.backend.value}
        if url.host:
            base["server.address"] = url.host
            base["server.port"] = url.port or engine.dialect.default_port()  # type: ignore[attr-defined]
        if url.database and not profile.embedded:
            base["db.namespace"] = url.database
        self.metric_base = {**base, "db.client.connection.pool.name": info.pool_name}
        self.span_base = {**base, "sqlmodel_production.db.node": info.node}
        if info.node == "replica":
            self.span_base["sqlmodel_production.db.replica"] = info.index
        self.telemetry = telemetry
        self.tracer = telemetry.tracer
        self.sampling = None if self.tracer is None else RequestSampling.of(self.tracer)
        self.meter_on = telemetry.meter is not None
        self.recorders: dict[
            tuple[Summary, str | None], tuple[Recorder, dict[str, Any]]
        ] = {}
        self.span_attributes: dict[Summary, dict[str, Any]] = {}
        self.kinds: dict[str, _Kind] = {}

    def listeners(self) -> tuple[Any, Any, Any]:
        """`before_cursor_execute`, `after_cursor_execute` and `handle_error`, safe on the driver path."""
        return self.before, self.after, self.failed

    @direct_safe
    def before(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> tuple[str, Any]:
        """Start the statement's span (under a sampled or no parent); the statement to send."""
        if context is None:
            return statement, parameters
        kind = self.kinds.get(statement)
        if kind is None:
            kind = self._kind(statement)
        span = token = None
        tracer = self.tracer
        current = None if tracer is None else get_current()
        parent = None if current is None else _parent(current.get(_SPAN))
        if parent is not None:
            assert tracer is not None and current is not None
            attributes = kind.span_attributes
            name = kind.name
            sampling = self.sampling
            if parent is _NO_PARENT or sampling is None:
                span = None
            else:
                span = sampling.child_span(name, attributes, parent)
            if span is None:
                span = tracer.start_span(  # the SDK copies the attributes
                    name, kind=SpanKind.CLIENT, attributes=attributes
                )
            # asyncpg's or SQLAlchemy's own instrumentation, when also on, adds no second span.
            token = attach(Context({**current, _SPAN: span, _SUPPRESS: True}))
            sampled = span.get_span_context().trace_flags.sampled
            if self.telemetry.sql_comments and sampled:
                statement = statement + _traceparent(span)
        setattr(context, _STATE, (perf_counter(), span, token, kind))
        return statement, parameters

    @direct_safe
    def after(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        """End the statement's span and record its duration (and whether it was slow)."""
        state = getattr(context, _STATE, None)
        if state is None:
            return
        setattr(context, _STATE, None)
        started, span, token, kind = state
        seconds = perf_counter() - started
        if token is not None:
            detach(token)
        if span is not None:
            span.end()
        if self.meter_on:
            kind.recorder.record(seconds)
            if seconds >= self.telemetry.slow_threshold:
                self.telemetry.slow.add(1, kind.metric_attributes)

    @direct_safe
    def failed(self, failure: Any) -> None:
        """A failed statement: its span's error, and its duration by the kind of error."""
        context = failure.execution_context
        state = None if context is None else getattr(context, _STATE, None)
        if state is None:
            return
        setattr(context, _STATE, None)
        started, span, token, kind = state
        seconds = perf_counter() - started
        if token is not None:
            detach(token)
        error = failure.sqlalchemy_exception or failure.original_exception
        self._failed(kind.summary, seconds, span, error)

    def _failed(
        self, summary: Summary, seconds: float, span: Any, error: BaseException
    ) -> None:
        found = classify(error)
        error_type = found.kind.value if found else type(error).__name__
        if span is not None:
            span.set_attribute("error.type", error_type)
            if found is not None and found.code:
                span.set_attribute("db.response.status_code", str(found.code))
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR))
            span.end()
        if self.meter_on:
            recorder, attributes = self._recorder(summary, error_type)
            recorder.record(seconds)
            if seconds >= self.telemetry.slow_threshold:
                self.telemetry.slow.add(1, attributes)

    def _kind(self, statement: str) -> _Kind:
        """What the listeners need about `statement`, worked out once per SQL string."""
        summary = summarize(statement)
        attributes = self.span_attributes.get(summary)
        if attributes is None:
            attributes = self.span_attributes[summary] = {
                **self.span_base,
                "db.operation.name": summary.operation,
                "db.query.summary": summary.text,
                **_collection(summary.collection),
            }
        recorder, metric_attributes = (
            self._recorder(summary, None) if self.meter_on else (None, {})
        )
        kind = _Kind(summary, attributes, recorder, metric_attributes)
        if len(self.kinds) >= _KINDS:
            self.kinds.clear()  # statements built per request (rendered IN lists)
        self.kinds[statement] = kind
        return kind

    def _recorder(
        self, summary: Summary, error_type: str | None
    ) -> tuple[Recorder, dict[str, Any]]:
        """The duration histogram bound to a statement's attributes, made once per kind."""
        bound = self.recorders.get((summary, error_type))
        if bound is None:
            attributes = {
                **self.metric_base,
                "db.operation.name": summary.operation,
                **_collection(summary.collection),
            }
            if error_type is not None:
                attributes["error.type"] = error_type
            bound = self.recorders[summary, error_type] = (
                self.telemetry.duration.bind(attributes),
                attributes,
            )
        return bound


def _traceparent(span: Any) -> str:
    """The statement's trace context as a SQL comment (sqlcommenter): the server's logs can name the trace."""
    context = span.get_span_context()
    return (
        f" /*traceparent='00-{context.trace_id:032x}-{context.span_id:016x}"
        f"-{int(context.trace_flags):02x}'*/"
    )


def _parent(current: Any) -> SpanContext | None:
    """What a statement's span goes under: a sampled span's context, `_NO_PARENT`, or None for no span (a dropped request)."""
    if current.__class__ is UnsampledSpan:
        return None  # the one check a dropped request's statements cost
    if current is None:
        return _NO_PARENT
    parent = current.get_span_context()
    if not parent.is_valid:
        return _NO_PARENT
    return parent if parent.trace_flags.sampled else None


def _collection(name: str | None) -> dict[str, str]:
    return {} if name is None else {"db.collection.name": name}
