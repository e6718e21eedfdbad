"""Sampling decided before the SDK makes a span, where the tracer's sampler allows it.

With the samplers most services run (`parentbased_traceidratio` and
`traceidratio`, or `always_off`), a request that arrives without a caller's
trace context is sampled by its new trace id alone, and a statement under a
sampled span by its parent (`_compat.root_sampling`). `RequestSampling`
draws the trace id as the SDK does and applies the SDK's test: a dropped
request gets an `UnsampledSpan` (no sampler call, no span object of the SDK),
a sampled one and its statements get the SDK's spans, made as its tracer
makes them once its sampler said yes. Requests with a caller's `traceparent`,
and every other sampler, go through the SDK's `start_span` as they are.
"""

from __future__ import annotations

from random import getrandbits
from typing import Any

from opentelemetry.context import Context
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    TraceFlags,
    Tracer,
)

from sqlmodel_production._compat import root_sampling

__all__ = ["RequestSampling", "UnsampledSpan"]

_LOW_64 = (1 << 64) - 1


class UnsampledSpan(NonRecordingSpan):
    """The current span of a request the sampler dropped.

    A non-recording span of a new trace, as the SDK would have made: its span
    context (the trace id the decision was made on, a new span id, the trace
    flags unsampled) is made the first time something asks for it, such as a
    log line's `trace_id` or the `traceparent` of an outgoing call, which then
    tells the next service that this trace is not sampled. The statement
    listeners start no span under it.
    """

    _flags = TraceFlags(TraceFlags.DEFAULT | getattr(TraceFlags, "RANDOM_TRACE_ID", 0))
    """Not sampled; the trace id random, as `RandomIdGenerator` says (W3C Trace Context level 2)."""
    _made: SpanContext | None = None

    def __init__(self, trace_id: int) -> None:
        self._trace_id = trace_id

    def get_span_context(self) -> SpanContext:
        made = self._made
        if made is None:
            span_id = getrandbits(64)
            while not span_id:
                span_id = getrandbits(64)
            made = self._made = SpanContext(
                self._trace_id, span_id, is_remote=False, trace_flags=self._flags
            )
        return made

    def __repr__(self) -> str:
        return f"UnsampledSpan(trace_id={self._trace_id:032x})"


class RequestSampling:
    """Sampling decisions for a tracer whose sampler needs only the trace id and the parent (`of`)."""

    def __init__(
        self, bound: int, unsampled_flags: int, follows_parent: bool, start: Any
    ) -> None:
        if (
            unsampled_flags != UnsampledSpan._flags
        ):  # pragma: no cover - pinned in tests
            raise RuntimeError("the SDK's trace flags for a new trace changed")
        self.bound = bound
        self.follows_parent = follows_parent
        self.start = start

    @classmethod
    def of(cls, tracer: Tracer) -> RequestSampling | None:
        """None when the tracer's sampler (or id generator) needs the SDK's `start_span` for every span."""
        found = root_sampling(tracer)
        if found is None or found.unsampled_flags != UnsampledSpan._flags:
            return None  # flags an `UnsampledSpan` would not carry: the SDK decides
        return cls(*found)

    def new_trace(self) -> UnsampledSpan | int:
        """A new trace's span if the sampler drops it, else its trace id (`server_span` starts it)."""
        trace_id = getrandbits(128)
        while not trace_id:
            trace_id = getrandbits(128)
        if trace_id & _LOW_64 < self.bound:
            return trace_id
        return UnsampledSpan(trace_id)

    def server_span(
        self, name: str, attributes: dict[str, Any], trace_id: int, context: Context
    ) -> Span:
        """The server span of a sampled new trace."""
        span: Span = self.start(
            name, SpanKind.SERVER, attributes, trace_id, None, context
        )
        return span

    def child_span(
        self, name: str, attributes: dict[str, Any], parent: SpanContext
    ) -> Span | None:
        """A client span under `parent`, a sampled local span; None when the sampler must be asked."""
        if parent.is_remote or not (
            self.follows_parent or parent.trace_id & _LOW_64 < self.bound
        ):
            return None
        span: Span = self.start(
            name, SpanKind.CLIENT, attributes, parent.trace_id, parent, None
        )
        return span
