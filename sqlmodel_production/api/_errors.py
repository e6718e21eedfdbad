"""FastAPI exception handlers that turn database errors into clear 4xx / 5xx answers.

The answers about the request itself (422 and 405) are in `_request_errors`.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import exc as orm_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from sqlmodel_production._exceptions import (
    InvalidQuery,
    InvalidScope,
    LiveChildren,
    OutsideScope,
    ReferenceNotFound,
    StaleVersion,
)
from sqlmodel_production.api._cancelled import CancelledRequests
from sqlmodel_production.api._request_errors import (
    http_error_response,
    safe,
    validation_error_response,
)
from sqlmodel_production.api._words import article
from sqlmodel_production.db import ClassifiedError, ErrorKind, classify
from sqlmodel_production.db.internal import report_error_answered, resolve_columns

__all__ = ["RETRY_AFTER_SECONDS", "error_response", "install_error_handlers"]

logger = logging.getLogger("sqlmodel_production.errors")

RETRY_AFTER_SECONDS = 1
"""The `Retry-After` sent with every 503."""

_CONFLICT = {
    ErrorKind.UNIQUE_VIOLATION: "already exists",
    ErrorKind.STILL_REFERENCED: "is still referenced by other rows",
}
_UNPROCESSABLE = {
    ErrorKind.MISSING_REFERENCE: "refers to a row that does not exist",
    ErrorKind.NOT_NULL_VIOLATION: "may not be null",
    ErrorKind.CHECK_VIOLATION: "fails a check constraint",
    ErrorKind.INVALID_DATA: "is not valid for its column (too long or out of range)",
    ErrorKind.INVALID_CHARACTER: "contains a character the database cannot store",
}
_UNAVAILABLE = {
    ErrorKind.SERIALIZATION_FAILURE: "The transaction conflicted with a concurrent one; retry.",
    ErrorKind.DEADLOCK: "The transaction was chosen as a deadlock victim; retry.",
    ErrorKind.LOCK_TIMEOUT: "The transaction waited too long for a lock; retry.",
    ErrorKind.DATABASE_LOCKED: "The database is busy with another writer; retry.",
    ErrorKind.CONNECTION_LOST: "The connection to the database was lost; retry.",
    ErrorKind.TOO_MANY_CONNECTIONS: "The database has no free connection; retry.",
    ErrorKind.POOL_TIMEOUT: "No database connection became free in time; retry.",
}


def _answer(error: ClassifiedError) -> JSONResponse:
    """`error_response`, reported to the observers (telemetry counts errors by kind)."""
    response = error_response(error)
    report_error_answered(error, response.status_code)
    return response


def error_response(error: ClassifiedError) -> JSONResponse:
    """The HTTP answer for a classified database error.

    Unique and still-referenced conflicts are 409; bad values (missing reference,
    null, check, too long) are 422 in FastAPI's validation-error shape with the
    field in `loc`; a row refused by row-level security is 403; a statement
    timeout is 504; transient failures are 503 with
    `Retry-After`; a connection lost during `COMMIT` says that the outcome is
    unknown (`"outcome": "unknown"`). Bodies name constraints and fields, never
    values or SQL.
    """
    kind = error.kind
    fields = list(error.columns)
    if kind in _CONFLICT:
        if kind is ErrorKind.UNIQUE_VIOLATION and error.table and fields:
            subject = (
                f"{article(error.table)} {error.table} with this {', '.join(fields)}"
            )
        elif error.table:
            subject = f"the {error.table} row"
        else:
            subject = "the row"
        where = "" if error.row is None else f" (row {error.row})"
        body: dict[str, Any] = {
            "detail": f"Conflict: {subject} {_CONFLICT[kind]}{where}",
            "code": kind.value,
            "constraint": error.constraint,
            "fields": fields,
        }
        if error.row is not None:
            body["row"] = error.row
        return JSONResponse(body, status_code=409)
    if kind in _UNPROCESSABLE:
        problem = _UNPROCESSABLE[kind]
        body_loc: list[str | int] = (
            ["body"] if error.row is None else ["body", error.row]
        )
        detail = [
            {
                "type": kind.value,
                "loc": [*body_loc, field],
                "msg": f"Field {field!r} {problem}",
                "ctx": {"constraint": error.constraint},
            }
            for field in fields
        ] or [
            {
                "type": kind.value,
                "loc": body_loc,
                "msg": f"A value {problem}",
                "ctx": {"constraint": error.constraint},
            }
        ]
        return JSONResponse({"detail": detail}, status_code=422)
    if kind is ErrorKind.CONNECTION_LOST and error.outcome_unknown:
        return JSONResponse(
            {
                "detail": "The connection to the database was lost while committing: "
                "the change may or may not have been saved. Read it back before retrying.",
                "code": kind.value,
                "outcome": "unknown",
            },
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if kind is ErrorKind.ROW_SECURITY_VIOLATION:
        subject = f"the {error.table} row" if error.table else "the row"
        return JSONResponse(
            {
                "detail": f"Forbidden: {subject} is outside the rows this request may write",
                "code": kind.value,
            },
            status_code=403,
        )
    if kind is ErrorKind.STATEMENT_TIMEOUT:
        return JSONResponse(
            {"detail": "The database did not answer in time.", "code": kind.value},
            status_code=504,
        )
    return JSONResponse(
        {"detail": _UNAVAILABLE[kind], "code": kind.value},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(
    app: FastAPI, *, metadata: sa.MetaData | None = None
) -> None:
    """Answer database errors with 409 / 422 / 503 / 504 instead of 500.

    Installs handlers for SQLAlchemy's and the drivers' errors (classified by
    `classify`, answered by `error_response`), socket errors of a lost
    connection (503), `InvalidQuery` (422 naming the query parameter),
    `InvalidScope` (500 naming the row scope's dependency), `OutsideScope`
    (422 naming the scoped column in the body), `ReferenceNotFound`
    (422, as a missing reference), `LiveChildren` (409, as a row still
    referenced, the relationship in `fields`), `StaleVersion` and SQLAlchemy's `StaleDataError`
    (412 / 409), and replaces
    FastAPI's 422 and `HTTPException` handlers with ones that echo only a short,
    encodable excerpt of the input and list every method of a path in a 405's
    `Allow`. A request cancelled before its answer (when a server's graceful
    shutdown runs out of time) is a 503 saying that its outcome is unknown
    (`CancelledRequests`).

    Args:
        app: the application.
        metadata: the schema used to name fields the database leaves out
            (SQLite foreign keys, MariaDB unique keys); `SQLModel.metadata` by default.
    """
    if metadata is None:
        from sqlmodel import SQLModel

        metadata = SQLModel.metadata
    handle = functools.partial(_database_error, metadata)
    app.add_exception_handler(sa_exc.DBAPIError, handle)
    app.add_exception_handler(UnicodeEncodeError, _driver_error)
    app.add_exception_handler(InvalidQuery, _invalid_query)
    app.add_exception_handler(StaleVersion, _stale_version)
    app.add_exception_handler(RequestValidationError, validation_error_response)
    app.add_exception_handler(StarletteHTTPException, http_error_response)
    app.add_exception_handler(sa_exc.TimeoutError, handle)
    app.add_exception_handler(OverflowError, handle)
    app.add_exception_handler(OSError, _driver_error)
    app.add_exception_handler(orm_exc.StaleDataError, _stale_row)
    app.add_exception_handler(InvalidScope, _invalid_scope)
    app.add_exception_handler(OutsideScope, _outside_scope)
    app.add_exception_handler(ReferenceNotFound, _reference_not_found)
    app.add_exception_handler(LiveChildren, _live_children)
    app.add_middleware(CancelledRequests)


# --- the handlers install_error_handlers adds -----------------------------------------


async def _database_error(
    metadata: sa.MetaData, request: Request, exc: Exception
) -> JSONResponse:
    found = classify(exc)
    if found is None:
        logger.exception("Unclassified database error", exc_info=exc)
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
    return _answer(resolve_columns(found, metadata))


async def _driver_error(request: Request, exc: Exception) -> JSONResponse:
    # A driver's socket error (asyncpg lets them through), or an unpaired surrogate
    # the driver could not encode; any other OSError or UnicodeEncodeError is not ours.
    found = classify(exc)
    if found is None:
        raise exc
    return _answer(found)


async def _stale_row(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {
            "detail": "Conflict: the row was changed by someone else; read it again",
            "code": "stale_version",
        },
        status_code=409,
    )


async def _invalid_query(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidQuery)
    error = {"type": "invalid_query", "loc": ["query", exc.param], "msg": exc.message}
    return JSONResponse({"detail": [safe(error)]}, status_code=422)


async def _invalid_scope(request: Request, exc: Exception) -> JSONResponse:
    logger.error("%s", exc)
    return JSONResponse({"detail": str(exc), "code": "invalid_scope"}, status_code=500)


async def _outside_scope(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OutsideScope)
    error = exc.error()
    error["loc"] = ["body", *error["loc"]]
    return JSONResponse({"detail": [error]}, status_code=422)


async def _reference_not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ReferenceNotFound)
    found = ClassifiedError(
        kind=ErrorKind.MISSING_REFERENCE,
        code="scope",
        constraint=exc.constraint,
        table=exc.table,
        columns=exc.columns,
        row=exc.row,
    )
    return _answer(found)


async def _live_children(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LiveChildren)
    found = ClassifiedError(
        kind=ErrorKind.STILL_REFERENCED,
        code="on_delete",
        constraint=exc.constraint,
        table=exc.table,
        columns=(exc.relationship,),
    )
    return _answer(found)


async def _stale_version(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": "The row was changed by someone else; read it again"},
        status_code=412,
    )
