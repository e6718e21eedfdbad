"""JSON log lines that carry the trace and span ids of the request that logged them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry import trace

__all__ = ["JsonFormatter", "use_json_logs"]

# Attributes every `LogRecord` has: everything else on a record came in `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()) | {
    "message",
    "asctime",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, `trace_id`, `span_id` and the record's extras.

    The ids are those of the current span (W3C hex, as trace back-ends show
    them), so a log line links to its trace; the slow-query log
    (`log_slow_queries`) logs inside the request and carries them too, with its
    `duration`, `fingerprint` and `caller`.

    Example:
        ```python
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.getLogger().addHandler(handler)
        ```
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            line["trace_id"] = format(context.trace_id, "032x")
            line["span_id"] = format(context.span_id, "016x")
            line["trace_flags"] = int(context.trace_flags)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def use_json_logs(level: int | None = None) -> logging.Handler:
    """Log JSON lines to stderr from the root logger (`JsonFormatter`).

    Plain stream handlers already on the root logger (`logging.basicConfig`'s)
    are replaced; other handlers (files, a test runner's) stay. Loggers that do
    not propagate to the root (uvicorn's access log) keep their own format.
    Calling it again changes nothing.

    Args:
        level: the root logger's level; unchanged when None.

    Returns:
        The handler, to remove or reconfigure it.
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old.formatter, JsonFormatter):
            handler = old
            break
        if type(old) is logging.StreamHandler:
            root.removeHandler(old)
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    if level is not None:
        root.setLevel(level)
    return handler
