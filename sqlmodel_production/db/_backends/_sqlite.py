"""SQLite: the embedded default, a file and no server.

sqlite3 and aiosqlite; WAL, foreign keys and a busy timeout on every
connection; `BEGIN IMMEDIATE` so that concurrent writers queue on the busy
timeout instead of failing at once; no pre-ping (no server can drop a
connection); no autocommit statements (the `BEGIN IMMEDIATE` listener would be
left open).
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from sqlmodel_production.db._error_codes import ClassifiedError, ErrorKind
from sqlmodel_production.db._prepared import RunPrepared, dicts

from ._common import by_key, insert_statement, upsert_on_conflict
from ._profile import Backend, ConnectionSettings, Profile, Row, current_utc, never


def _connect_args(settings: ConnectionSettings, async_: bool) -> dict[str, Any]:
    return {"timeout": settings.sqlite_busy_timeout, "check_same_thread": False}


def _tune(engine: Engine, settings: ConnectionSettings) -> None:
    busy_ms = round(settings.sqlite_busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A deferred transaction that reads and then writes cannot wait for the
        # write lock (SQLite answers "database is locked" at once); taking the
        # lock at BEGIN lets the busy timeout queue concurrent writers instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _insert_batch(
    connection: sa.Connection,
    table: sa.Table,
    names: tuple[str, ...],
    batch: list[Row],
    returning: tuple[sa.ColumnElement[Any], ...],
    run: RunPrepared,
) -> list[Row]:
    """Batched inserts, rows matched back to their parameters by primary key.

    SQLAlchemy cannot promise SQLite's RETURNING order, so `sort_by_parameter_order`
    would send one statement per row. SQLite numbers new rows in the order of the
    VALUES, and the write lock is ours (BEGIN IMMEDIATE), so ascending generated
    keys follow the parameters; keys given by the caller are matched directly.
    """
    result = connection.execute(insert_statement(table, returning, sort=False), batch)
    return by_key(table, batch, dicts(result))


# SQLite extended result code names (sqlite3 exceptions carry them since Python 3.11).
_ERRORS = {
    "SQLITE_CONSTRAINT_UNIQUE": ErrorKind.UNIQUE_VIOLATION,
    "SQLITE_CONSTRAINT_PRIMARYKEY": ErrorKind.UNIQUE_VIOLATION,
    "SQLITE_CONSTRAINT_FOREIGNKEY": ErrorKind.MISSING_REFERENCE,  # refined by the statement
    "SQLITE_CONSTRAINT_NOTNULL": ErrorKind.NOT_NULL_VIOLATION,
    "SQLITE_CONSTRAINT_CHECK": ErrorKind.CHECK_VIOLATION,
    "SQLITE_TOOBIG": ErrorKind.INVALID_DATA,
    "SQLITE_BUSY": ErrorKind.DATABASE_LOCKED,
    "SQLITE_BUSY_SNAPSHOT": ErrorKind.DATABASE_LOCKED,
    "SQLITE_BUSY_RECOVERY": ErrorKind.DATABASE_LOCKED,
    "SQLITE_LOCKED": ErrorKind.DATABASE_LOCKED,
    "SQLITE_LOCKED_SHAREDCACHE": ErrorKind.DATABASE_LOCKED,
}


_SQLITE_COLUMNS = re.compile(r"constraint failed: (?P<columns>.+)$")


def _read_error(error: BaseException, name: str) -> ClassifiedError | None:
    kind = _ERRORS.get(name)
    if name == "SQLITE_CONSTRAINT_TRIGGER" and "FOREIGN KEY" in str(error):
        # ON DELETE / ON UPDATE RESTRICT fires as a trigger: the parent is still referenced.
        return ClassifiedError(ErrorKind.STILL_REFERENCED, code=name)
    if kind is None:
        return None
    found = ClassifiedError(kind, code=name)
    match = _SQLITE_COLUMNS.search(str(error))
    if match is None:
        return found
    if kind is ErrorKind.CHECK_VIOLATION:
        return replace(found, constraint=match["columns"].strip())
    qualified = [c.strip() for c in match["columns"].split(",")]
    tables = {c.partition(".")[0] for c in qualified if "." in c}
    return replace(
        found,
        table=tables.pop() if len(tables) == 1 else None,
        columns=tuple(c.rpartition(".")[2] for c in qualified),
    )


@compiles(current_utc, "sqlite")
def _current_utc(element: current_utc, compiler: SQLCompiler, **kw: Any) -> str:
    # UTC with milliseconds, written with six digits as SQLAlchemy writes bound values:
    # SQLite compares them as text, so a value read back and sent again matches itself.
    return "strftime('%Y-%m-%d %H:%M:%f000', 'now')"


def _in_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url)


PROFILE = Profile(
    backend=Backend.SQLITE,
    url_names=("sqlite",),
    dialect="sqlite",
    drivers=("pysqlite", "aiosqlite"),
    autocommit_statements=never,
    connect_args=_connect_args,
    tune=_tune,
    insert_batch=_insert_batch,
    read_error=_read_error,
    upsert=functools.partial(upsert_on_conflict, sqlite.insert),
    server_limits_sql=None,
    pinged=False,
    embedded=True,
    in_memory=_in_memory,
)
