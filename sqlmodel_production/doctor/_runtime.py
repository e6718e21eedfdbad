"""Run-time context: the imported app, its mapped classes and pools, the server's limits.

Nothing here runs unless the user asks for it with `--app` or `--database-url`.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sqlmodel_production._exceptions import DoctorUsageError

from ._source import display_path

if TYPE_CHECKING:
    from sqlalchemy import Engine, Table

__all__ = ["Pool", "Runtime", "ServerLimits", "import_app", "server_limits"]


@dataclass(frozen=True)
class Pool:
    """One connection pool of the app: where it is made and how many connections it may open."""

    path: str
    line: int
    label: str
    size: int
    overflow: int
    """`max_overflow`; negative means unbounded."""

    @property
    def capacity(self) -> int | None:
        return None if self.overflow < 0 else self.size + self.overflow


@dataclass(frozen=True)
class ServerLimits:
    """How many client connections the database server accepts."""

    backend: str
    max_connections: int
    reserved: int
    """Slots kept for superusers (PostgreSQL's `superuser_reserved_connections` ...)."""
    pooler: str | None = None
    """`pgbouncer` when the URL reaches PgBouncer: then the limit is its `max_client_conn`."""

    @property
    def available(self) -> int:
        return self.max_connections - self.reserved


@dataclass
class Runtime:
    """What run-time rules may look at: the app's modules under the checked paths, the server."""

    roots: tuple[Path, ...]
    modules: list[ModuleType] = field(default_factory=list)
    workers: int = 1
    limits: ServerLimits | None = None
    fallback_pools: list[Pool] = field(default_factory=list)
    """Pools from the environment's settings, used when the app creates none at import."""
    pooler_setting: str = "none"
    """`DATABASE_POOLER` as the environment sets it."""

    def mapped_classes(self) -> list[tuple[type[Any], Table]]:
        """The ORM classes defined in the app's modules, with their tables."""
        from sqlalchemy import Table
        from sqlalchemy import inspect as sa_inspect
        from sqlalchemy.orm import Mapper

        found: dict[int, tuple[type[Any], Table]] = {}
        for module in self.modules:
            for value in list(vars(module).values()):
                if not isinstance(value, type) or id(value) in found:
                    continue
                mapper: object = sa_inspect(value, raiseerr=False)
                if (
                    isinstance(mapper, Mapper)
                    and mapper.class_ is value
                    and isinstance(mapper.local_table, Table)
                ):
                    found[id(value)] = (value, mapper.local_table)
        return sorted(found.values(), key=lambda item: item[1].name)

    def attribute_of(self, cls: type[Any], column: str) -> str:
        """The attribute a mapped class exposes a column under."""
        from sqlalchemy import inspect as sa_inspect

        for prop in sa_inspect(cls).column_attrs:
            if any(getattr(col, "name", None) == column for col in prop.columns):
                return str(prop.key)
        return column

    def locate(self, cls: type[Any], attribute: str) -> tuple[str, int] | None:
        """The file and line declaring `cls.attribute`, if it is inside the checked paths."""
        fallback: tuple[str, int] | None = None
        for klass in cls.__mro__:
            source = _source_file(klass)
            if source is None or not self._inside(source):
                continue
            node = _class_node(source, klass.__name__)
            if node is None:
                continue
            line = _line_assigning(node.body, attribute)
            if line is not None:
                return display_path(source), line
            if fallback is None and klass is cls:
                fallback = display_path(source), node.lineno
        return fallback

    def pools(self) -> list[Pool]:
        """The pools the app's modules create at import (engines and `Database` objects)."""
        from sqlmodel_production.db import Backend, Database

        pools: list[Pool] = []
        # A `Database`'s own engines (`engine = database.engine`) are its pool, counted once.
        seen = {
            id(engine)
            for module in self.modules
            for value in vars(module).values()
            if isinstance(value, Database)
            for engine in _engines_of(value)
        }
        for module in self.modules:
            source = _source_file(module)
            for name, value in list(vars(module).items()):
                if id(value) in seen or source is None:
                    continue
                sizes: tuple[int, int] | None = None
                if isinstance(value, Database):
                    if value.backend is not Backend.SQLITE or self._serves_checked(
                        value
                    ):
                        sizes = value.settings.pool_size, value.settings.max_overflow
                else:
                    engine = _engine_of(value)
                    if engine is None or id(engine) in seen:
                        continue
                    sizes = _queue_pool_sizes(engine)
                if sizes is None:
                    continue
                seen.add(id(value))
                line = _assignment_line(source, name)
                pools.append(
                    Pool(
                        display_path(source), line, f"{module.__name__}.{name}", *sizes
                    )
                )
        return pools or list(self.fallback_pools)

    def _serves_checked(self, database: Any) -> bool:
        """A `Database` on the SQLite default only because `DATABASE_URL` was not set.

        In production it reads the server's URL from the environment, so its pool counts
        against the server given with `--database-url`.
        """
        return (
            self.limits is not None
            and "database_url" not in database.settings.model_fields_set
        )

    def _inside(self, path: Path) -> bool:
        resolved = path.resolve()
        return any(resolved == root or root in resolved.parents for root in self.roots)


def import_app(spec: str, roots: tuple[Path, ...]) -> list[ModuleType]:
    """Import `module:attribute` and return the loaded modules that live under `roots`.

    Raises:
        DoctorUsageError: the spec is malformed or the import fails.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise DoctorUsageError(f"--app must look like `module:attribute`, not {spec!r}")
    for path in (
        Path.cwd(),
        *(root if root.is_dir() else root.parent for root in roots),
    ):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise DoctorUsageError(
            f"Cannot import {module_name!r} for --app: {type(exc).__name__}: {exc}"
        ) from exc
    if not hasattr(module, attribute):
        raise DoctorUsageError(
            f"Module {module_name!r} has no attribute {attribute!r} (--app {spec})"
        )
    runtime = Runtime(roots)
    return [
        loaded
        for loaded in list(sys.modules.values())
        if (source := _source_file(loaded)) is not None and runtime._inside(source)
    ]


def server_limits(url: str) -> ServerLimits | None:
    """Ask the server of `url` how many connections it accepts (None for SQLite).

    Behind PgBouncer that is the pooler's `max_client_conn` (read from its
    console, which needs the user in `stats_users`), else the database's
    `max_connections`.

    Raises:
        DoctorUsageError: the URL is not supported or the server cannot be reached.
    """
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    from sqlmodel_production.db import backend_of, sync_url
    from sqlmodel_production.db.internal import profile_of

    try:
        profile = profile_of(backend_of(url))
    except Exception as exc:
        raise DoctorUsageError(f"--database-url: {exc}") from exc
    if profile.server_limits_sql is None:
        return None
    pooler = _pgbouncer_limit(sync_url(url)) if profile.poolers else None
    if pooler is not None:
        return ServerLimits("PgBouncer", pooler, 0, pooler="pgbouncer")
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    maximum_sql, reserved_sql = profile.server_limits_sql
    try:
        with engine.connect() as conn:
            maximum = int(conn.exec_driver_sql(maximum_sql).scalar_one())
            reserved = int(conn.exec_driver_sql(reserved_sql).scalar_one())
    except sa.exc.SQLAlchemyError as exc:
        message = str(
            exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        ).splitlines()[0]
        raise DoctorUsageError(
            f"Cannot read max_connections from --database-url: {message}"
        ) from exc
    finally:
        engine.dispose()
    return ServerLimits(profile.backend.value, maximum, reserved)


def _pgbouncer_limit(url: Any) -> int | None:
    """PgBouncer's `max_client_conn` when `url` (of a backend poolers stand before) reaches
    PgBouncer (its console answers); else None.

    A PostgreSQL server has no `pgbouncer` database; PgBouncer's console
    answers `SHOW CONFIG` (simple query protocol only) to its `stats_users`,
    and refuses others with "not allowed": PgBouncer all the same, limit unknown (0).
    """
    import psycopg

    try:
        with psycopg.connect(
            host=url.host or "localhost",
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            dbname="pgbouncer",
            autocommit=True,
            connect_timeout=5,
            cursor_factory=psycopg.ClientCursor,
        ) as conn:
            rows = conn.execute("SHOW CONFIG").fetchall()
    except psycopg.Error as exc:
        return 0 if "not allowed" in str(exc) else None
    return next((int(row[1]) for row in rows if row[0] == "max_client_conn"), 0)


def _engines_of(database: Any) -> list[Engine]:
    """The engines `database` made so far (the sync side of an async one)."""
    engines: list[Engine] = []
    database.on_engine(lambda info: engines.append(info.engine))()
    return engines


def _engine_of(value: object) -> Engine | None:
    from sqlalchemy import Engine
    from sqlalchemy.ext.asyncio import AsyncEngine

    if isinstance(value, AsyncEngine):
        return value.sync_engine
    return value if isinstance(value, Engine) else None


def _queue_pool_sizes(engine: Engine) -> tuple[int, int] | None:
    from sqlalchemy.pool import QueuePool

    from sqlmodel_production._compat import queue_pool_max_overflow

    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return None  # NullPool, StaticPool, SQLite's pools: nothing to size
    return pool.size(), queue_pool_max_overflow(pool)


def _source_file(obj: object) -> Path | None:
    try:
        source = inspect.getsourcefile(obj)  # type: ignore[arg-type]
    except TypeError:
        return None
    return None if source is None else Path(source)


@cache
def _tree(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None


def _class_node(path: Path, name: str) -> ast.ClassDef | None:
    tree = _tree(path)
    if tree is None:
        return None
    return next(
        (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == name),
        None,
    )


def _assignment_line(path: Path, name: str) -> int:
    tree = _tree(path)
    return (_line_assigning(tree.body, name) if tree is not None else None) or 1


def _line_assigning(body: list[ast.stmt], name: str) -> int | None:
    """The line of the first statement in `body` that assigns `name` (`x = ...`, `x: T = ...`)."""
    for statement in body:
        targets = (
            [statement.target]
            if isinstance(statement, ast.AnnAssign)
            else statement.targets
            if isinstance(statement, ast.Assign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return statement.lineno
    return None
