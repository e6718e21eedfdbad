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
from sqlalchemy.util import await_only, greenlet_spawn
from starlette.requests import Request
from starlette.responses import Response

from sqlmodel_production.api._dependencies import (
    get_database,
    open_async_override,
    open_override,
    opened_session,
    session_override,
)
from sqlmodel_production.crud._errors import InvalidQuery
from sqlmodel_production.db._database import DIRECT_READS
from sqlmodel_production.db._reads import direct_reads, reads_of
from sqlmodel_production.db._retry import RetryPolicy
from sqlmodel_production.db._transaction import (
    autocommits,
    retry_delay,
    transaction,
)
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

    On PostgreSQL, unless the request already has a session (a route dependency
    opened one, or an override gives it), the logic gets `DirectReads` on a
    pooled connection in autocommit instead of a session (no `BEGIN` or `COMMIT`
    round trips; `.connection()` for any statement) and is run again on a
    deadlock as `transaction` would; the repository's writes take either.
    Otherwise it runs as `transaction(session, single_statement=True)`.
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
    """An endpoint named `name` with `parameters`, running `logic(session, **params)`.

    A `write` endpoint runs `logic` as one transaction, committed after it returns
    and run again on a deadlock or serialization failure (`transaction`); the
    logic itself never commits; logic marked `@one_statement` runs in autocommit on
    PostgreSQL. Logic marked `@on_reads` gets `Reads` instead of the session.

    The session is the one `get_session` / `get_async_session` opened for the
    request (a dependency of the route asked for it), else the one an override
    of that dependency gives, else the endpoint's own: none at all for reads and
    PostgreSQL single-statement writes, which run on a pooled connection.
    """
    run = _Run(
        logic,
        write=write,
        reads=getattr(logic, _ON_READS, False),
        single=getattr(logic, _ONE_STATEMENT, False),
    )
    endpoint: Callable[..., Any]
    if async_:

        async def endpoint(**values: Any) -> Any:
            request = values.pop(_REQUEST)
            session = opened_session(request, async_=True)
            if session is not None:
                return await run.on_async_session(session, values)
            override = session_override(request, async_=True)
            if override is not None:
                async with open_async_override(override, request) as session:
                    return await run.on_async_session(session, values)
            database = get_database(request)
            engine = run.direct_engine(database.async_engine.sync_engine)
            if engine is not None:
                return await greenlet_spawn(run.retrying, engine, values, _async_sleep)
            async with database.async_session() as session:
                return await run.on_async_session(session, values)

    else:

        def endpoint(**values: Any) -> Any:
            request = values.pop(_REQUEST)
            session = opened_session(request, async_=False)
            if session is not None:
                return run.on_session(session, values)
            override = session_override(request, async_=False)
            if override is not None:
                with open_override(override, request) as session:
                    return run.on_session(session, values)
            database = get_database(request)
            engine = run.direct_engine(database.engine)
            if engine is not None:
                return run.retrying(engine, values, time.sleep)
            with database.session() as session:
                return run.on_session(session, values)

    request = inspect.Parameter(
        _REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request
    )
    endpoint.__signature__ = inspect.Signature([*parameters, request])  # type: ignore[union-attr]
    endpoint.__name__ = endpoint.__qualname__ = name
    return endpoint


_REQUEST = "_request"


class _Run:
    """How one endpoint's logic runs: on a pooled connection of its own, or on a session."""

    def __init__(self, logic: Logic, *, write: bool, reads: bool, single: bool) -> None:
        self.logic = logic
        self.write = write
        self.reads = reads
        self.single = single

    def direct_engine(self, engine: Engine) -> Engine | None:
        """`engine`, if this logic runs without a session on it: reads, and single writes on PostgreSQL."""
        if self.reads or (self.write and self.single and autocommits(engine)):
            return engine
        return None

    def direct(self, engine: Engine, values: dict[str, Any]) -> Any:
        """Run on a pooled connection (`DirectReads`), a single write in autocommit."""
        with direct_reads(engine) as reads:
            return _call(reads, self.logic, values)

    def retrying(
        self, engine: Engine, values: dict[str, Any], sleep: Callable[[float], None]
    ) -> Any:
        """`direct`, run again after a deadlock or lock timeout as `transaction` would."""
        number = 1
        while True:  # retry_delay gives up after the policy's last attempt
            try:
                return self.direct(engine, values)
            except DBAPIError as exc:
                wait = retry_delay(_POLICY, exc, number)
                if wait is None:
                    raise
            sleep(wait)
            number += 1

    def on_session(self, session: Session, values: dict[str, Any]) -> Any:
        if not self._transacts(session):
            return self._settled(session, values)
        for attempt in transaction(session, single_statement=self.single):
            with attempt:
                result = _call(session, self.logic, values)
        return result

    async def on_async_session(self, session: Any, values: dict[str, Any]) -> Any:
        if not self._transacts(session.sync_session):
            return await session.run_sync(self._settled, values)
        async for attempt in transaction(session, single_statement=self.single):
            async with attempt:
                result = await session.run_sync(_call, self.logic, values)
        return result

    def _transacts(self, session: Session) -> bool:
        """Whether the logic runs as a retried transaction of the session (a write of its own)."""
        return (
            self.write
            and not session.in_transaction()
            and self._direct_engine_of(session) is None
        )

    def _direct_engine_of(self, session: Session) -> Engine | None:
        engine = _untouched(session)
        return self.direct_engine(engine) if engine is not None else None

    def _settled(self, session: Session, values: dict[str, Any]) -> Any:
        """Run the logic where no retried transaction is needed: directly, in the session's open one, or reading."""
        engine = self._direct_engine_of(session)
        if engine is not None:
            return self.direct(engine, values)
        if self.write:
            # A dependency already wrote or read in this transaction: commit its work
            # with ours; it could not be run again, so neither is ours.
            result = _call(session, self.logic, values)
            session.commit()
            return result
        return _call(reads_of(session) if self.reads else session, self.logic, values)


def _call(target: Any, logic: Logic, values: dict[str, Any]) -> Any:
    try:
        return logic(target, **values)
    except InvalidQuery as exc:
        raise query_error(exc) from None


def _untouched(session: Session) -> Engine | None:
    """The engine of our own per-request session while nothing used it yet; None otherwise."""
    if session.info.get(DIRECT_READS) and not session.in_transaction():
        bind = session.bind
        if isinstance(bind, Engine):
            return bind
    return None


_POLICY = RetryPolicy()


def _async_sleep(seconds: float) -> None:
    """Sleep without blocking the event loop, from sync code in SQLAlchemy's greenlet."""
    await_only(asyncio.sleep(seconds))


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
