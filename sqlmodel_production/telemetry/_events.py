"""Retries, classified errors and replicas as metrics and span events.

The package reports its decisions to an `Observer` (`db/_observers.py`): each
`Telemetry` counts them (`sqlmodel_production.transaction.retries`,
`sqlmodel_production.db.errors`; observers are per process, so every instrumented
app of a process counts them all), and one observer per process marks them on the
current span (the request's), where a trace shows why a request took three
attempts or ended in a 503. Replica lag and whether each replica serves reads are read from the
`Database` when metrics are collected.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry import trace
from opentelemetry.metrics import CallbackOptions, Meter, Observation

from sqlmodel_production.db import ClassifiedError, Database, Observer, add_observer

__all__ = ["SPAN_EVENTS", "TelemetryObserver", "add_span_events", "observe_replicas"]


class TelemetryObserver(Observer):
    """Counts retries and classified errors (one per `Telemetry`, for its meter)."""

    def __init__(self, meter: Meter) -> None:
        self.retries = meter.create_counter(
            "sqlmodel_production.transaction.retries",
            unit="{attempt}",
            description="Transaction attempts that failed with a retryable error, "
            "by reason (error.type) and outcome (retried or gave_up).",
        )
        self.errors = meter.create_counter(
            "sqlmodel_production.db.errors",
            unit="{error}",
            description="Database errors answered with a 4xx or 5xx, by kind (error.type) and status.",
        )

    def retry(self, error: ClassifiedError, attempt: int, wait: float | None) -> None:
        outcome = "gave_up" if wait is None else "retried"
        self.retries.add(1, {"error.type": error.kind.value, "outcome": outcome})

    def error_answered(self, error: ClassifiedError, status: int) -> None:
        self.errors.add(
            1, {"error.type": error.kind.value, "http.response.status_code": status}
        )


class SpanEvents(Observer):
    """Marks retries and classified errors on the current span: one for the process, whatever the number of apps."""

    def retry(self, error: ClassifiedError, attempt: int, wait: float | None) -> None:
        span = trace.get_current_span()
        if span.is_recording():
            attributes: dict[str, Any] = {
                "error.type": error.kind.value,
                "sqlmodel_production.attempt": attempt,
                "sqlmodel_production.outcome": "gave_up" if wait is None else "retried",
            }
            if error.code:
                attributes["db.response.status_code"] = str(error.code)
            if wait is not None:
                attributes["sqlmodel_production.retry_in"] = wait
            span.add_event("sqlmodel_production.retry", attributes)

    def error_answered(self, error: ClassifiedError, status: int) -> None:
        span = trace.get_current_span()
        if span.is_recording():
            attributes: dict[str, Any] = {
                "error.type": error.kind.value,
                "http.response.status_code": status,
            }
            if error.constraint:
                attributes["sqlmodel_production.constraint"] = error.constraint
            if error.code:
                attributes["db.response.status_code"] = str(error.code)
            span.add_event("sqlmodel_production.db_error", attributes)
            span.set_attribute("error.type", error.kind.value)


SPAN_EVENTS = SpanEvents()
_span_events_added: list[bool] = []


def add_span_events() -> None:
    """Mark retries and errors on spans from now on (once per process)."""
    if not _span_events_added:
        add_observer(SPAN_EVENTS)
        _span_events_added.append(True)


def observe_replicas(meter: Meter, database: Database) -> None:
    """Report each replica's lag and whether it serves reads, as the last check found them."""

    def nodes() -> Iterable[tuple[dict[str, Any], Any]]:
        for index, node in enumerate(database.replica_status()):
            if node.checked_at:
                yield {"sqlmodel_production.replica": str(index)}, node

    def lag(options: CallbackOptions) -> Iterable[Observation]:
        for attributes, node in nodes():
            if node.lag is not None:
                yield Observation(node.lag, attributes)

    def usable(options: CallbackOptions) -> Iterable[Observation]:
        for attributes, node in nodes():
            yield Observation(1 if node.usable else 0, attributes)

    meter.create_observable_gauge(
        "sqlmodel_production.replica.lag",
        callbacks=[lag],
        unit="s",
        description="Seconds the replica lagged behind the primary at its last check.",
    )
    meter.create_observable_gauge(
        "sqlmodel_production.replica.usable",
        callbacks=[usable],
        unit="1",
        description="1 while the replica serves reads (it answers and lags at most REPLICA_MAX_LAG), else 0.",
    )
