"""Diagnostics: query recording, N+1 and connection-leak detection, health checks.

Everything here builds on SQLAlchemy's public events (engine, pool and
Session events), so it sees every statement, sync or async, without patching
SQLAlchemy's internals.
"""

from ._fingerprint import fingerprint as fingerprint
from ._frames import Caller as Caller
from ._middleware import QueryRecorderMiddleware as QueryRecorderMiddleware
from ._middleware import server_timing as server_timing
from ._recorder import Query as Query
from ._recorder import QueryRecording as QueryRecording
from ._recorder import record_queries as record_queries
from ._slow import log_slow_queries as log_slow_queries

__all__ = [
    "Caller",
    "Query",
    "QueryRecorderMiddleware",
    "QueryRecording",
    "fingerprint",
    "log_slow_queries",
    "record_queries",
    "server_timing",
]
