"""How far a replica is behind its primary, from the primary's WAL positions: pure, no I/O.

A replica knows only what it received, so a replica cut off from its primary
believes it is current. The primary's own position is the measure instead: once
per check interval its current WAL position (`pg_current_wal_lsn()`) is written
down with the local time it was read. A replica that has replayed up to a
position has every change committed before the newest sample at or below that
position, so its data is at most `now - sample time` old. The bound needs no
clock on either server: only this process's monotonic clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["PrimaryPositions", "ReplicaReading", "Verdict", "judge", "read_again"]

MAX_SAMPLES = 4096
"""At most this many samples are kept, whatever `keep` and the check interval."""


@dataclass(frozen=True)
class ReplicaReading:
    """What one query on a replica found.

    Attributes:
        in_recovery: the server is a standby (`pg_is_in_recovery()`).
        replayed: the WAL position it has replayed, in bytes (None: none yet).
        streaming: a WAL receiver is streaming from the primary.
        replay_paused: its replay is paused (`pg_wal_replay_pause()`).
    """

    in_recovery: bool
    replayed: int | None
    streaming: bool
    replay_paused: bool


@dataclass(frozen=True)
class Verdict:
    """Whether a replica may serve reads, its lag bound and, if not, why not."""

    usable: bool
    lag: float | None
    error: str | None


class PrimaryPositions:
    """The primary's WAL positions read recently, each with the monotonic time it was read.

    Args:
        keep: seconds of samples to keep; older ones are dropped (keep at
            least the longest lag that is still worth measuring).
    """

    def __init__(self, keep: float) -> None:
        self.keep = keep
        self._samples: deque[tuple[float, int]] = deque(maxlen=MAX_SAMPLES)

    def add(self, at: float, position: int) -> None:
        """The primary's WAL position was `position` at time `at`."""
        while self._samples and self._samples[0][0] < at - self.keep:
            self._samples.popleft()
        self._samples.append((at, position))

    @property
    def latest(self) -> float | None:
        """When the newest sample was read; None before the first."""
        return self._samples[-1][0] if self._samples else None

    @property
    def newest(self) -> int | None:
        """The newest sample's position; None before the first."""
        return self._samples[-1][1] if self._samples else None

    def lag(self, now: float, replayed: int) -> float | None:
        """Seconds of changes a replica that replayed up to `replayed` may miss, at `now`.

        That is the age of the newest sample the replica has reached. None when
        it has reached no sample kept: it is behind by more than they cover.
        Samples are read only when a replica is checked, so after a spell
        without checks the bound is loose (up to the spell's length) until the
        next check.
        """
        for at, position in reversed(self._samples):
            if position <= replayed:
                return max(0.0, now - at)
        return None

    def span(self, now: float) -> float:
        """Seconds since the oldest sample kept (0 without samples)."""
        return now - self._samples[0][0] if self._samples else 0.0


def judge(
    reading: ReplicaReading,
    positions: PrimaryPositions,
    now: float,
    *,
    max_lag: float,
) -> Verdict:
    """Whether a replica may serve reads: a streaming standby within `max_lag` of the primary.

    A standby that is not streaming (its WAL receiver stopped: cut off from
    the primary, a broken replication slot) serves no reads, however current it
    looks, and neither does one whose lag is past `max_lag` or cannot be bounded
    (the primary's position could not be read for longer than `max_lag`).
    """
    if not reading.in_recovery:
        return Verdict(False, None, "is not a standby (promoted, or not a replica)")
    lag = positions.lag(now, reading.replayed) if reading.replayed is not None else None
    paused = "; its replay is paused" if reading.replay_paused else ""
    if not reading.streaming:
        return Verdict(
            False, lag, f"is not streaming from the primary (no WAL receiver){paused}"
        )
    if lag is None:
        behind = positions.span(now)
        if positions.latest is None:
            return Verdict(False, None, "the primary's WAL position is not known yet")
        return Verdict(
            False,
            None,
            f"is behind every primary WAL position of the last {behind:.1f} s"
            f" (REPLICA_MAX_LAG={max_lag:g}){paused}",
        )
    if lag > max_lag:
        latest = positions.latest
        since = 0.0 if latest is None else now - latest
        why = (
            f" (the primary's position was last read {since:.1f} s ago)"
            if since > max_lag
            else ""
        )
        return Verdict(
            False,
            lag,
            f"lags up to {lag:.1f} s behind the primary (REPLICA_MAX_LAG={max_lag:g})"
            f"{paused}{why}",
        )
    return Verdict(True, lag, None)


def read_again(
    reading: ReplicaReading, positions: PrimaryPositions, since: float
) -> bool:
    """Whether a replica that was judged unusable may pass the primary's newest position soon.

    A streaming, replaying standby that is just short of a position read at or
    after `since` (in this check) is usually milliseconds behind it: reading it
    once more tells a current replica from one whose bound is only loose (the
    first check, or the first after a spell without checks).
    """
    newest, latest = positions.newest, positions.latest
    return (
        reading.in_recovery
        and reading.streaming
        and not reading.replay_paused
        and reading.replayed is not None
        and newest is not None
        and latest is not None
        and latest >= since
        and reading.replayed < newest
    )
