"""FastAPI exception handlers that turn database errors into clear 4xx / 5xx answers.

They never fail on the input they describe: a 422 echoes at most a short
excerpt of what the client sent, made safe to encode.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import exc as orm_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

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

    async def handle_encoding(request: Request, exc: Exception) -> JSONResponse:
        # An unpaired surrogate in a JSON string reaches the driver, which cannot encode it.
        found = classify(exc)
        if found is None:
            raise exc
        return error_response(found)

    app.add_exception_handler(sa_exc.DBAPIError, handle)
    app.add_exception_handler(UnicodeEncodeError, handle_encoding)
    app.add_exception_handler(RequestValidationError, validation_error_response)
    app.add_exception_handler(StarletteHTTPException, http_error_response)
    app.add_exception_handler(sa_exc.TimeoutError, handle)
    app.add_exception_handler(OverflowError, handle)
    app.add_exception_handler(OSError, handle_os_error)
    app.add_exception_handler(orm_exc.StaleDataError, handle_stale)


EXCERPT_LENGTH = 80
"""The most characters of a client's input that a 422 echoes back."""


async def validation_error_response(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, with each error's `input` cut to a short excerpt that always encodes.

    A JSON body can hold an unpaired surrogate, which FastAPI's own handler fails
    to encode (a 500), and a whole body can be echoed back; here a string input
    is cut to `EXCERPT_LENGTH` characters with unencodable ones replaced, and a
    list or object input longer than that is left out.
    """
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": [_safe_error(e) for e in exc.errors()]}, 422)


async def http_error_response(request: Request, exc: Exception) -> Response:
    """FastAPI's answer to an `HTTPException`; a 405 lists in `Allow` every method the path serves.

    Starlette's 405 names only the methods of the first route whose path
    matched (`OPTIONS /heroes/` said `Allow: POST` although GET is served
    too); RFC 9110 asks for all of them.
    """
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        methods = _allowed_methods(request)
        if methods:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(methods)}
    return await http_exception_handler(request, exc)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> list[str]:
    # Asking each route whether it serves the path with each method works through
    # included routers and mounts alike, whatever their internals.
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in routes
        )
    ]


def _safe_error(error: Any) -> dict[str, Any]:
    safe = {key: _safe(value) for key, value in error.items() if key != "input"}
    if "input" in error:
        excerpt = _excerpt(error["input"])
        if excerpt is not _OMIT:
            safe["input"] = excerpt
    return safe


_OMIT = object()


def _excerpt(value: Any) -> Any:
    if isinstance(value, str):
        text = _safe(value)
        return text if len(text) <= EXCERPT_LENGTH else text[:EXCERPT_LENGTH] + "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    try:
        encoded = _safe(jsonable_encoder(value))
    except Exception:  # an input that cannot be encoded is not echoed
        return _OMIT
    return encoded if len(repr(encoded)) <= EXCERPT_LENGTH else _OMIT


def _safe(value: Any) -> Any:
    """`value` with every string made encodable (unpaired surrogates replaced)."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_safe(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _safe(str(value))
