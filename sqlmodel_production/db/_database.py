"""`Database`: one settings object, lazily built engines and sessions for both styles."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production._compat import greenlet_spawn

from ._backends import profile_of
from ._engine import create_async_engine, create_engine
from ._observers import EngineInfo
from ._replicas import NodeStatus, Replicas
from ._row_security import refuse_without_row_security
from ._runners import DIRECT_READS
from ._settings import DatabaseSettings, Environment
from ._urls import Backend, backend_of
from ._written import served_wrote

__all__ = ["Database"]

logger = logging.getLogger("sqlmodel_production.database")


class Database:
    """The engines and sessions of one database, for sync and async code alike.

    Engines are created on first use, so an async service never opens a sync
    pool and vice versa. Sessions are made with `expire_on_commit=False`: an
    endpoint returns its object after `commit()`, and with expiry on every
    attribute read would be a new query (and, on an async session, a
    `MissingGreenlet` error). Call `session.refresh(obj)` after commit to load
    server-generated values (doctor rule SMP007).

    Example:
        ```python
        database = Database()  # DATABASE_URL from the environment
        app = FastAPI(lifespan=database.lifespan)

        @app.get("/heroes/{hero_id}")
        def read_hero(session: SessionDep, hero_id: int) -> HeroPublic: ...
        ```
    """

    def __init__(
        self, settings: DatabaseSettings | None = None, **engine_options: Any
    ) -> None:
        self.settings = settings or DatabaseSettings()
        self.backend: Backend = backend_of(self.settings.database_url)
        self._engine_options = engine_options
        self._engine: Engine | None = None
        self._async_engine: AsyncEngine | None = None
        self._replicas: Replicas | None = None
        self._async_replicas: Replicas | None = None
        self._engine_listeners: list[Callable[[EngineInfo], None]] = []
        self._served_without_lifespan = False
        _LIVE.add(self)

    def __repr__(self) -> str:
        url = self.engine_url.render_as_string(hide_password=True)
        return f"Database({url!r})"

    @property
    def engine_url(self) -> URL:
        return make_url(self.settings.database_url)

    @property
    def engine(self) -> Engine:
        """The sync engine, created on first use."""
        if self._engine is None:
            self._engine = create_engine(self.settings, **self._engine_options)
            self._made(EngineInfo(self._engine, "primary"))
        return self._engine

    @property
    def async_engine(self) -> AsyncEngine:
        """The async engine, created on first use."""
        if self._async_engine is None:
            self._async_engine = create_async_engine(
                self.settings, **self._engine_options
            )
            self._made(
                EngineInfo(self._async_engine.sync_engine, "primary", async_=True)
            )
        return self._async_engine

    @property
    def replicas(self) -> Replicas:
        """The read replicas (`DATABASE_REPLICA_URLS`) as sync engines; empty without any."""
        if self._replicas is None:
            self._replicas = self._replica_set(
                lambda settings: create_engine(settings, **self._engine_options),
                primary=lambda: self.engine,
                async_=False,
            )
        return self._replicas

    @property
    def async_replicas(self) -> Replicas:
        """The read replicas as the sync side of async engines (for code in SQLAlchemy's greenlet)."""
        if self._async_replicas is None:
            self._async_replicas = self._replica_set(
                lambda settings: (
                    create_async_engine(settings, **self._engine_options).sync_engine
                ),
                primary=lambda: self.async_engine.sync_engine,
                async_=True,
            )
        return self._async_replicas

    def _replica_set(
        self,
        make: Callable[[DatabaseSettings], Engine],
        *,
        primary: Callable[[], Engine],
        async_: bool,
    ) -> Replicas:
        urls = self.settings.database_replica_urls

        def make_replica(index: int, settings: DatabaseSettings) -> Engine:
            engine = make(settings)
            self._made(EngineInfo(engine, "replica", index, async_))
            return engine

        makers = [
            functools.partial(
                make_replica,
                index,
                self.settings.model_copy(
                    update={"database_url": url, "database_replica_urls": []}
                ),
            )
            for index, url in enumerate(urls)
        ]
        return Replicas(
            makers,
            [make_url(url).render_as_string(hide_password=True) for url in urls],
            primary=primary,
            max_lag=self.settings.replica_max_lag,
            interval=self.settings.replica_check_interval,
        )

    def on_engine(self, listener: Callable[[EngineInfo], None]) -> Callable[[], None]:
        """Call `listener` with every engine this database made so far, and each one it makes later.

        Engines are made on first use (the async one by an async service, a
        replica's on its first read), and again after `dispose()`; a listener
        that adds SQLAlchemy event listeners or reads pool statistics sees every
        one of them, with the node it reaches (`EngineInfo`). Telemetry uses it.

        Returns:
            A function that stops the calls.
        """
        for info in self._engines_made():
            listener(info)
        self._engine_listeners.append(listener)

        def remove() -> None:
            if listener in self._engine_listeners:
                self._engine_listeners.remove(listener)

        return remove

    def replica_status(self) -> list[NodeStatus]:
        """What the last check found of each replica (of the async engines when an async service made them)."""
        replicas = self._async_replicas or self._replicas
        return list(replicas.nodes) if replicas is not None else []

    def _made(self, info: EngineInfo) -> None:
        for listener in self._engine_listeners:
            listener(info)

    def _engines_made(self) -> list[EngineInfo]:
        made = []
        if self._engine is not None:
            made.append(EngineInfo(self._engine, "primary"))
        if self._async_engine is not None:
            made.append(
                EngineInfo(self._async_engine.sync_engine, "primary", async_=True)
            )
        for replicas, async_ in ((self._replicas, False), (self._async_replicas, True)):
            if replicas is not None:
                made.extend(
                    EngineInfo(engine, "replica", index, async_)
                    for index, engine in replicas.made()
                )
        return made

    @contextmanager
    def read_only_session(self) -> Iterator[Session]:
        """A sync session on a read replica that may serve reads now, else on the primary.

        For reads that may miss up to `REPLICA_MAX_LAG + REPLICA_CHECK_INTERVAL`
        seconds of the primary's latest writes. Under
        `ReadYourWritesMiddleware`, a request that wrote, or whose client wrote
        recently, gets a session on the primary.
        """
        engine = (None if served_wrote() else self.replicas.pick()) or self.engine
        with Session(engine, expire_on_commit=False) as session:
            yield session

    @asynccontextmanager
    async def async_read_only_session(self) -> AsyncIterator[AsyncSession]:
        """An async session on a read replica that may serve reads now, else on the primary."""
        replicas = self.async_replicas
        use = len(replicas) and not served_wrote()
        engine = await greenlet_spawn(replicas.pick) if use else None
        bind = AsyncEngine(engine) if engine is not None else self.async_engine
        async with AsyncSession(bind, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A sync session, closed (and rolled back if uncommitted) on exit.

        The router's read endpoints run on a connection of their own while this
        session is untouched (`DIRECT_READS` in `session.info`).
        """
        with Session(self.engine, expire_on_commit=False) as session:
            session.info[DIRECT_READS] = True
            yield session

    @asynccontextmanager
    async def async_session(self) -> AsyncIterator[AsyncSession]:
        """An async session, closed (and rolled back if uncommitted) on exit.

        A session nobody used (a read endpoint ran on a connection of its own)
        has nothing to close: the close, a task of its own shielded from
        cancellation, is skipped.
        """
        session = AsyncSession(self.async_engine, expire_on_commit=False)
        session.info[DIRECT_READS] = True
        try:
            yield session
        finally:
            if _in_use(session.sync_session):
                await asyncio.shield(asyncio.ensure_future(session.close()))

    async def check(self) -> list[str]:
        """Problems the server shows on a first connection, for the start-up log.

        On PostgreSQL: whether the statement timeout holds outside transactions
        (it does not when a pooler dropped the startup option, or behind
        PgBouncer without a role or database default). A server that cannot be
        reached is logged and not a problem here: `/health/ready` reports it.

        Raises:
            RuntimeError: the server refused the connection's startup parameters,
                which PgBouncer does for a client not set up for it.
        """
        profile = profile_of(self.backend)
        if profile.check is None:
            return []
        # The async engine when the app already made it; else one connection outside
        # any pool, closed at once: a sync app keeps no async pool for the check's sake.
        probe = self._async_engine or create_async_engine(
            self.settings, **{**self._engine_options, "poolclass": NullPool}
        )
        try:
            async with probe.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                return await conn.run_sync(profile.check, self.settings)
        except (sa_exc.DBAPIError, OSError) as exc:
            message = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            if "unsupported startup parameter" in message:
                raise RuntimeError(
                    f"The database refused this connection's startup parameters ({message}): "
                    "DATABASE_URL points at PgBouncer; set DATABASE_POOLER=pgbouncer "
                    "(docs/scaling.md)"
                ) from exc
            logger.warning("Cannot check the database at start-up: %s", message)
            return []
        finally:
            if probe is not self._async_engine:
                await probe.dispose()

    async def dispose(self) -> None:
        """Close every pooled connection of both engines.

        The engines stay: `database.engine` is the same object for the life of
        the `Database`, and opens new connections when next used, so that a
        module-level `engine = database.engine` never becomes a second pool.
        """
        if self._engine is not None:
            self._engine.dispose()
        if self._async_engine is not None:
            await self._async_engine.dispose()
        if self._replicas is not None:
            for engine in self._replicas.dispose():
                engine.dispose()
        if self._async_replicas is not None:
            for engine in self._async_replicas.dispose():
                await AsyncEngine(engine).dispose()

    @asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[dict[str, Database]]:
        """An ASGI lifespan that makes this database the one `SessionDep` uses.

        Pass it to `FastAPI(lifespan=database.lifespan)`; engines are disposed at
        shutdown. To combine it with a lifespan of your own, enter it there:
        `async with database.lifespan(app) as state: yield {**state, ...}`.
        In production it freezes the objects alive at start-up (`gc_freeze`).

        Raises:
            RuntimeError: a route of `app` sets row-level security settings
                (`RowScope(..., database_settings=...)`) and the database has
                no row-level security (MariaDB, SQLite).
        """
        freeze = (
            self.settings.gc_freeze
            and self.settings.environment == Environment.PRODUCTION
        )
        profile = profile_of(self.backend)
        refuse_without_row_security(app, self.backend, profile.row_security)
        for problem in await self.check():
            logger.warning(problem)
        if freeze:
            gc.collect()
            gc.freeze()
        try:
            yield {STATE_KEY: self}
        finally:
            if freeze:
                gc.unfreeze()
            await self.dispose()


STATE_KEY = "sqlmodel_production_database"

# Every `Database` alive, for the apps that run none's lifespan.
_LIVE: weakref.WeakSet[Database] = weakref.WeakSet()


def unattached_database() -> Database:
    """The `Database` for a request of an app that runs no `Database`'s lifespan.

    That is the process's only `Database` (a module-level `database = Database()`);
    the first time it serves such a request, a warning says what the lifespan would
    have done.

    Raises:
        RuntimeError: no `Database` exists, or several do, and none is the app's.
    """
    live = list(_LIVE)
    if len(live) != 1:
        found = "no Database exists" if not live else f"{len(live)} Databases exist"
        raise RuntimeError(
            f"No Database is attached to this app, and {found}: create the app with "
            "FastAPI(lifespan=database.lifespan), and in tests enter the client as a "
            "context manager (`with TestClient(app) as client:`) so the lifespan runs."
        )
    database = live[0]
    if not database._served_without_lifespan:
        database._served_without_lifespan = True
        logger.warning(
            "%r serves requests of an app that does not run its lifespan: its pools "
            "open on first use and are never disposed at shutdown, its start-up check "
            "does not run, and an async pool must serve one event loop. Create the app "
            "with FastAPI(lifespan=database.lifespan).",
            database,
        )
    return database


def _in_use(session: Session) -> bool:
    """Whether closing `session` has anything to do: a transaction, or objects it holds."""
    return bool(
        session.in_transaction()
        or session.identity_map
        or session.new
        or session.deleted
    )
