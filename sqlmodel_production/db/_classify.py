"""Reading a driver's exception chain with the profile of the backend that raised it (pure: no I/O).

Each backend's profile (`db/_backends`) holds its error table and reads its
own exceptions (a SQLSTATE, an error number, a result code name, with the
constraint, table and columns the message names); a plain socket error is a
lost connection whatever the backend.
"""

from __future__ import annotations

import errno
import socket

from sqlalchemy import exc as sa_exc

from ._backends import Backend, profile_of
from ._error_codes import ClassifiedError, ErrorKind

__all__ = ["classify_chain", "driver_errors"]


_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.EHOSTDOWN,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ENETRESET,
        errno.EADDRNOTAVAIL,
        errno.ENOTCONN,
        errno.ESHUTDOWN,
    }
)


def _is_network_error(error: BaseException) -> bool:
    if isinstance(
        error, ConnectionError | TimeoutError | socket.gaierror | socket.herror
    ):
        return True
    if not isinstance(error, OSError):
        return False
    if error.errno is not None:
        return error.errno in _NETWORK_ERRNOS
    # asyncio joins the failures of every address it tried into one plain OSError.
    return "Connect call failed" in str(error)


def classify_chain(error: BaseException) -> ClassifiedError | None:
    """The first classification of the driver's errors under `error`, innermost first."""
    for driver_error in driver_errors(error):
        found = _classify_driver_error(driver_error)
        if found is not None:
            return found
        if _is_network_error(driver_error):
            name = getattr(driver_error.__class__, "__name__", "OSError")
            return ClassifiedError(ErrorKind.CONNECTION_LOST, code=name)
    return None


def driver_errors(error: BaseException) -> list[BaseException]:
    """The driver's exception and what it wraps, innermost first.

    asyncpg's own exception (with the constraint and column names) sits under
    SQLAlchemy's adapter exception, which carries only the SQLSTATE.
    """
    chain: list[BaseException] = []
    current: BaseException | None = (
        error.orig if isinstance(error, sa_exc.DBAPIError) else error
    )
    while current is not None and current not in chain and len(chain) < 4:
        chain.append(current)
        current = current.__cause__
    return chain[::-1]


def _classify_driver_error(error: BaseException) -> ClassifiedError | None:
    """What a driver's exception says, read by the profile of the backend that raised it."""
    sqlite_name = getattr(error, "sqlite_errorname", None)
    if isinstance(sqlite_name, str):
        return profile_of(Backend.SQLITE).read_error(error, sqlite_name)
    # MariaDB drivers put (errno, message) in args; PyMySQL also sets a coarse SQLSTATE
    # ("23000" for every integrity error), so the error number must win.
    args: tuple[object, ...] = getattr(error, "args", ())
    if len(args) >= 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return profile_of(Backend.MARIADB).read_error(error, args[0])
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        return profile_of(Backend.POSTGRESQL).read_error(error, sqlstate)
    return None
