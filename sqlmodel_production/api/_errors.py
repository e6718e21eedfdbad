"""FastAPI exception handlers that turn database errors into clear 4xx / 5xx answers."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import exc as orm_exc
from starlette.requests import Request
from starlette.responses import JSONResponse

from sqlmodel_production.db._errors import (
    DatabaseError,
    ErrorKind,
    classify,
    resolve_columns,
)

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


def error_response(error: DatabaseError) -> JSONResponse:
    """The HTTP answer for a classified database error.

    Unique and still-referenced conflicts are 409; bad values (missing reference,
    null, check, too long) are 422 in FastAPI's validation-error shape with the
    field in `loc`; a statement timeout is 504; transient failures are 503 with
    `Retry-After`; a connection lost during `COMMIT` says that the outcome is
    unknown (`"outcome": "unknown"`). Bodies name constraints and fields, never
    values or SQL.
    """
    kind = error.kind
    fields = list(error.columns)
    if kind in _CONFLICT:
        if kind is ErrorKind.UNIQUE_VIOLATION and error.table and fields:
            subject = f"a {error.table} with this {', '.join(fields)}"
        elif error.table:
            subject = f"the {error.table} row"
        else:
            subject = "the row"
        body: dict[str, Any] = {
            "detail": f"Conflict: {subject} {_CONFLICT[kind]}",
            "code": kind.value,
            "constraint": error.constraint,
            "fields": fields,
        }
        return JSONResponse(body, status_code=409)
    if kind in _UNPROCESSABLE:
        problem = _UNPROCESSABLE[kind]
        detail = [
            {
                "type": kind.value,
                "loc": ["body", field],
                "msg": f"Field {field!r} {problem}",
                "ctx": {"constraint": error.constraint},
            }
            for field in fields
        ] or [
            {
                "type": kind.value,
                "loc": ["body"],
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

    Args:
        app: the application.
        metadata: the schema used to name fields the database leaves out
            (SQLite foreign keys, MariaDB unique keys); `SQLModel.metadata` by default.
    """
    if metadata is None:
        from sqlmodel import SQLModel

        metadata = SQLModel.metadata
    schema = metadata

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        found = classify(exc)
        if found is None:
            logger.exception("Unclassified database error", exc_info=exc)
            return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
        return error_response(resolve_columns(found, schema))

    async def handle_os_error(request: Request, exc: Exception) -> JSONResponse:
        # A driver's socket error (asyncpg lets them through); any other OSError is not ours.
        found = classify(exc)
        if found is None:
            raise exc
        return error_response(found)

    async def handle_stale(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {
                "detail": "Conflict: the row was changed by someone else; read it again",
                "code": "stale_version",
            },
            status_code=409,
        )

    app.add_exception_handler(sa_exc.DBAPIError, handle)
    app.add_exception_handler(sa_exc.TimeoutError, handle)
    app.add_exception_handler(OverflowError, handle)
    app.add_exception_handler(OSError, handle_os_error)
    app.add_exception_handler(orm_exc.StaleDataError, handle_stale)
