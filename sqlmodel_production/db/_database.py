"""`Database`: one settings object, lazily built engines and sessions for both styles."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from ._engine import create_async_engine, create_engine
from ._settings import DatabaseSettings, Environment
from ._urls import Backend, backend_of

__all__ = ["Database"]


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
        return self._engine

    @property
    def async_engine(self) -> AsyncEngine:
        """The async engine, created on first use."""
        if self._async_engine is None:
            self._async_engine = create_async_engine(
                self.settings, **self._engine_options
            )
        return self._async_engine

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

    async def dispose(self) -> None:
        """Close every pooled connection of both engines."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._async_engine is not None:
            await self._async_engine.dispose()
            self._async_engine = None

    @asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[dict[str, Database]]:
        """An ASGI lifespan that makes this database the one `SessionDep` uses.

        Pass it to `FastAPI(lifespan=database.lifespan)`; engines are disposed at
        shutdown. To combine it with a lifespan of your own, enter it there:
        `async with database.lifespan(app) as state: yield {**state, ...}`.
        In production it freezes the objects alive at start-up (`gc_freeze`).
        """
        freeze = (
            self.settings.gc_freeze
            and self.settings.environment == Environment.PRODUCTION
        )
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
DIRECT_READS = "sqlmodel_production.direct_reads"
"""`session.info` key: the session is the per-request one `Database` made, so reads may bypass it while it is untouched."""


def _in_use(session: Session) -> bool:
    """Whether closing `session` has anything to do: a transaction, or objects it holds."""
    return bool(
        session.in_transaction()
        or session.identity_map
        or session.new
        or session.deleted
    )
