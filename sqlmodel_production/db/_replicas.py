"""Read replicas: which one may serve a read now, checked at most once per interval.

A replica serves reads while it answers and lags behind the primary by no more
than `REPLICA_MAX_LAG` seconds. Its lag is read from the replica itself (the age
of the last transaction it replayed, 0 when it has replayed all it received)
once per `REPLICA_CHECK_INTERVAL`, never per request; a replica that could not
be reached is left out until the next check. With none usable, reads go to the
primary: a replica never turns a read into an error.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["NodeStatus", "Replicas"]

logger = logging.getLogger("sqlmodel_production.replicas")

LAG_SQL = (
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)"
    " END"
)
"""The replica's lag in seconds (PostgreSQL streaming replication)."""


@dataclass
class NodeStatus:
    """What the last check found of one replica.

    Attributes:
        url: the replica's URL, without its password.
        usable: it answered and lags no more than the bound.
        lag: seconds behind the primary when it answered, else None.
        error: why it could not be used, if it could not.
        checked_at: `time.monotonic()` of the check; 0 before the first one.
    """

    url: str
    usable: bool = False
    lag: float | None = None
    error: str | None = None
    checked_at: float = 0.0


class Replicas:
    """The replicas of one primary, as engines of one style (sync, or the async engines' sync side).

    Args:
        engines: one engine per replica, made on first use.
        max_lag: seconds of lag past which a replica is skipped.
        interval: seconds between two checks of a replica.
    """

    def __init__(
        self,
        engines: Sequence[Callable[[], Engine]],
        urls: Sequence[str],
        *,
        max_lag: float,
        interval: float,
    ) -> None:
        self._makers = engines
        self._engines: list[Engine | None] = [None] * len(engines)
        self.nodes = [NodeStatus(url) for url in urls]
        self.max_lag = max_lag
        self.interval = interval
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._makers)

    def engine(self, index: int) -> Engine:
        engine = self._engines[index]
        if engine is None:
            engine = self._engines[index] = self._makers[index]()
        return engine

    def made(self) -> list[tuple[int, Engine]]:
        """The engines made so far, with their index."""
        return [(i, e) for i, e in enumerate(self._engines) if e is not None]

    def pick(self) -> Engine | None:
        """A replica that may serve a read now (in turn), or None for the primary.

        A replica whose last check is older than the interval is checked first:
        one query on one of its pooled connections.
        """
        count = len(self._makers)
        start = next(self._turn)
        for offset in range(count):
            index = (start + offset) % count
            node = self.nodes[index]
            if time.monotonic() - node.checked_at >= self.interval:
                self.check(index)
            if node.usable:
                return self.engine(index)
        return None

    def check(self, index: int) -> NodeStatus:
        """Read the lag of replica `index` now; a replica that fails is unusable until the next check."""
        node = self.nodes[index]
        with self._lock:
            if time.monotonic() - node.checked_at < self.interval and node.checked_at:
                return node  # another thread just checked it
            node.checked_at = time.monotonic()
        try:
            with self.engine(index).connect() as conn:
                lag = float(conn.exec_driver_sql(LAG_SQL).scalar_one())
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            self._down(node, exc)
            return node
        node.lag, node.error = lag, None
        node.usable = lag <= self.max_lag
        if not node.usable:
            node.error = f"lags {lag:.1f} s behind the primary (REPLICA_MAX_LAG={self.max_lag:g})"
        return node

    def failed(self, engine: Engine, exc: BaseException) -> None:
        """A read on `engine` lost its connection: leave the replica out until its next check."""
        for index, made in enumerate(self._engines):
            if made is engine:
                self.nodes[index].checked_at = time.monotonic()
                self._down(self.nodes[index], exc)

    def _down(self, node: NodeStatus, exc: BaseException) -> None:
        cause: Any = getattr(exc, "orig", None) or exc
        node.usable, node.lag = False, None
        node.error = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        logger.warning("Replica %s is not used for reads: %s", node.url, node.error)

    def dispose(self) -> list[Engine]:
        """The engines made so far, forgotten here (the caller disposes them)."""
        made = [engine for engine in self._engines if engine is not None]
        self._engines = [None] * len(self._makers)
        return made
