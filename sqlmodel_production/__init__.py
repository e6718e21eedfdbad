"""sqlmodel-production: production patterns for SQLModel + FastAPI services.

Everything public is importable from here. FastAPI-facing names (`SessionDep`,
...) are imported on first use, so the CLI and the models stay light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .db import Backend as Backend
from .db import Database as Database
from .db import DatabaseSettings as DatabaseSettings
from .db import Environment as Environment
from .db import create_async_engine as create_async_engine
from .db import create_engine as create_engine

if TYPE_CHECKING:
    from .api import AsyncSessionDep as AsyncSessionDep
    from .api import SessionDep as SessionDep
    from .api import get_async_session as get_async_session
    from .api import get_session as get_session

__version__ = "0.1.0"

_LAZY = {
    "AsyncSessionDep": ".api",
    "SessionDep": ".api",
    "get_async_session": ".api",
    "get_session": ".api",
}


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "AsyncSessionDep",
    "Backend",
    "Database",
    "DatabaseSettings",
    "Environment",
    "SessionDep",
    "create_async_engine",
    "create_engine",
    "get_async_session",
    "get_session",
]
