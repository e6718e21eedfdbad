"""Read replicas: which one may serve a read now, checked at most once per interval.

A replica serves reads while it answers, streams from the primary and lags
behind it by no more than `REPLICA_MAX_LAG` seconds. The lag is measured against
the primary, not against what the replica received (`_lag`): once per
`REPLICA_CHECK_INTERVAL`, never per request, the primary's current WAL position
is read and the replica's replayed position compared with the positions read
before. A replica that could not be reached is left out until the next check.
With none usable, reads go to the primary: a replica never turns a read into an
error.
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

from ._lag import PrimaryPositions, ReplicaReading, judge, read_again

__all__ = ["NodeStatus", "Replicas"]

logger = logging.getLogger("sqlmodel_production.replicas")

PRIMARY_SQL = "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"
"""The primary's current WAL position, in bytes."""

REPLICA_SQL = (
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'::pg_lsn,"
    # Without pg_read_all_stats a role sees the receiver's pid and no status.
    " EXISTS (SELECT FROM pg_stat_wal_receiver"
    " WHERE coalesce(status, 'streaming') = 'streaming'),"
    " CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END"
)
"""A standby's state: in recovery, replayed WAL position, streaming, replay paused."""

REREADS = 6
"""Times a check reads a replica again that is just short of the primary's newest position,
after 1, 2, 4, ... ms (63 ms in all at the most): a busy standby replays a position read
a moment before within milliseconds."""


@dataclass
class NodeStatus:
    """What the last check found of one replica.

    Attributes:
        url: the replica's URL, without its password.
        usable: it answered, streams from the primary and lags no more than the bound.
        lag: at most how many seconds of the primary's changes it missed (an upper
            bound, to within one check interval), when that could be measured.
        streaming: its WAL receiver streams from the primary (None: not reached).
        replay_paused: its replay is paused (None: not reached).
        error: why it serves no reads, if it does not.
        checked_at: `time.monotonic()` of the check; 0 before the first one.
    """

    url: str
    usable: bool = False
    lag: float | None = None
    streaming: bool | None = None
    replay_paused: bool | None = None
    error: str | None = None
    checked_at: float = 0.0


class Replicas:
    """The replicas of one primary, as engines of one style (sync, or the async engines' sync side).

    Args:
        engines: one engine per replica, made on first use.
        urls: the replicas' URLs without their passwords.
        primary: the primary's engine (of the same style), whose WAL position
            the replicas are measured against.
        max_lag: seconds of lag past which a replica is skipped.
        interval: seconds between two checks of a replica (and between two
            reads of the primary's position).
    """

    def __init__(
        self,
        engines: Sequence[Callable[[], Engine]],
        urls: Sequence[str],
        *,
        primary: Callable[[], Engine],
        max_lag: float,
        interval: float,
    ) -> None:
        self._makers = engines
        self._primary = primary
        # Samples older than the bound still measure how far past it a replica is.
        self.positions = PrimaryPositions(keep=max(60.0, 2 * max_lag) + 2 * interval)
        self._sampling = False
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
        the primary's WAL position is read (once per interval for all the
        replicas), then one query on one of the replica's pooled connections.
        """
        count = len(self._makers)
        start = next(self._turn)
        for offset in range(count):
            index = (start + offset) % count
            node = self.nodes[index]
            if (
                not node.checked_at
                or time.monotonic() - node.checked_at >= self.interval
            ):
                self.check(index)
            if node.usable:
                return self.engine(index)
        return None

    def check(self, index: int) -> NodeStatus:
        """Measure replica `index` against the primary now; one that fails is unusable until the next check."""
        node = self.nodes[index]
        with self._lock:
            if time.monotonic() - node.checked_at < self.interval and node.checked_at:
                return node  # another thread just checked it
            node.checked_at = time.monotonic()
        started = time.monotonic()
        self._sample_primary()
        try:
            with self.engine(index).connect() as conn:
                for attempt in range(1 + REREADS):
                    if attempt:
                        time.sleep(0.001 * 2 ** (attempt - 1))
                    row = conn.exec_driver_sql(REPLICA_SQL).one()
                    reading = ReplicaReading(
                        in_recovery=bool(row[0]),
                        replayed=None if row[1] is None else int(row[1]),
                        streaming=bool(row[2]),
                        replay_paused=bool(row[3]),
                    )
                    with self._lock:  # another thread may be adding a sample
                        verdict = judge(
                            reading,
                            self.positions,
                            time.monotonic(),
                            max_lag=self.max_lag,
                        )
                        again = not verdict.usable and read_again(
                            reading, self.positions, started
                        )
                    if not again:
                        break
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            self._down(node, exc)
            return node
        was_usable = node.usable
        node.usable, node.lag, node.error = verdict.usable, verdict.lag, verdict.error
        node.streaming, node.replay_paused = reading.streaming, reading.replay_paused
        if was_usable and not node.usable:
            logger.warning(
                "Replica %s is not used for reads: it %s", node.url, node.error
            )
        return node

    def _sample_primary(self) -> None:
        """Read the primary's WAL position, unless it was read within the interval.

        One thread reads it while the others measure against the samples they
        have (no lock is held over the query: async checks share one thread). A
        primary that cannot be read adds no sample, so every replica's bound
        grows until it is read again.
        """
        with self._lock:
            latest = self.positions.latest
            if self._sampling or (
                latest is not None and time.monotonic() - latest < self.interval
            ):
                return
            self._sampling = True
        try:
            with self._primary().connect() as conn:
                at = time.monotonic()
                position = int(conn.exec_driver_sql(PRIMARY_SQL).scalar_one())
            with self._lock:
                self.positions.add(at, position)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            cause: Any = getattr(exc, "orig", None) or exc
            logger.warning("Cannot read the primary's WAL position: %s", cause)
        finally:
            self._sampling = False

    def failed(self, engine: Engine, exc: BaseException) -> None:
        """A read on `engine` lost its connection: leave the replica out until its next check."""
        for index, made in enumerate(self._engines):
            if made is engine:
                self.nodes[index].checked_at = time.monotonic()
                self._down(self.nodes[index], exc)

    def _down(self, node: NodeStatus, exc: BaseException) -> None:
        cause: Any = getattr(exc, "orig", None) or exc
        node.usable, node.lag = False, None
        node.streaming = node.replay_paused = None
        node.error = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        logger.warning("Replica %s is not used for reads: %s", node.url, node.error)

    def dispose(self) -> list[Engine]:
        """The engines made so far, forgotten here (the caller disposes them)."""
        made = [engine for engine in self._engines if engine is not None]
        self._engines = [None] * len(self._makers)
        return made
