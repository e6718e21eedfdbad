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
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from sqlmodel_production._compat import implicitly_boolean, traverse_clauses
from sqlmodel_production.db._prepared import NativeDriver, Row, RunPrepared

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

    from sqlmodel_production.db._error_codes import ClassifiedError

__all__ = [
    "POOLER_OPTION",
    "Backend",
    "ConnectionSettings",
    "Pooler",
    "Profile",
    "Row",
    "Upsert",
    "InsertBatch",
    "current_utc",
    "exact_text",
    "never",
    "sort_value",
]


class Pooler(enum.StrEnum):
    """A connection pooler between the service and PostgreSQL."""

    NONE = "none"
    PGBOUNCER = "pgbouncer"
    """PgBouncer in transaction mode: no prepared statements or session state outlive a transaction."""


class ConnectionSettings(Protocol):
    """What a profile reads of the settings (`ConnectionSettings` has all of it)."""

    @property
    def database_pooler(self) -> Pooler: ...
    @property
    def connect_timeout(self) -> int: ...
    @property
    def statement_timeout(self) -> float | None: ...
    @property
    def pool_recycle(self) -> int: ...
    @property
    def sqlite_busy_timeout(self) -> float: ...
    @property
    def application_name(self) -> str: ...


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
        Sequence[str],
    ],
    Row | None,
]
"""Insert a row or update the row with the same key (`on`), setting `changes`; the `returning` columns.

The row is updated only where its `guard` columns equal the values' (a row of
the same key in another scope is left alone): None then, and nothing written.
"""


def never(*_: object) -> bool:
    """For a profile's rule that never holds."""
    return False


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
    connect_args: Callable[[ConnectionSettings, bool], dict[str, Any]]
    """The driver's connect arguments for the settings, sync (False) or async (True)."""
    tune: Callable[[Engine, ConnectionSettings], None]
    """Install the per-connection settings that connect arguments cannot carry."""
    insert_batch: InsertBatch
    upsert: Upsert
    read_error: Callable[[BaseException, Any], ClassifiedError | None]
    """Read the backend's error table: the driver's exception and its code (a SQLSTATE,
    an error number, a result code name) -> what went wrong, or None for a code it does
    not know."""
    server_limits_sql: tuple[str, str] | None
    """Queries for the server's `max_connections` and the connections it reserves; None: no server."""
    check: Callable[[sa.Connection, ConnectionSettings], list[str]] | None = None
    """Problems a first connection shows (a setting the server does not apply); None: nothing to check."""
    pinged: bool = True
    """Pooled connections can be dropped by a server, so idle ones are pinged before reuse."""
    native: Mapping[str, NativeDriver] = field(default_factory=dict)
    """By driver: the driver's own API, through which a pooled connection sends
    `Prepared` statements where it takes fewer round trips than SQLAlchemy's adapter."""
    time_zones: bool = False
    """A timestamp column stores its offset (`TIMESTAMP WITH TIME ZONE`): aware values
    are sent as they are; elsewhere as naive UTC."""
    replicas: bool = False
    """Reads can go to streaming replicas of the server (`DATABASE_REPLICA_URLS`)."""
    poolers: bool = False
    """A transaction pooler may stand in front of the server (`DATABASE_POOLER`)."""
    row_security: bool = False
    """Row-level security policies can read settings made for one transaction
    (`set_config(name, value, true)`): a `RowScope`'s `database_settings`."""
    embedded: bool = False
    """The database is a file or memory in the process, not a server: a URL names no
    server database, and there are no connections to limit."""
    in_memory: Callable[[URL], bool] = never
    """Whether a URL names a database that lives in the memory of one connection, which
    every checkout must then share."""


POOLER_OPTION = "sqlmodel_production.pooler"
"""The engine's execution option that names its pooler (a `Pooler` value)."""


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


@implicitly_boolean  # a condition: never rendered as `(...) = 1`
@traverse_clauses("exact", "bytewise")  # both forms make the cache key
class exact_text(sa.ColumnElement[bool]):
    """A text condition that compares exactly on every backend: case and trailing spaces count.

    `exact` is the condition as written (`name = :value`); `bytewise` is the same
    condition made exact where a backend's default collation compares text loosely
    (MariaDB's ignore case and trailing spaces): its profile renders `bytewise`, the
    other profiles `exact`.
    """

    inherit_cache = True
    type = sa.Boolean()

    def __init__(
        self, exact: sa.ColumnElement[bool], bytewise: sa.ColumnElement[bool]
    ) -> None:
        self.exact = exact
        self.bytewise = bytewise


@compiles(exact_text)
def _exact_text(element: exact_text, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.exact, **kw)


class current_utc(FunctionElement[Any]):
    """The database's current UTC time; each profile renders its own (`models.utcnow` is its typed face)."""

    inherit_cache = True


@compiles(current_utc)
def _current_utc(element: current_utc, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"
