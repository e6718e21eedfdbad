"""FastAPI integration: session dependencies, error handlers, the CRUD router factory."""

from ._cancelled import CancelledRequests as CancelledRequests
from ._conventions import Conventions as Conventions
from ._dependencies import AsyncSessionDep as AsyncSessionDep
from ._dependencies import SessionDep as SessionDep
from ._dependencies import get_async_session as get_async_session
from ._dependencies import get_database as get_database
from ._dependencies import get_session as get_session
from ._errors import error_response as error_response
from ._errors import install_error_handlers as install_error_handlers
from ._hooks import WriteEvent as WriteEvent
from ._hooks import WriteHook as WriteHook
from ._links import link_router as link_router
from ._read_your_writes import ReadYourWritesMiddleware as ReadYourWritesMiddleware
from ._responses import Conflict as Conflict
from ._responses import ErrorBody as ErrorBody
from ._responses import HTTPError as HTTPError
from ._router import crud_router as crud_router
from ._scope import RowScope as RowScope
from ._stamp import RowStamp as RowStamp

__all__ = [
    "AsyncSessionDep",
    "CancelledRequests",
    "Conflict",
    "Conventions",
    "ErrorBody",
    "HTTPError",
    "ReadYourWritesMiddleware",
    "RowScope",
    "RowStamp",
    "SessionDep",
    "WriteEvent",
    "WriteHook",
    "crud_router",
    "error_response",
    "get_async_session",
    "get_database",
    "get_session",
    "install_error_handlers",
    "link_router",
]
