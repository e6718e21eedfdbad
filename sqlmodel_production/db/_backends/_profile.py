"""What a backend profile is: `Backend`, `Profile` and the rules every profile shares.

A profile names the backend's drivers, how to connect and tune a connection,
whether a statement can be its own transaction at no cost, how to insert many
rows and upsert, its error table (codes to `ErrorKind`, and what the messages
name), what a pooler in front of it needs, and how to read the server's
connection limit. Nothing outside this package asks which database it
talks to: it asks the profile. Adding a backend, or a pooler mode, is one module.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from sqlmodel_production.db._prepared import NativeDriver, Row, RunPrepared

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from sqlmodel_production.db._error_codes import ClassifiedError
    from sqlmodel_production.db._settings import DatabaseSettings

__all__ = [
    "POOLER_OPTION",
    "Backend",
    "Profile",
    "Row",
    "Upsert",
    "InsertBatch",
    "never",
    "sort_value",
]


class Backend(enum.StrEnum):
    """The three database families this toolkit supports."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"
    MARIADB = "mariadb"


InsertBatch = Callable[
    [
        sa.Connection,
        sa.Table,
        tuple[str, ...],
        list[Row],
        tuple[sa.ColumnElement[Any], ...],
        RunPrepared,
    ],
    list[Row],
]
"""Insert one batch of rows that name the same columns; the `returning` columns of each, in order.

The last argument runs a `Prepared` statement in the connection's transaction,
for a backend that sends a statement of its own (PostgreSQL's `unnest`)."""

Upsert = Callable[
    [
        sa.Connection,
        sa.Table,
        Mapping[str, Any],
        Sequence[str],
        Sequence[str],
        Sequence[sa.ColumnElement[Any]],
    ],
    Row,
]
"""Insert a row or update the row with the same key (`on`), setting `changes`; the `returning` columns."""


@dataclass(frozen=True, eq=False)
class Profile:
    """What one backend needs; see the module of each backend for the reasons."""

    backend: Backend
    url_names: tuple[str, ...]
    """Names of the backend in URLs (`postgresql://`, `postgres://` ...)."""
    dialect: str
    """SQLAlchemy's dialect name, as in `engine.dialect.name` and in a URL's driver name."""
    drivers: tuple[str, str]
    """The sync and the async driver."""
    autocommit_statements: Callable[[str, str], bool]
    """Whether, with this driver and pooler (`Pooler` value), a statement can be its own
    transaction at no cost (no round trip to switch).

    Reads on a pooled connection of their own then run without `BEGIN` and
    `ROLLBACK`, and single-statement writes without `BEGIN` and `COMMIT`."""
    connect_args: Callable[[DatabaseSettings, bool], dict[str, Any]]
    """The driver's connect arguments for the settings, sync (False) or async (True)."""
    tune: Callable[[Engine, DatabaseSettings], None]
    """Install the per-connection settings that connect arguments cannot carry."""
    insert_batch: InsertBatch
    upsert: Upsert
    read_error: Callable[[BaseException, Any], ClassifiedError | None]
    """Read the backend's error table: the driver's exception and its code (a SQLSTATE,
    an error number, a result code name) -> what went wrong, or None for a code it does
    not know."""
    server_limits_sql: tuple[str, str] | None
    """Queries for the server's `max_connections` and the connections it reserves; None: no server."""
    check: Callable[[sa.Connection, DatabaseSettings], list[str]] | None = None
    """Problems a first connection shows (a setting the server does not apply); None: nothing to check."""
    pinged: bool = True
    """Pooled connections can be dropped by a server, so idle ones are pinged before reuse."""
    native: Mapping[str, NativeDriver] = field(default_factory=dict)
    """By driver: the driver's own API, through which a pooled connection sends
    `Prepared` statements where it takes fewer round trips than SQLAlchemy's adapter."""


POOLER_OPTION = "sqlmodel_production.pooler"
"""The engine's execution option that names its pooler (a `Pooler` value)."""


def never(*_: object) -> bool:
    """For a profile's rule that never holds."""
    return False


class sort_value(FunctionElement[Any]):
    """A column as a sort key: ordered and compared by one and the same rule.

    Renders the column itself, except where a backend orders a type by one
    rule and compares it by another (MariaDB orders an `ENUM` by declaration
    but compares it as text): its profile renders what orders as it compares.
    Keyset pages depend on it: the page after a row is the rows that compare
    greater than it.
    """

    inherit_cache = True

    def __init__(self, column: sa.ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type
        self.column = column


@compiles(sort_value)
def _sort_value(element: sort_value, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)
