"""Pool statistics of an engine."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from sqlmodel_production._compat import queue_pool_max_overflow

__all__ = ["PoolStats", "pool_stats"]


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a connection pool."""

    size: int
    """Connections the pool keeps (`pool_size`)."""
    checked_out: int
    """Connections in use now."""
    checked_in: int
    """Idle connections in the pool."""
    overflow: int
    """Connections opened beyond `size` (negative while the pool is still filling)."""
    max_overflow: int
    timeout: float
    """Seconds a checkout waits before failing."""

    @property
    def available(self) -> int:
        """Checkouts possible before one has to wait."""
        return self.size + self.max_overflow - self.checked_out


def pool_stats(engine: Engine | AsyncEngine) -> PoolStats | None:
    """The statistics of the engine's pool; None for pools that do not queue (SQLite's StaticPool)."""
    pool = (engine.sync_engine if isinstance(engine, AsyncEngine) else engine).pool
    if not isinstance(pool, QueuePool):  # AsyncAdaptedQueuePool is a QueuePool too
        return None
    return PoolStats(
        size=pool.size(),
        checked_out=pool.checkedout(),
        checked_in=pool.checkedin(),
        overflow=pool.overflow(),
        max_overflow=queue_pool_max_overflow(pool),
        timeout=pool.timeout(),
    )
