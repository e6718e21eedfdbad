"""MariaDB (and MySQL): PyMySQL and asyncmy.

`utf8mb4`, strict mode (bad data fails instead of being truncated), UTC, the
statement timeout as `max_statement_time`, and a session `wait_timeout` kept
above the pool's recycle so the server never drops a connection the pool still
trusts. No autocommit statements: PyMySQL switches with a `SET autocommit`
round trip. MariaDB has no `INSERT ... RETURNING` for many rows in order nor
`ON CONFLICT`: upserts read the row back by its key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Engine

from sqlmodel_production.db._settings import DatabaseSettings

from . import Backend, Profile, Row, never
from ._common import insert_values

# Fail on bad data instead of truncating it, whatever the server's default mode.
SQL_MODE = "STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
# Keep the server from closing an idle connection before the pool recycles it.
_RECYCLE_MARGIN = 60


def _connect_args(settings: DatabaseSettings, async_: bool) -> dict[str, Any]:
    return {"charset": "utf8mb4", "connect_timeout": settings.connect_timeout}


def _tune(engine: Engine, settings: DatabaseSettings) -> None:
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
) -> Row:
    insert = mysql.insert(table).values(dict(values))
    connection.execute(
        insert.on_duplicate_key_update({k: insert.inserted[k] for k in changes})
    )
    where = [table.c[k] == values[k] for k in on]
    return dict(
        connection.execute(sa.select(*returning).where(*where)).mappings().one()
    )


PROFILE = Profile(
    backend=Backend.MARIADB,
    url_names=("mariadb", "mysql"),
    dialect="mysql",
    drivers=("pymysql", "asyncmy"),
    autocommit_statements=never,
    connect_args=_connect_args,
    tune=_tune,
    insert_batch=insert_values,
    upsert=_upsert,
    server_limits_sql=("SELECT @@max_connections", "SELECT 0"),
)
