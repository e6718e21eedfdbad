"""FastAPI integration: session dependencies, error handlers."""

from ._dependencies import AsyncSessionDep as AsyncSessionDep
from ._dependencies import SessionDep as SessionDep
from ._dependencies import get_async_session as get_async_session
from ._dependencies import get_database as get_database
from ._dependencies import get_session as get_session

__all__ = ["AsyncSessionDep", "SessionDep", "get_async_session", "get_database", "get_session"]
