"""sqlmodel-production: production patterns for SQLModel + FastAPI services.

Everything public is importable from here. Names that need FastAPI
(`SessionDep`, `crud_router`, ...) are imported on first use, so the CLI, the
models and the repository stay light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import SQLModelProductionError as SQLModelProductionError
from .crud import AsyncRepository as AsyncRepository
from .crud import InvalidQuery as InvalidQuery
from .crud import Page as Page
from .crud import Repository as Repository
from .db import Backend as Backend
from .db import Database as Database
from .db import DatabaseSettings as DatabaseSettings
from .db import Environment as Environment
from .db import ErrorKind as ErrorKind
from .db import RetryPolicy as RetryPolicy
from .db import classify as classify
from .db import create_async_engine as create_async_engine
from .db import create_engine as create_engine
from .db import transaction as transaction
from .db import transactional as transactional
from .diagnostics import DetachedObjectError as DetachedObjectError
from .diagnostics import DiagnosticsMiddleware as DiagnosticsMiddleware
from .diagnostics import LeakDetector as LeakDetector
from .diagnostics import detect_n_plus_one as detect_n_plus_one
from .diagnostics import explain_detached as explain_detached
from .diagnostics import log_slow_queries as log_slow_queries
from .diagnostics import pool_stats as pool_stats
from .diagnostics import record_queries as record_queries
from .models import UUIDPK as UUIDPK
from .models import ForeignKeyField as ForeignKeyField
from .models import IntPK as IntPK
from .models import SoftDelete as SoftDelete
from .models import StringField as StringField
from .models import Timestamps as Timestamps
from .models import Versioned as Versioned
from .models import derive_schemas as derive_schemas

if TYPE_CHECKING:
    from .api import AsyncSessionDep as AsyncSessionDep
    from .api import CancelledRequests as CancelledRequests
    from .api import Conventions as Conventions
    from .api import ReadYourWritesMiddleware as ReadYourWritesMiddleware
    from .api import RowScope as RowScope
    from .api import RowStamp as RowStamp
    from .api import SessionDep as SessionDep
    from .api import crud_router as crud_router
    from .api import get_async_session as get_async_session
    from .api import get_session as get_session
    from .api import install_error_handlers as install_error_handlers
    from .api import link_router as link_router
    from .diagnostics import health_router as health_router

__version__ = "0.1.0"

_LAZY = {
    "AsyncSessionDep": ".api",
    "CancelledRequests": ".api",
    "Conventions": ".api",
    "ReadYourWritesMiddleware": ".api",
    "RowScope": ".api",
    "RowStamp": ".api",
    "SessionDep": ".api",
    "crud_router": ".api",
    "get_async_session": ".api",
    "get_session": ".api",
    "health_router": ".diagnostics",
    "install_error_handlers": ".api",
    "link_router": ".api",
}


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "AsyncRepository",
    "AsyncSessionDep",
    "Backend",
    "CancelledRequests",
    "Conventions",
    "Database",
    "DatabaseSettings",
    "DetachedObjectError",
    "DiagnosticsMiddleware",
    "Environment",
    "ErrorKind",
    "ForeignKeyField",
    "IntPK",
    "InvalidQuery",
    "LeakDetector",
    "Page",
    "ReadYourWritesMiddleware",
    "Repository",
    "RetryPolicy",
    "RowScope",
    "RowStamp",
    "SQLModelProductionError",
    "SessionDep",
    "SoftDelete",
    "StringField",
    "Timestamps",
    "UUIDPK",
    "Versioned",
    "classify",
    "create_async_engine",
    "create_engine",
    "crud_router",
    "derive_schemas",
    "detect_n_plus_one",
    "explain_detached",
    "get_async_session",
    "get_session",
    "health_router",
    "install_error_handlers",
    "link_router",
    "log_slow_queries",
    "pool_stats",
    "record_queries",
    "transaction",
    "transactional",
]
