"""MariaDB (and MySQL): PyMySQL and asyncmy.

`utf8mb4`, strict mode (bad data fails instead of being truncated), UTC, the
statement timeout as `max_statement_time`, and a session `wait_timeout` kept
above the pool's recycle so the server never drops a connection the pool still
trusts. No autocommit statements: PyMySQL switches with a `SET autocommit`
round trip. MariaDB has no `INSERT ... RETURNING` for many rows in order nor
`ON CONFLICT`: upserts read the row back by its key.

Generic column types keep what Python gives them: a `datetime`, `time` or
`timedelta` (`Interval`) column keeps microseconds (`DATETIME(6)`, `TIME(6)`;
MariaDB's default drops them), and a `float` column is a `DOUBLE` (a bare
`FLOAT` is single precision: `0.1234567890123` would read back `0.123457`).
A type given its precision (`mysql.DATETIME(fsp=3)`, `Float(24)`) keeps it.
An `ENUM` sorts by its text, as it compares (MariaDB would order it by
declaration, and a keyset page would skip rows).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import GenericTypeCompiler, SQLCompiler

from sqlmodel_production.db._error_codes import ClassifiedError, ErrorKind

from ._common import insert_values
from ._profile import (
    Backend,
    ConnectionSettings,
    Profile,
    Row,
    current_utc,
    exact_text,
    never,
    sort_value,
)

# Fail on bad data instead of truncating it, whatever the server's default mode.
SQL_MODE = "STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
# Keep the server from closing an idle connection before the pool recycles it.
_RECYCLE_MARGIN = 60


@compiles(sa.DateTime, "mysql")
@compiles(sa.DateTime, "mariadb")
def _datetime(type_: sa.DateTime, compiler: GenericTypeCompiler, **kw: Any) -> str:
    return "DATETIME(6)"


@compiles(sa.Time, "mysql")
@compiles(sa.Time, "mariadb")
def _time(type_: sa.Time, compiler: GenericTypeCompiler, **kw: Any) -> str:
    return "TIME(6)"


@compiles(sa.Float, "mysql")
@compiles(sa.Float, "mariadb")
def _float(type_: sa.Float[Any], compiler: GenericTypeCompiler, **kw: Any) -> str:
    if type_.precision is None:
        return "DOUBLE"
    return compiler.visit_float(type_, **kw)


@compiles(sort_value, "mysql")
@compiles(sort_value, "mariadb")
def _sort_value(element: sort_value, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"CAST({column} AS CHAR)" if isinstance(element.type, sa.Enum) else column


@compiles(current_utc, "mysql")
@compiles(current_utc, "mariadb")
def _current_utc(element: current_utc, compiler: SQLCompiler, **kw: Any) -> str:
    # Microseconds, and UTC whatever the session's time zone.
    return "UTC_TIMESTAMP(6)"


@compiles(exact_text, "mysql")
@compiles(exact_text, "mariadb")
def _exact_text(element: exact_text, compiler: SQLCompiler, **kw: Any) -> str:
    # The default collations ignore case and trailing spaces.
    return compiler.process(sa.Grouping(element.bytewise), **kw)


def _connect_args(settings: ConnectionSettings, async_: bool) -> dict[str, Any]:
    return {"charset": "utf8mb4", "connect_timeout": settings.connect_timeout}


def _tune(engine: Engine, settings: ConnectionSettings) -> None:
    statements = [
        f"SET SESSION sql_mode = '{SQL_MODE}'",
        "SET SESSION time_zone = '+00:00'",
        f"SET SESSION wait_timeout = GREATEST(@@session.wait_timeout, {settings.pool_recycle + _RECYCLE_MARGIN})",
    ]
    if settings.statement_timeout is not None:
        statements.append(
            f"SET SESSION max_statement_time = {settings.statement_timeout:g}"
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for statement in statements:
                cursor.execute(statement)
        finally:
            cursor.close()


def _upsert(
    connection: sa.Connection,
    table: sa.Table,
    values: Mapping[str, Any],
    on: Sequence[str],
    changes: Sequence[str],
    returning: Sequence[sa.ColumnElement[Any]],
    guard: Sequence[str] = (),
) -> Row | None:
    where = [table.c[k] == values[k] for k in on]
    if guard:
        # No WHERE on ON DUPLICATE KEY UPDATE: lock the key (a row, or the gap
        # where it would go) and look at the row's guard columns first.
        found = connection.execute(
            sa.select(*(table.c[k] for k in guard)).where(*where).with_for_update()
        ).first()
        if found is not None and tuple(found) != tuple(values[k] for k in guard):
            return None
    insert = mysql.insert(table).values(dict(values))
    connection.execute(
        insert.on_duplicate_key_update({k: insert.inserted[k] for k in changes})
    )
    return dict(
        connection.execute(sa.select(*returning).where(*where)).mappings().one()
    )


# MariaDB / MySQL error numbers.
_ERRORS = {
    1062: ErrorKind.UNIQUE_VIOLATION,
    1586: ErrorKind.UNIQUE_VIOLATION,
    1452: ErrorKind.MISSING_REFERENCE,
    1451: ErrorKind.STILL_REFERENCED,
    1048: ErrorKind.NOT_NULL_VIOLATION,
    1364: ErrorKind.NOT_NULL_VIOLATION,  # field has no default
    3819: ErrorKind.CHECK_VIOLATION,  # MySQL
    4025: ErrorKind.CHECK_VIOLATION,  # MariaDB
    1406: ErrorKind.INVALID_DATA,  # data too long
    1264: ErrorKind.INVALID_DATA,  # out of range
    1366: ErrorKind.INVALID_DATA,  # incorrect value
    1292: ErrorKind.INVALID_DATA,  # truncated incorrect value
    1213: ErrorKind.DEADLOCK,
    1205: ErrorKind.LOCK_TIMEOUT,
    1969: ErrorKind.STATEMENT_TIMEOUT,  # MariaDB max_statement_time
    3024: ErrorKind.STATEMENT_TIMEOUT,  # MySQL max_execution_time
    1040: ErrorKind.TOO_MANY_CONNECTIONS,
    1203: ErrorKind.TOO_MANY_CONNECTIONS,  # max_user_connections
    2002: ErrorKind.CONNECTION_LOST,
    2003: ErrorKind.CONNECTION_LOST,
    2006: ErrorKind.CONNECTION_LOST,  # server has gone away
    2013: ErrorKind.CONNECTION_LOST,  # lost connection during query
    2055: ErrorKind.CONNECTION_LOST,
    2005: ErrorKind.CONNECTION_LOST,  # unknown server host
    2014: ErrorKind.CONNECTION_LOST,  # commands out of sync (a half-read answer)
    1927: ErrorKind.CONNECTION_LOST,  # connection was killed
    1053: ErrorKind.CONNECTION_LOST,  # server shutdown in progress
    1077: ErrorKind.CONNECTION_LOST,  # normal shutdown
    1079: ErrorKind.CONNECTION_LOST,  # shutdown complete
    1152: ErrorKind.CONNECTION_LOST,  # aborted connection
    1184: ErrorKind.CONNECTION_LOST,  # aborted new connection
}


_MARIADB_FK = re.compile(
    r"\(`[^`]*`\.`(?P<table>[^`]+)`, CONSTRAINT `(?P<constraint>[^`]+)` FOREIGN KEY \((?P<columns>[^)]+)\)"
)
_MARIADB_KEY = re.compile(r"for key '(?:[^'.]+\.)?(?P<constraint>[^']+)'")
_MARIADB_COLUMN = re.compile(r"[Cc]olumn '(?P<column>[^']+)'")
_MARIADB_CHECK = re.compile(r"CONSTRAINT `(?P<constraint>[^`]+)` failed")


def _read_error(error: BaseException, errno: int) -> ClassifiedError | None:
    message = str(error.args[1])
    kind = _ERRORS.get(errno)
    if kind is None:
        return None
    found = ClassifiedError(kind, code=str(errno))
    if match := _MARIADB_FK.search(message):
        columns = tuple(c.strip(" `") for c in match["columns"].split(","))
        if kind is ErrorKind.MISSING_REFERENCE:
            return replace(
                found,
                constraint=match["constraint"],
                table=match["table"],
                columns=columns,
            )
        return replace(found, constraint=match["constraint"])
    if match := _MARIADB_KEY.search(message):
        return replace(found, constraint=match["constraint"])
    if match := _MARIADB_CHECK.search(message):
        return replace(found, constraint=match["constraint"])
    if match := _MARIADB_COLUMN.search(message):
        return replace(found, columns=(match["column"],))
    return found


PROFILE = Profile(
    backend=Backend.MARIADB,
    url_names=("mariadb", "mysql"),
    dialect="mysql",
    drivers=("pymysql", "asyncmy"),
    autocommit_statements=never,
    connect_args=_connect_args,
    tune=_tune,
    insert_batch=insert_values,
    read_error=_read_error,
    upsert=_upsert,
    server_limits_sql=("SELECT @@max_connections", "SELECT 0"),
)
