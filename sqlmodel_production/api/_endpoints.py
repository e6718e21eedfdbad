"""Build FastAPI endpoints, sync or async, from one sync function (no twins).

The logic of every generated endpoint is a plain function of a sync `Session`
(or, for logic marked `@on_reads`, of `Reads`); a sync endpoint calls it
directly (FastAPI runs it in its thread pool), an async endpoint runs it in
SQLAlchemy's greenlet (`AsyncSession.run_sync`, `greenlet_spawn`). FastAPI reads
the parameters from the `__signature__` we give the endpoint, so OpenAPI sees
ordinary typed parameters.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import Path
from fastapi.exceptions import RequestValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn
from starlette.responses import Response

from sqlmodel_production.api._dependencies import AsyncSessionDep, SessionDep
from sqlmodel_production.crud._errors import InvalidQuery
from sqlmodel_production.db._database import DIRECT_READS
from sqlmodel_production.db._reads import direct_reads, reads_of
from sqlmodel_production.db._retry import RetryPolicy
from sqlmodel_production.db._transaction import retry_delay, transaction
from sqlmodel_production.models import integer_range

__all__ = [
    "Logic",
    "json_response",
    "key_parameter",
    "make_endpoint",
    "on_reads",
    "one_statement",
    "query_error",
]

Logic = Callable[..., Any]
_ON_READS = "__smp_on_reads__"
_ONE_STATEMENT = "__smp_one_statement__"


def on_reads(logic: Logic) -> Logic:
    """Mark read-only logic written against `Reads` (SELECTs only) instead of a `Session`.

    Its endpoint runs it on a pooled connection of its own (`direct_reads`)
    while the request's session is the untouched one our dependency made; with
    any other session (`app.dependency_overrides`, a test's rolled-back
    session, a session a dependency already queried) it runs on that session's
    connection and sees what that session sees.
    """
    setattr(logic, _ON_READS, True)
    return logic


def one_statement(logic: Logic) -> Logic:
    """Mark write logic that changes the database with one statement (reads around it are fine).

    The logic gets a `Session` or a `Connection`. On PostgreSQL, while the
    request's session is the untouched one our dependency made, it runs on a
    `Connection` of its own in autocommit (no session, no `BEGIN` or `COMMIT`
    round trips), run again on a deadlock as `transaction` would; otherwise as
    `transaction(session, single_statement=True)`.
    """
    setattr(logic, _ONE_STATEMENT, True)
    return logic


def key_parameter(name: str, column: sa.Column[Any]) -> inspect.Parameter:
    """A path parameter for a key column, bounded to its integer type's range.

    An id no row can have is a 422 from validation, not an out-of-range error
    from the database.
    """
    python_type = column.type.python_type
    limits = integer_range(column.type)
    annotation: Any = (
        Annotated[python_type, Path(ge=limits[0], le=limits[1])]
        if limits
        else python_type
    )
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation
    )


def make_endpoint(
    logic: Logic,
    parameters: Sequence[inspect.Parameter],
    *,
    async_: bool,
    name: str,
    write: bool = False,
) -> Callable[..., Any]:
    """An endpoint named `name` with `parameters` plus a session, running `logic(session, **params)`.

    A `write` endpoint runs `logic` as one transaction, committed after it returns
    and run again on a deadlock or serialization failure (`transaction`); the
    logic itself never commits; logic marked `@one_statement` runs in autocommit on
    PostgreSQL. Logic marked `@on_reads` gets `Reads` instead of the session.
    """
    session = inspect.Parameter(
        "session",
        inspect.Parameter.KEYWORD_ONLY,
        annotation=AsyncSessionDep if async_ else SessionDep,
    )
    endpoint: Callable[..., Any]
    single = getattr(logic, _ONE_STATEMENT, False)
    if async_ and write:

        async def endpoint(**values: Any) -> Any:
            session = values.pop("session")
            engine = _autocommit_engine(session.sync_session) if single else None
            if engine is not None:
                for number in _ATTEMPTS:
                    try:
                        return await greenlet_spawn(
                            _write_direct, engine, logic, values
                        )
                    except DBAPIError as exc:
                        await asyncio.sleep(_retry_in(exc, number))
            async for attempt in transaction(session, single_statement=single):
                async with attempt:
                    result = await session.run_sync(_call, logic, values)
            return result

    elif async_ and getattr(logic, _ON_READS, False):

        async def endpoint(**values: Any) -> Any:
            session = values.pop("session")
            engine = _direct_engine(session.sync_session)
            if engine is not None:
                return await greenlet_spawn(_read_direct, engine, logic, values)
            return await session.run_sync(_read_on_session, logic, values)

    elif async_:

        async def endpoint(**values: Any) -> Any:
            return await values.pop("session").run_sync(_call, logic, values)

    elif write:

        def endpoint(**values: Any) -> Any:
            session = values.pop("session")
            engine = _autocommit_engine(session) if single else None
            if engine is not None:
                for number in _ATTEMPTS:
                    try:
                        return _write_direct(engine, logic, values)
                    except DBAPIError as exc:
                        time.sleep(_retry_in(exc, number))
            for attempt in transaction(session, single_statement=single):
                with attempt:
                    result = _call(session, logic, values)
            return result

    elif getattr(logic, _ON_READS, False):

        def endpoint(**values: Any) -> Any:
            session = values.pop("session")
            engine = _direct_engine(session)
            if engine is not None:
                return _read_direct(engine, logic, values)
            return _read_on_session(session, logic, values)

    else:

        def endpoint(**values: Any) -> Any:
            return _call(values.pop("session"), logic, values)

    endpoint.__signature__ = inspect.Signature([*parameters, session])  # type: ignore[union-attr]
    endpoint.__name__ = endpoint.__qualname__ = name
    return endpoint


def _call(target: Any, logic: Logic, values: dict[str, Any]) -> Any:
    try:
        return logic(target, **values)
    except InvalidQuery as exc:
        raise query_error(exc) from None


def _direct_engine(session: Session) -> Engine | None:
    """The engine to read on directly: only for our own per-request session, still untouched."""
    if session.info.get(DIRECT_READS) and not session.in_transaction():
        bind = session.bind
        if isinstance(bind, Engine):
            return bind
    return None


_POLICY = RetryPolicy()
_ATTEMPTS = range(1, _POLICY.attempts + 1)


def _retry_in(error: DBAPIError, number: int) -> float:
    """Seconds before running a failed direct write again; raises `error` when it is not retried."""
    wait = retry_delay(_POLICY, error, number)
    if wait is None:
        raise error
    return wait


def _autocommit_engine(session: Session) -> Engine | None:
    """The engine to write on directly, in autocommit: PostgreSQL, our own untouched session."""
    engine = _direct_engine(session)
    if engine is not None and engine.dialect.name == "postgresql":
        return engine
    return None


def _write_direct(engine: Engine, logic: Logic, values: dict[str, Any]) -> Any:
    """Run single-statement write logic on a pooled connection in autocommit: the statement commits itself."""
    with direct_reads(engine) as reads:
        return _call(reads.connection(), logic, values)


def _read_direct(engine: Engine, logic: Logic, values: dict[str, Any]) -> Any:
    with direct_reads(engine) as reads:
        return _call(reads, logic, values)


def _read_on_session(session: Session, logic: Logic, values: dict[str, Any]) -> Any:
    return _call(reads_of(session), logic, values)


def query_error(exc: InvalidQuery) -> RequestValidationError:
    """A 422 in FastAPI's shape for a bad query parameter."""
    return RequestValidationError(
        [
            {
                "type": "invalid_query",
                "loc": ("query", exc.param),
                "msg": exc.message,
                "input": None,
            }
        ]
    )


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"Cannot serialize {type(value).__name__}")


def json_response(
    content: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialize once with orjson, in the same format pydantic uses (UTC as `Z`, Decimal as a string)."""
    body = orjson.dumps(content, default=_default, option=orjson.OPT_UTC_Z)
    return Response(
        body, status_code=status_code, headers=headers, media_type="application/json"
    )
