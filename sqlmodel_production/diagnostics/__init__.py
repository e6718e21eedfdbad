"""Diagnostics: query recording, N+1, leaks, detached objects explained, health checks.

Everything here builds on SQLAlchemy's public events (engine, pool and
Session events), so it sees every statement, sync or async, without patching
SQLAlchemy's internals.
"""

from ._detached import DetachedAccess as DetachedAccess
from ._detached import DetachedAccessKind as DetachedAccessKind
from ._detached import DetachedObjectError as DetachedObjectError
from ._detached import explain_detached as explain_detached
from ._explain import Explanation as Explanation
from ._explain import explain_error as explain_error
from ._findings import AsyncLazyLoadError as AsyncLazyLoadError
from ._findings import Mode as Mode
from ._findings import NPlusOneError as NPlusOneError
from ._findings import NPlusOneWarning as NPlusOneWarning
from ._findings import RepeatedLoad as RepeatedLoad
from ._findings import RepeatedLoadKind as RepeatedLoadKind
from ._findings import RepeatedQueryWarning as RepeatedQueryWarning
from ._fingerprint import fingerprint as fingerprint
from ._frames import Caller as Caller
from ._health import health_router as health_router
from ._leaks import Checkout as Checkout
from ._leaks import ConnectionLeakError as ConnectionLeakError
from ._leaks import ConnectionLeakWarning as ConnectionLeakWarning
from ._leaks import Leak as Leak
from ._leaks import LeakDetector as LeakDetector
from ._middleware import DiagnosticsMiddleware as DiagnosticsMiddleware
from ._middleware import server_timing as server_timing
from ._n_plus_one import NPlusOneDetector as NPlusOneDetector
from ._n_plus_one import detect_n_plus_one as detect_n_plus_one
from ._pool import PoolStats as PoolStats
from ._pool import pool_stats as pool_stats
from ._recorder import Query as Query
from ._recorder import QueryRecording as QueryRecording
from ._recorder import record_queries as record_queries
from ._slow import log_slow_queries as log_slow_queries

__all__ = [
    "AsyncLazyLoadError",
    "Caller",
    "Checkout",
    "ConnectionLeakError",
    "ConnectionLeakWarning",
    "DetachedAccess",
    "DetachedAccessKind",
    "DetachedObjectError",
    "DiagnosticsMiddleware",
    "Explanation",
    "Leak",
    "LeakDetector",
    "Mode",
    "NPlusOneDetector",
    "NPlusOneError",
    "NPlusOneWarning",
    "PoolStats",
    "Query",
    "QueryRecording",
    "RepeatedLoad",
    "RepeatedLoadKind",
    "RepeatedQueryWarning",
    "detect_n_plus_one",
    "explain_detached",
    "explain_error",
    "fingerprint",
    "health_router",
    "log_slow_queries",
    "pool_stats",
    "record_queries",
    "server_timing",
]


def __getattr__(name: str) -> object:
    # The former names, kept for a release: the doctor's findings are `Finding`.
    renamed = {"Finding": "RepeatedLoad", "FindingKind": "RepeatedLoadKind"}
    if name in renamed:
        import warnings

        warnings.warn(
            f"sqlmodel_production.diagnostics.{name} is renamed {renamed[name]}",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[renamed[name]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
