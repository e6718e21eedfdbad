"""FastAPI exception handlers that turn database errors into clear 4xx / 5xx answers.

The answers about the request itself (422 and 405) are in `_request_errors`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
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
    ReferenceNotFound,
    StaleVersion,
)
from sqlmodel_production.api._cancelled import CancelledRequests
from sqlmodel_production.api._request_errors import (
    http_error_response,
    safe,
    validation_error_response,
)
from sqlmodel_production.db import ClassifiedError, ErrorKind, classify
from sqlmodel_production.db.internal import (
    mark_row,
    offending_values,
    report_error_answered,
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


def _answer(error: ClassifiedError) -> JSONResponse:
    """`error_response`, reported to the observers (telemetry counts errors by kind)."""
    response = error_response(error)
    report_error_answered(error, response.status_code)
    return response


def error_response(error: ClassifiedError) -> JSONResponse:
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


def locate_bulk_row(
    error: BaseException,
    rows: Sequence[Any],
    metadata: sa.MetaData,
    connection: sa.Connection | None = None,
) -> None:
    """Find which of `rows` (written in one statement) a unique or foreign key error is about.

    The database prints the key values of the row at fault (PostgreSQL, MariaDB
    duplicates); they are matched against the rows sent and only the index is
    kept, for `classify` and the answer (`"row": 2`, or `loc: ["body", 2, ...]`).
    Of two rows with the same key, the second is the duplicate. Where it prints
    no values for a missing parent (MariaDB, SQLite), the parents the rows name
    are looked up on `connection`, in the write's transaction (which these
    databases keep usable after a failed statement): the first row whose parent
    is absent is the one.
    """
    found = classify(error)
    if found is None or found.kind not in (
        ErrorKind.UNIQUE_VIOLATION,
        ErrorKind.MISSING_REFERENCE,
    ):
        return
    resolved = resolve_columns(found, metadata)
    columns = resolved.columns
    values = offending_values(error)
    if not values or len(values) != len(columns):
        if found.kind is ErrorKind.MISSING_REFERENCE and connection is not None:
            row = _first_without_parent(connection, metadata, resolved, rows)
            if row is not None:
                mark_row(error, row)
        return
    matches = [
        index
        for index, row in enumerate(rows)
        if all(
            _printed(_value(row, column)) == value
            for column, value in zip(columns, values, strict=True)
        )
    ]
    if matches:
        duplicate = found.kind is ErrorKind.UNIQUE_VIOLATION and len(matches) > 1
        mark_row(error, matches[1] if duplicate else matches[0])


def _first_without_parent(
    connection: sa.Connection,
    metadata: sa.MetaData,
    error: ClassifiedError,
    rows: Sequence[Any],
) -> int | None:
    """The index of the first row whose (single-column) parent key is not in its table now.

    None where that cannot be told; a failed lookup never replaces the error it explains.
    """
    table = metadata.tables.get(error.table or "")
    if table is None or len(error.columns) != 1:
        return None
    (column,) = error.columns
    keys = [
        fk
        for constraint in table.foreign_key_constraints
        if constraint.column_keys == [column]
        for fk in constraint.elements
    ]
    if len(keys) != 1:
        return None
    parent = keys[0].column
    wanted = {_value(row, column) for row in rows} - {None}
    if not wanted or len(wanted) > _MAX_LOOKUP:
        return None
    try:
        present = set(
            connection.execute(sa.select(parent).where(parent.in_(wanted))).scalars()
        )
    except sa_exc.SQLAlchemyError:
        return None
    for index, row in enumerate(rows):
        value = _value(row, column)
        if value is not None and value not in present:
            return index
    return None  # the parent arrived since: nothing to name


_MAX_LOOKUP = 1_000
"""At most this many distinct parent keys are looked up to name the row at fault."""


def _value(row: Any, column: str) -> Any:
    return row.get(column) if isinstance(row, Mapping) else getattr(row, column, None)


def _printed(value: Any) -> str | None:
    """`value` as a database prints it in an error, for the types printed alike everywhere."""
    if isinstance(value, bool) or value is None:
        return None
    return str(value) if isinstance(value, int | str) else None


def article(word: str) -> str:
    """The article before `word`, by how it is usually spoken: an author, a user, an item."""
    lower = word.lower()
    if lower[:1] in ("a", "e", "i", "o"):
        return "an"
    if lower[:1] == "u":
        # "you" in user, unit, unique, usual; "uh" in update, umbrella, undo.
        return "a" if lower.startswith(_YOU_SOUNDS) else "an"
    return "a"


_YOU_SOUNDS = ("uni", "use", "usu", "uti", "ure", "uro", "ura")


def install_error_handlers(
    app: FastAPI, *, metadata: sa.MetaData | None = None
) -> None:
    """Answer database errors with 409 / 422 / 503 / 504 instead of 500.

    Installs handlers for SQLAlchemy's and the drivers' errors (classified by
    `classify`, answered by `error_response`), socket errors of a lost
    connection (503), `InvalidQuery` (422 naming the query parameter),
    `InvalidScope` (500 naming the row scope's dependency), `ReferenceNotFound`
    (422, as a missing reference), `StaleVersion` and SQLAlchemy's `StaleDataError`
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
    app.add_exception_handler(ReferenceNotFound, _reference_not_found)
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


async def _stale_version(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": "The row was changed by someone else; read it again"},
        status_code=412,
    )
