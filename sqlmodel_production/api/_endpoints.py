"""Build FastAPI endpoints, sync or async, from one sync function (no twins).

The logic of every generated endpoint is a plain function of where its
statements run: a sync `Session`, or for logic marked `@on_reads` /
`@one_statement` possibly a `Runner` (a pooled connection of its own). Where it
runs is decided once, by `where_to_run` (`db/_runners.py`), from what the logic does
and the session the request brings; `_Unit` carries the decision out. A sync
endpoint calls it directly (FastAPI runs it in its thread pool); an async
endpoint runs the very same code in SQLAlchemy's greenlet (`greenlet_spawn`),
where the session is the `AsyncSession`'s sync one and waits await. FastAPI
reads the parameters from the `__signature__` we give the endpoint, so OpenAPI
sees ordinary typed parameters.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import Path
from fastapi.exceptions import RequestValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from sqlmodel_production._compat import await_, greenlet_spawn
from sqlmodel_production._exceptions import InvalidQuery
from sqlmodel_production.api._dependencies import (
    get_database,
    open_async_override,
    open_override,
    opened_session,
    session_override,
)
from sqlmodel_production.api._fast_route import mark_generated
from sqlmodel_production.db import Replicas, RetryingTransaction, RetryPolicy, classify
from sqlmodel_production.db.internal import (
    NEEDS_ROW_SECURITY,
    WROTE,
    WROTE_NOW,
    RunOn,
    SessionState,
    WorkKind,
    autocommits,
    pooled_runner,
    retrying,
    row_settings,
    row_settings_active,
    runner_of,
    session_state,
    set_row_settings,
    where_to_run,
)
from sqlmodel_production.models import integer_range, storable

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
_WORK = "__smp_work__"


def on_reads(logic: Logic) -> Logic:
    """Mark read-only logic (SELECTs only): it gets a `Runner` instead of a `Session`.

    Its endpoint runs it on a pooled connection of its own while the request
    has no session or only its untouched own one; with any other session
    (`app.dependency_overrides`, a test's rolled-back session, a session a
    dependency already queried) it runs on that session's connection and sees
    what that session sees.
    """
    setattr(logic, _WORK, WorkKind.READ)
    return logic


def one_statement(logic: Logic) -> Logic:
    """Mark write logic that changes the database with one statement (reads around it are fine).

    Where a statement can be its own transaction at no cost (PostgreSQL), and
    the request brings no session of its own, the logic gets a `Runner` on a
    pooled connection in autocommit (no `BEGIN` or `COMMIT` round trips;
    `.connection()` for any statement) and is run again on a deadlock as
    `transaction` would; the repository's writes take either. Otherwise it
    runs as `transaction(session, single_statement=True)`.
    """
    setattr(logic, _WORK, WorkKind.SINGLE_WRITE)
    return logic


def key_parameter(name: str, column: sa.Column[Any]) -> inspect.Parameter:
    """A path parameter for a key column, bounded to its integer type's range.

    An id no row can have (out of range, a string with a NUL) is a 422 from
    validation, not an error from the database.
    """
    python_type = column.type.python_type
    limits = integer_range(column.type)
    annotation: Any = (
        Annotated[python_type, Path(ge=limits[0], le=limits[1])]
        if limits
        else storable(python_type)
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
    row_settings_of: Callable[[dict[str, Any]], Mapping[str, str]] | None = None,
) -> Callable[..., Any]:
    """An endpoint named `name` with `parameters`, running `logic(target, **params)`.

    A `write` endpoint runs `logic` as one transaction, committed after it returns
    and run again on a deadlock or serialization failure; the logic itself never
    commits. Logic marked `@on_reads` or `@one_statement` may get a `Runner` on a
    pooled connection instead of the session (see there).

    The session is the one `get_session` / `get_async_session` opened for the
    request (a dependency of the route asked for it), else the one an override
    of that dependency gives, else the endpoint's own, made only when the work
    needs one.

    With `row_settings_of` (a row scope with database settings) the endpoint
    enters the settings it gives for the request's parameters before anything
    runs: every transaction of the request sets them, and none of its work
    runs in autocommit (`db/_row_security.py`).
    """
    unit = _Unit(
        logic, getattr(logic, _WORK, WorkKind.WRITE if write else WorkKind.ORM_READ)
    )
    endpoint: Callable[..., Any]
    if async_:

        async def endpoint(**values: Any) -> Any:
            request = values.pop(_REQUEST)
            given = opened_session(request, async_=True)
            if given is not None:
                return await greenlet_spawn(
                    unit.run, given.sync_session, values, _async_sleep
                )
            override = session_override(request, async_=True)
            if override is not None:
                async with open_async_override(override, request) as given:
                    return await greenlet_spawn(
                        unit.run, given.sync_session, values, _async_sleep
                    )
            database = get_database(request)
            result = await greenlet_spawn(
                unit.alone,
                database.async_engine.sync_engine,
                database.async_replicas,
                request.scope,
                values,
                _async_sleep,
            )
            if result is _NEEDS_SESSION:
                async with database.async_session() as own:
                    result = await greenlet_spawn(
                        unit.run, own.sync_session, values, _async_sleep
                    )
            unit.wrote(request.scope)
            return result

    else:

        def endpoint(**values: Any) -> Any:
            request = values.pop(_REQUEST)
            given = opened_session(request, async_=False)
            if given is not None:
                return unit.run(given, values, time.sleep)
            override = session_override(request, async_=False)
            if override is not None:
                with open_override(override, request) as given:
                    return unit.run(given, values, time.sleep)
            database = get_database(request)
            result = unit.alone(
                database.engine, database.replicas, request.scope, values, time.sleep
            )
            if result is _NEEDS_SESSION:
                with database.session() as own:
                    result = unit.run(own, values, time.sleep)
            unit.wrote(request.scope)
            return result

    if row_settings_of is not None:
        endpoint = _with_row_settings(endpoint, row_settings_of, async_=async_)
    request = inspect.Parameter(
        _REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request
    )
    endpoint.__signature__ = inspect.Signature([*parameters, request])  # type: ignore[union-attr]
    endpoint.__name__ = endpoint.__qualname__ = name
    mark_generated(endpoint)
    return endpoint


def _with_row_settings(
    endpoint: Callable[..., Any],
    settings_of: Callable[[dict[str, Any]], Mapping[str, str]],
    *,
    async_: bool,
) -> Callable[..., Any]:
    """`endpoint`, run with the row settings of its parameters entered."""
    secured: Callable[..., Any]
    if async_:

        async def secured(**values: Any) -> Any:
            with row_settings(settings_of(values)):
                return await endpoint(**values)

    else:

        def secured(**values: Any) -> Any:
            with row_settings(settings_of(values)):
                return endpoint(**values)

    setattr(secured, NEEDS_ROW_SECURITY, True)
    return secured


_REQUEST = "_request"
_NEEDS_SESSION = object()
"""What `_Unit.alone` answers when the work needs a session of the endpoint's own."""
Sleep = Callable[[float], None]


class _Unit:
    """One endpoint's unit of work, run where `where_to_run` says; written once, sync.

    Async endpoints run these methods in SQLAlchemy's greenlet, with the
    `AsyncSession`'s sync session and a `sleep` that awaits.
    """

    def __init__(self, logic: Logic, work: WorkKind) -> None:
        self.logic = logic
        self.work = work

    def alone(
        self,
        engine: Engine,
        replicas: Replicas,
        scope: MutableMapping[str, Any],
        values: dict[str, Any],
        sleep: Sleep,
    ) -> Any:
        """Run the work when the request brings no session; `_NEEDS_SESSION` if it needs one.

        A read goes to a replica unless this request, or recently its client
        (`ReadYourWritesMiddleware`), wrote.
        """
        where = where_to_run(
            self.work,
            SessionState.NONE,
            autocommit=autocommits(engine),
            replica=bool(len(replicas)) and not scope.get(WROTE),
        )
        if where is RunOn.REPLICA:
            return self.on_replica(replicas, engine, values, sleep)
        if where is RunOn.POOLED:
            return self.on_pooled(engine, values, sleep)
        return _NEEDS_SESSION

    def wrote(self, scope: MutableMapping[str, Any]) -> None:
        """Remember that this request wrote: its later reads go to the primary."""
        if self.work in (WorkKind.SINGLE_WRITE, WorkKind.WRITE):
            scope[WROTE] = WROTE_NOW

    def on_replica(
        self, replicas: Replicas, primary: Engine, values: dict[str, Any], sleep: Sleep
    ) -> Any:
        """Run on a replica that may serve reads now; on the primary if none can, or it fails."""
        replica = replicas.pick()
        if replica is not None:
            try:
                return self.on_pooled(replica, values, sleep)
            except (sa.exc.DBAPIError, OSError) as exc:
                if not _unavailable(exc):
                    raise
                replicas.failed(replica, exc)
        return self.on_pooled(primary, values, sleep)

    def on_pooled(self, engine: Engine, values: dict[str, Any], sleep: Sleep) -> Any:
        """Run on a pooled connection of its own, again after a deadlock."""

        def once() -> Any:
            with pooled_runner(engine) as runner:
                return _call(runner, self.logic, values)

        return retrying(once, policy=_POLICY, sleep=sleep)

    def run(self, session: Session, values: dict[str, Any], sleep: Sleep) -> Any:
        """Run with the request's session at hand, where `where_to_run` says."""
        bind = session.get_bind()
        if row_settings_active() and (
            session.in_transaction() or not isinstance(session.bind, Engine)
        ):
            # A dependency began this transaction before the scope was known, or
            # the session joins one of its connection (a test's rolled-back session).
            set_row_settings(session.connection())
        where = where_to_run(
            self.work, session_state(session), autocommit=autocommits(bind)
        )
        if where is RunOn.POOLED:
            assert isinstance(bind, Engine)  # an untouched session of ours
            return self.on_pooled(bind, values, sleep)
        if where is RunOn.SESSION:
            target = runner_of(session) if self.work is WorkKind.READ else session
            return _call(target, self.logic, values)
        if where is RunOn.OPEN_TRANSACTION:
            # A dependency already used this transaction: commit its work with
            # ours; it could not be run again, so neither is ours.
            result = _call(session, self.logic, values)
            session.commit()
            return result
        attempts = RetryingTransaction(
            session,
            policy=_POLICY,
            single_statement=self.work is WorkKind.SINGLE_WRITE,
            sleep=sleep,
        )
        for attempt in attempts:
            with attempt:
                result = _call(session, self.logic, values)
        return result


def _unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the server could not be used (lost, refused, full), not that the work failed."""
    if isinstance(exc, OSError) or getattr(exc, "connection_invalidated", False):
        return True
    found = classify(exc)
    return found is not None and found.kind.transient


def _call(target: Any, logic: Logic, values: dict[str, Any]) -> Any:
    try:
        return logic(target, **values)
    except InvalidQuery as exc:
        raise query_error(exc) from None


_POLICY = RetryPolicy()


def _async_sleep(seconds: float) -> None:
    """Sleep without blocking the event loop, from sync code in SQLAlchemy's greenlet."""
    await_(asyncio.sleep(seconds))


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


def json_response(
    content: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialize once with orjson, in the JSON form pydantic gives each value.

    orjson writes what it knows as pydantic does (UTC as `Z`); every other value
    (`Decimal`, `timedelta`, `bytes`, asyncpg's own `UUID` class) is written by
    pydantic itself.
    """
    body = orjson.dumps(content, default=to_jsonable_python, option=orjson.OPT_UTC_Z)
    return Response(
        body, status_code=status_code, headers=headers, media_type="application/json"
    )
