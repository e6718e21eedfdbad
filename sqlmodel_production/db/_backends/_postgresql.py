"""PostgreSQL: psycopg 3 and asyncpg, directly or behind PgBouncer.

Connected directly, the statement timeout and `application_name` travel as
startup parameters, and a statement can be its own transaction at no cost
(both drivers switch to autocommit without a round trip): reads on a pooled
connection of their own and single-statement writes send no `BEGIN` /
`COMMIT`. Many rows go in one `INSERT ... SELECT FROM unnest(arrays)` per
`UNNEST_BATCH` rows.

With asyncpg, statements on a pooled connection go through asyncpg's own
`fetch`: one exchange for a cached statement, where SQLAlchemy's adapter
prepares, then executes.

Behind a pooler in transaction mode (`DATABASE_POOLER=pgbouncer`) a server
connection serves another client after every transaction, so nothing may live
on it between transactions: no named prepared statements (asyncpg's statement
cache is off and SQLAlchemy's statements are unnamed; psycopg never prepares)
and no startup options (PgBouncer refuses `options`). The statement timeout is
then set with `SET LOCAL` at the start of every transaction the engine begins,
and checked once at start-up against the role's default, which covers the
statements that run in autocommit (see `docs/scaling.md`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from sqlmodel_production._compat import await_, raise_adapted_error, type_affinity
from sqlmodel_production.db._error_codes import ClassifiedError, ErrorKind
from sqlmodel_production.db._prepared import NativeDriver, Prepared, RunPrepared

from ._common import by_key, insert_values, upsert_on_conflict
from ._profile import (
    Backend,
    ConnectionSettings,
    Pooler,
    Profile,
    Row,
    current_utc,
)

UNNEST_BATCH = 10_000
"""Rows per `INSERT ... SELECT FROM unnest(...)` statement."""


def _connect_args(settings: ConnectionSettings, async_: bool) -> dict[str, Any]:
    pooled = settings.database_pooler is Pooler.PGBOUNCER
    timeout = settings.statement_timeout
    startup: dict[str, str] = {}
    if timeout is not None and not pooled:
        startup["statement_timeout"] = str(round(timeout * 1000))
    if async_:
        args: dict[str, Any] = {
            "timeout": settings.connect_timeout,
            "server_settings": {
                "application_name": settings.application_name,
                **startup,
            },
        }
        if pooled:
            # No statement outlives its exchange: asyncpg's cache off, and
            # SQLAlchemy's prepared statements unnamed.
            args["statement_cache_size"] = 0
            args["prepared_statement_cache_size"] = 0
            args["prepared_statement_name_func"] = _unnamed_statement
        return args
    args = {
        "connect_timeout": settings.connect_timeout,
        "application_name": settings.application_name,
    }
    if startup:
        args["options"] = " ".join(f"-c {k}={v}" for k, v in startup.items())
    if pooled:
        args["prepare_threshold"] = None  # psycopg: never prepare server-side
    return args


def _autocommits(driver: str, pooler: str) -> bool:
    """Both drivers switch to autocommit for free, directly or behind PgBouncer.

    Behind a transaction-mode pooler two exchanges of one statement may reach
    two server connections when no transaction holds them together: psycopg
    sends each statement in one exchange (it never prepares there), and asyncpg
    sends its unnamed statement again with the execution (see
    `_unnamed_statement`).
    """
    return True


def _asyncpg_describe(adapted: Any, sql: str) -> list[int]:
    """The type OID of each result column of `sql`, from an unnamed statement asyncpg prepares."""
    try:
        statement = await_(adapted.driver_connection.prepare(sql, name=""))
    except Exception as exc:
        raise_adapted_error(adapted, exc)
    return [attribute.type.oid for attribute in statement.get_attributes()]


def _asyncpg_fetch(adapted: Any, sql: str, parameters: Sequence[Any]) -> Any:
    """Rows through asyncpg's own `fetch`.

    SQLAlchemy's adapter prepares a statement, then executes it: two exchanges.
    asyncpg's `fetch` executes a cached statement in one; with its cache off
    (behind a pooler) it describes and then executes the unnamed statement.
    """
    try:
        return await_(adapted.driver_connection.fetch(sql, *parameters))
    except Exception as exc:
        raise_adapted_error(adapted, exc)


def _unnamed_statement() -> str:
    """The name of every statement SQLAlchemy's asyncpg adapter prepares behind a pooler: none.

    A named statement would stay on the server connection that prepared it
    after the transaction (PgBouncer 1.18 does not track them), one more per
    transaction, until that connection ends. The unnamed statement is replaced
    by the next one, and with its statement cache off asyncpg sends it again
    with each execution, so no exchange depends on the server the previous one
    reached.
    """
    return ""


def _tune(engine: Engine, settings: ConnectionSettings) -> None:
    if settings.database_pooler is not Pooler.PGBOUNCER:
        return
    timeout = settings.statement_timeout
    if timeout is None:
        return
    set_local = f"SET LOCAL statement_timeout = {round(timeout * 1000)}"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A pooler hands the server connection to another client after the
        # transaction: the timeout lives exactly as long as the transaction.
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql(set_local)


def _check(connection: sa.Connection, settings: ConnectionSettings) -> list[str]:
    """Whether the statement timeout holds for statements outside a transaction.

    Directly connected, it arrives as a startup option; behind PgBouncer only a
    default of the role or database can carry it to autocommit statements
    (reads on a pooled connection, single-statement writes).
    """
    if settings.statement_timeout is None:
        return []
    expected = round(settings.statement_timeout * 1000)
    applied = connection.exec_driver_sql(
        "SELECT setting::int FROM pg_settings WHERE name = 'statement_timeout'"
    ).scalar_one()
    if settings.database_pooler is Pooler.PGBOUNCER:
        if applied and applied <= expected:
            return []
        return [
            f"statement_timeout is {applied} ms outside transactions, not "
            f"STATEMENT_TIMEOUT = {expected} ms: behind PgBouncer, reads and "
            "single-statement writes (which run in autocommit) get only the role's or "
            "the database's default. Set it there: ALTER ROLE <user> SET "
            f"statement_timeout = {expected}; (or ALTER DATABASE ...). Transactions "
            "get SET LOCAL either way (docs/scaling.md)."
        ]
    if applied == expected:
        return []
    return [
        f"statement_timeout is {applied} ms, not STATEMENT_TIMEOUT = {expected} ms: "
        "the startup option did not arrive. Is DATABASE_URL a pooler that drops it "
        "(PgBouncer with ignore_startup_parameters = options)? Then set "
        "DATABASE_POOLER=pgbouncer (docs/scaling.md)."
    ]


# Column types whose values go into an array parameter and come out of
# `unnest` unchanged. Enums need their own array type, JSON and ARRAY values do
# not round-trip through an array: those tables keep SQLAlchemy's batched VALUES.
_ARRAY_SAFE = (
    sa.Integer,
    sa.String,
    sa.Boolean,
    sa.Numeric,
    sa.DateTime,
    sa.Date,
    sa.Time,
    sa.Uuid,
)


def _insert_batch(
    connection: sa.Connection,
    table: sa.Table,
    names: tuple[str, ...],
    batch: list[Row],
    returning: tuple[sa.ColumnElement[Any], ...],
    run: RunPrepared,
) -> list[Row]:
    """Batched inserts: one array parameter per column, one statement per `UNNEST_BATCH` rows.

    `INSERT ... SELECT ... FROM unnest(:a, :b) WITH ORDINALITY ORDER BY ordinality`
    sends each column once, as an array, instead of a VALUES list with a
    parameter per value, and inserts in parameter order, so generated keys
    ascend with it; the rows are matched back to their parameters by primary
    key. Rows that cannot go that way take SQLAlchemy's batched VALUES.
    """
    if not _unnest_fits(table, names, returning):
        return insert_values(connection, table, names, batch, returning, run)
    statement = _unnest_statement(table, names, returning)
    _send_binary(connection)
    returned: list[Row] = []
    for start in range(0, len(batch), UNNEST_BATCH):
        chunk = batch[start : start + UNNEST_BATCH]
        params = {name: [row[name] for row in chunk] for name in names}
        returned += by_key(table, chunk, run(connection, statement, params))
    return returned


def _unnest_fits(
    table: sa.Table,
    names: tuple[str, ...],
    returning: Sequence[sa.ColumnElement[Any]],
) -> bool:
    """Whether rows with these columns can go through `unnest`.

    The returned rows are put back in parameter order by their one primary key, so
    it must be returned, and given in every row or be a generated integer that
    follows the order of insertion (a sequence or identity, as SQLAlchemy's
    insertmanyvalues assumes).
    A column left out must have no Python-side default: `INSERT ... SELECT` would
    compute it once for all the rows.
    """
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or keys[0].name not in {c.key for c in returning}:
        return False  # a composite key, or one not returned: nothing to match rows by
    (key,) = keys
    if key.name not in names and table.autoincrement_column is not key:
        return False
    if any(c.default is not None for c in table.columns if c.name not in names):
        return False
    return all(
        issubclass(type_affinity(table.c[name].type) or type(None), _ARRAY_SAFE)
        and not isinstance(_impl(table.c[name].type), sa.Enum)
        for name in names
    )


def _impl(type_: sa.types.TypeEngine[Any]) -> sa.types.TypeEngine[Any]:
    while isinstance(type_, sa.TypeDecorator):
        type_ = type_.impl_instance
    return type_


@functools.lru_cache(maxsize=256)
def _unnest_statement(
    table: sa.Table,
    names: tuple[str, ...],
    returning: tuple[sa.ColumnElement[Any], ...],
) -> Prepared:
    arrays = [
        sa.cast(
            sa.bindparam(name, type_=_Array(table.c[name].type)),
            postgresql.ARRAY(table.c[name].type),
        )
        for name in names
    ]
    rows = (
        sa.func.unnest(*arrays)
        .table_valued(*names, with_ordinality="ordinality")
        .render_derived()
    )
    select = sa.select(*(rows.c[name] for name in names)).order_by(rows.c.ordinality)
    return Prepared(
        sa.insert(table).from_select(list(names), select).returning(*returning)
    )


class _Array(sa.types.UserDefinedType[list[Any]]):
    """A list parameter of `item` values, each through `item`'s bind processor.

    Unlike `ARRAY(item)`, it hands the driver a list it sends in binary
    (see `_send_binary`); the statement casts it to the column's array type.
    """

    cache_ok = True

    def __init__(self, item: sa.types.TypeEngine[Any]) -> None:
        self.item = item

    def get_col_spec(self, **kw: Any) -> str:
        return "ARRAY"

    def bind_processor(
        self, dialect: sa.Dialect
    ) -> Callable[[list[Any] | None], Any] | None:
        item = self.item.dialect_impl(dialect).bind_processor(dialect)
        wrap = _BinaryList if dialect.driver in _PSYCOPG else list

        def process(values: list[Any] | None) -> Any:
            if values is None:
                return None
            return wrap(values if item is None else [item(v) for v in values])

        return process


class _BinaryList(list[Any]):
    """A list psycopg sends as a binary array, once `_send_binary` registered it."""


_PSYCOPG = frozenset({"psycopg", "psycopg_async"})


def _send_binary(connection: sa.Connection) -> None:
    """Have psycopg send `_BinaryList` parameters in binary on this connection.

    psycopg sends a plain list as a text array, quoting and escaping every item
    in Python: about twice the time of the binary format, where each item goes
    through psycopg's C dumpers. Only this private class is registered, on this
    connection: nothing else changes. asyncpg always sends arrays in binary.
    """
    if connection.dialect.driver in _PSYCOPG:
        from psycopg.types.array import ListBinaryDumper

        adapters = connection.connection.driver_connection.adapters  # type: ignore[union-attr]
        adapters.register_dumper(_BinaryList, ListBinaryDumper)


# PostgreSQL SQLSTATEs; classes ("08") match every code that starts with them.
_ERRORS = {
    "23505": ErrorKind.UNIQUE_VIOLATION,
    "23503": ErrorKind.MISSING_REFERENCE,  # refined below by the message
    "23502": ErrorKind.NOT_NULL_VIOLATION,
    "23514": ErrorKind.CHECK_VIOLATION,
    "42501": ErrorKind.ROW_SECURITY_VIOLATION,  # only "violates row-level security", below
    "22001": ErrorKind.INVALID_DATA,  # string too long
    "22003": ErrorKind.INVALID_DATA,  # numeric out of range
    "22P02": ErrorKind.INVALID_DATA,  # invalid text representation
    "22007": ErrorKind.INVALID_DATA,  # invalid datetime format
    "22008": ErrorKind.INVALID_DATA,  # datetime out of range
    "22021": ErrorKind.INVALID_CHARACTER,  # character not in repertoire (a NUL in text)
    "22P05": ErrorKind.INVALID_CHARACTER,  # untranslatable character
    "40001": ErrorKind.SERIALIZATION_FAILURE,
    "40P01": ErrorKind.DEADLOCK,
    "55P03": ErrorKind.LOCK_TIMEOUT,
    "57014": ErrorKind.STATEMENT_TIMEOUT,
    "53300": ErrorKind.TOO_MANY_CONNECTIONS,
    "57P01": ErrorKind.CONNECTION_LOST,  # admin shutdown (also pg_terminate_backend)
    "57P02": ErrorKind.CONNECTION_LOST,  # crash shutdown
    "57P03": ErrorKind.CONNECTION_LOST,  # cannot connect now (starting, stopping, recovering)
    "57P04": ErrorKind.CONNECTION_LOST,  # database dropped
    "57P05": ErrorKind.CONNECTION_LOST,  # idle session timeout
    "08": ErrorKind.CONNECTION_LOST,
}


_PG_KEY = re.compile(r"Key \((?P<columns>[^)]+)\)=")
_PG_RLS_TABLE = re.compile(
    r'row-level security policy (?:"[^"]*" )?for table "(?P<table>[^"]+)"'
)


def _read_error(error: BaseException, sqlstate: str) -> ClassifiedError | None:
    kind = _ERRORS.get(sqlstate) or _ERRORS.get(sqlstate[:2])
    if kind is None:
        return None
    diag = getattr(
        error, "diag", None
    )  # psycopg keeps details on .diag, asyncpg on the error
    source = diag if diag is not None else error
    detail = (
        getattr(source, "message_detail", None) or getattr(source, "detail", None) or ""
    )
    if kind is ErrorKind.MISSING_REFERENCE and "still referenced" in detail:
        kind = ErrorKind.STILL_REFERENCED
    if kind is ErrorKind.ROW_SECURITY_VIOLATION:
        # 42501 is any insufficient privilege; a missing GRANT is the app's bug (a 500).
        message = getattr(source, "message_primary", None) or str(error)
        if "row-level security" not in message:
            return None
        named = _PG_RLS_TABLE.search(message)
        return ClassifiedError(
            kind, code=sqlstate, table=named["table"] if named else None
        )
    columns: tuple[str, ...] = ()
    if match := _PG_KEY.search(detail):
        columns = tuple(c.strip().strip('"') for c in match["columns"].split(","))
    elif column := getattr(source, "column_name", None):
        columns = (column,)
    table = getattr(source, "table_name", None)
    if kind is ErrorKind.STILL_REFERENCED:
        table, columns = (
            None,
            (),
        )  # those name the referencing table, not the one written to
    return ClassifiedError(
        kind,
        code=sqlstate,
        constraint=getattr(source, "constraint_name", None),
        table=table,
        columns=columns,
    )


@compiles(current_utc, "postgresql")
def _current_utc(element: current_utc, compiler: SQLCompiler, **kw: Any) -> str:
    # A timestamptz: the start of the transaction.
    return "now()"


PROFILE = Profile(
    backend=Backend.POSTGRESQL,
    url_names=("postgresql", "postgres"),
    dialect="postgresql",
    drivers=("psycopg", "asyncpg"),
    autocommit_statements=_autocommits,
    connect_args=_connect_args,
    tune=_tune,
    insert_batch=_insert_batch,
    read_error=_read_error,
    upsert=functools.partial(upsert_on_conflict, postgresql.insert),
    check=_check,
    native={"asyncpg": NativeDriver(describe=_asyncpg_describe, fetch=_asyncpg_fetch)},
    time_zones=True,
    replicas=True,
    poolers=True,
    row_security=True,
    server_limits_sql=(
        "SHOW max_connections",
        "SELECT current_setting('superuser_reserved_connections')::int"
        " + coalesce(current_setting('reserved_connections', true), '0')::int",
    ),
)
