"""Database settings read from the environment (and a `.env` file)."""

from __future__ import annotations

import enum
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from ._backends import Pooler, Profile, profile_of

__all__ = ["DatabaseSettings", "Environment", "Pooler"]


class Environment(enum.StrEnum):
    """Where the service runs; production turns the safety checks on."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class DatabaseSettings(BaseSettings):
    """Connection and pool settings for one database.

    Every field reads from an environment variable of the same name in upper
    case (`DATABASE_URL`, `POOL_SIZE`, ...) or from a `.env` file in the working
    directory. The defaults are the production defaults: pre-ping on (for
    connections idle over a second), a short pool timeout so that a starved pool
    answers with an error instead of a hang, a statement timeout, and connections
    recycled well before servers drop them.

    Example:
        ```python
        settings = DatabaseSettings(database_url="postgresql://app@db/app")
        engine = create_engine(settings)
        ```
    """

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///./sqlmodel_production.db"
    """SQLAlchemy URL; the driver is chosen for you (`postgresql://`, `mysql://`, `mariadb://`, `sqlite://`)."""
    environment: Environment = Environment.DEVELOPMENT
    database_pooler: Pooler = Pooler.NONE
    """`pgbouncer` when DATABASE_URL points at PgBouncer in transaction mode (PostgreSQL only):
    the drivers keep no prepared statements and send no startup options, and the statement
    timeout is set in each transaction (see `docs/scaling.md`)."""
    database_replica_urls: Annotated[list[str], NoDecode] = []
    """Read replicas of DATABASE_URL (PostgreSQL streaming replicas), comma-separated: the
    router's reads and `Database.read_only_session()` go to one of them."""
    replica_max_lag: float = Field(default=5.0, gt=0)
    """Seconds a replica may lag behind the primary and still serve reads, measured against the
    primary's WAL position; past it (or when it is not streaming from the primary, or cannot be
    reached) reads go to another replica or the primary. A replica read never misses a write
    committed more than REPLICA_MAX_LAG + REPLICA_CHECK_INTERVAL seconds earlier."""
    replica_check_interval: float = Field(default=1.0, gt=0)
    """Seconds between two checks of a replica's lag (and of a replica that was down), and
    between two reads of the primary's WAL position."""
    pool_size: int = Field(default=15, ge=1)
    """Connections the pool keeps once opened (opened on demand, reused last-in first-out).

    Size it for the requests one worker serves at once: a checkout beyond it opens an
    overflow connection that is closed again on return, a connect per request under
    sustained load. Idle connections at the bottom of the stack cost the server a
    little memory; the pool pings them before reuse (see `pool_ping_after`)."""
    max_overflow: int = Field(default=5, ge=0)
    """Extra connections for a burst beyond `pool_size`, each closed when it is returned."""
    pool_timeout: float = Field(default=5.0, gt=0)
    """Seconds a request waits for a pooled connection before failing (503, never a hang)."""
    pool_recycle: int = Field(default=1800, ge=1)
    """Seconds after which a connection is replaced; kept below MariaDB's `wait_timeout`."""
    pool_pre_ping: bool = True
    """Test a pooled connection before handing it out, and replace it if the server dropped it."""
    pool_ping_after: float = Field(default=1.0, ge=0)
    """With `pool_pre_ping`, seconds a connection must have sat idle in the pool to be tested
    at checkout (0: test at every checkout). Under load no connection idles that long, so the
    hot path skips the ping's round trips; after a quiet spell the next checkout is tested.
    SQLite is never pinged: there is no server to drop the connection."""
    statement_timeout: float | None = Field(default=30.0, gt=0)
    """Seconds a single statement may run before the server cancels it; None for no limit."""
    connect_timeout: int = Field(default=10, ge=1)
    sqlite_busy_timeout: float = Field(default=5.0, ge=0)
    """Seconds an SQLite writer waits for the file lock before failing."""
    application_name: str = "sqlmodel-production"
    echo: bool = False
    gc_freeze: bool = True
    """In production, `Database.lifespan` hands every object alive at start-up (modules,
    models, compiled statements) to `gc.freeze()`, so the garbage collector's full
    collections no longer walk them: measured on the reference service, p99 latency
    80 ms -> 14 ms and ~15% more requests per second. Objects built later are
    collected as usual; the lifespan unfreezes at shutdown."""

    @field_validator("database_replica_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [url.strip() for url in value.split(",") if url.strip()]
        return value

    def _profile(self) -> Profile:
        return profile_of(make_url(self.database_url).get_backend_name())

    @model_validator(mode="after")
    def _replicas_need_postgresql(self) -> Self:
        if self.database_replica_urls and not self._profile().replicas:
            raise ValueError(
                "DATABASE_REPLICA_URLS is supported for PostgreSQL streaming replicas; "
                "DATABASE_URL names another database"
            )
        return self

    @model_validator(mode="after")
    def _replica_checks_within_the_lag(self) -> Self:
        if (
            self.database_replica_urls
            and self.replica_check_interval >= self.replica_max_lag
        ):
            raise ValueError(
                f"REPLICA_CHECK_INTERVAL={self.replica_check_interval:g} must be below "
                f"REPLICA_MAX_LAG={self.replica_max_lag:g}: a replica's lag is measured to "
                "within one check interval, so a replica that is current would look too "
                "far behind to serve reads while the primary is written to"
            )
        return self

    @model_validator(mode="after")
    def _pooler_needs_postgresql(self) -> Self:
        if self.database_pooler is not Pooler.NONE and not self._profile().poolers:
            raise ValueError(
                f"DATABASE_POOLER={self.database_pooler.value} is for PostgreSQL; "
                "DATABASE_URL names another database"
            )
        return self

    @model_validator(mode="after")
    def _no_echo_in_production(self) -> Self:
        if self.echo and self.environment is Environment.PRODUCTION:
            raise ValueError(
                "echo=True is refused when ENVIRONMENT=production: it logs every statement "
                "with its parameters (personal data in your logs) and slows every query. "
                "Unset ECHO, or use the slow-query log and Server-Timing diagnostics instead."
            )
        return self
