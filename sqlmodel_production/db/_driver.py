"""Running `Prepared` statements straight on the driver, and the listeners around them.

A `Prepared` statement runs on the pooled connection's driver cursor (or the
driver's own API, `NativeDriver`): no `Connection`, no `Result`, no cache key.
What cannot run that way (a statement rendered per execution, an engine with
listeners of other libraries on its statements or executions, with echo on or
with a `schema_translate_map`) goes through a `Connection` on the same pooled
connection, so every statement is still seen, logged and translated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sqlmodel_production._compat import raise_dbapi_error

from ._errors import (
    ConnectionLost,
    connection_failed,
    lost_connection,
    mark_lost_connections,
)
from ._prepared import (
    DIRECT_SAFE,
    NO_PARAMS,
    NativeDriver,
    Prepared,
    Row,
    _Compiled,
    dicts,
)

__all__ = ["checkout", "on_driver", "run_on_driver", "run_prepared"]


def run_prepared(
    connection: sa.Connection,
    statement: Prepared,
    params: Mapping[str, Any] = NO_PARAMS,
) -> list[Row]:
    """`statement`'s rows, run straight on `connection`'s driver cursor, in its transaction.

    For statements that return many rows (a bulk INSERT ... RETURNING): no
    `Result` and no `Row` per row, only the dicts, which keeps the garbage
    collector's work down as well. The engine's statement listeners see it as
    they see `PooledRunner`' statements; where a `PooledRunner` would use a
    `Connection` (see `_direct_listeners`), or for a statement rendered per
    execution, it goes through `connection.execute`.
    """
    engine = connection.engine
    driver = on_driver(statement, engine, connection.get_execution_options())
    if driver is None:
        return dicts(connection.execute(statement.statement, params))
    if not connection.in_transaction():
        connection.begin()  # as `execute` would: the caller's commit() commits it
    return run_on_driver(
        *driver, params, engine, connection.connection, connection.invalidate
    )


_Listeners = tuple[list[Any], list[Any], list[Any]]
"""The `before_cursor_execute`, `after_cursor_execute` and `handle_error` listeners to call."""


def on_driver(
    statement: Prepared | sa.Select[Any], engine: Engine, options: Mapping[str, Any]
) -> tuple[_Compiled, _Listeners] | None:
    """`statement`'s compiled form and the listeners to call, if it can run on the driver; None for a `Connection`."""
    listeners = _direct_listeners(engine, options)
    if listeners is None or not isinstance(statement, Prepared):
        return None
    form = statement.form(engine.dialect)
    return None if form is None else (form, listeners)


def run_on_driver(
    form: _Compiled,
    listeners: _Listeners,
    params: Mapping[str, Any],
    engine: Engine,
    pooled: Any,
    invalidate: Callable[[BaseException], None],
    native: NativeDriver | None = None,
) -> list[Row]:
    """Execute `form` on the pooled connection, calling the listeners around it.

    Through the driver's own API where there is one (`native`; listeners then
    get no cursor), else on a cursor.
    """
    before, after, on_error = listeners
    sql, parameters = form.sql, form.parameters(params)
    cursor: Any = None if native is not None else pooled.cursor()
    try:
        context = SimpleNamespace() if before or after else None
        for listener in before:
            sql, parameters = listener(None, cursor, sql, parameters, context, False)
        try:
            if native is None:
                cursor.execute(sql, parameters)
            else:
                if not form.described:
                    form.describe(native.describe(pooled.dbapi_connection, sql))
                fetched = native.fetch(pooled.dbapi_connection, sql, parameters)
        except (engine.dialect.loaded_dbapi.Error, OSError) as exc:
            error = _error(engine, pooled, exc, cursor, sql, parameters, invalidate)
            if on_error:
                _report(on_error, exc, error, context, sql, parameters, engine)
            raise error from exc
        for listener in after:
            listener(None, cursor, sql, parameters, context, False)
        return form.rows(cursor) if native is None else form.rows_of(fetched)
    finally:
        if cursor is not None:
            cursor.close()


def _report(
    listeners: list[Any],
    exc: BaseException,
    error: Exception,
    context: Any,
    sql: str,
    parameters: Any,
    engine: Engine,
) -> None:
    """Call the marked `handle_error` listeners with what SQLAlchemy's `ExceptionContext` would carry."""
    failure = SimpleNamespace(
        original_exception=exc,
        sqlalchemy_exception=error,
        execution_context=context,
        statement=sql,
        parameters=parameters,
        engine=engine,
        connection=None,
        cursor=None,
        dialect=engine.dialect,
        is_disconnect=isinstance(error, ConnectionLost),
        invalidate_pool_on_disconnect=True,
        is_pre_ping=False,
    )
    for listener in listeners:
        listener(failure)


def _error(
    engine: Engine,
    pooled: Any,
    exc: Any,
    cursor: Any,
    sql: str,
    parameters: Any,
    invalidate: Callable[[BaseException], None],
) -> Exception:
    """The error SQLAlchemy would raise; a lost connection is not given back to the pool."""
    dialect = engine.dialect
    dbapi_connection = pooled.dbapi_connection
    lost = (
        dialect.is_disconnect(exc, dbapi_connection, cursor)
        # psycopg's "connection socket closed" has no SQLSTATE; the connection knows.
        or getattr(dbapi_connection, "broken", False) is True
    )
    if lost or connection_failed(exc):
        gone = lost_connection(sql, parameters, exc, pooled.dbapi_connection)
        invalidate(exc)
        return gone
    error: Exception = sa.exc.DBAPIError.instance(
        sql,
        parameters,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=engine.hide_parameters,
        connection_invalidated=lost,
        dialect=dialect,
    )
    return error


def _direct_listeners(engine: Engine, options: Mapping[str, Any]) -> _Listeners | None:
    """The statement listeners to call around a statement run on the driver; None to use a `Connection`.

    A `Connection` is needed for an unmarked statement listener (another
    library's), for any `before_execute` or `after_execute` listener and any
    unmarked `handle_error` listener (only a `Connection` calls them; the
    package's own `mark_lost_connections` excepted: `_error` does its work), for echo (SQLAlchemy logs each
    statement it runs) and for a `schema_translate_map` (it renders schema names
    at each execution).
    """
    dispatch = engine.dispatch
    if (
        engine.echo
        or options.get("schema_translate_map")
        or dispatch.before_execute
        or dispatch.after_execute
    ):
        return None
    before = list(dispatch.before_cursor_execute)
    after = list(dispatch.after_cursor_execute)
    on_error = []
    # Loops, not all() over a generator: this runs before every statement.
    for listener in engine.dialect.dispatch.handle_error:
        if listener is not mark_lost_connections:
            if not getattr(listener, DIRECT_SAFE, False):
                return None
            on_error.append(listener)
    for listener in before:
        if not getattr(listener, DIRECT_SAFE, False):
            return None
    for listener in after:
        if not getattr(listener, DIRECT_SAFE, False):
            return None
    return before, after, on_error


def checkout(engine: Engine) -> Any:
    """`engine.raw_connection()`, its failures raised as `Connection` raises them."""
    try:
        return engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as exc:
        raise_dbapi_error(exc, engine)
    except OSError as exc:  # asyncpg's adapter lets socket errors through
        raise ConnectionLost(None, None, exc) from exc
