"""A replica's lag measured against the primary's WAL positions: the pure part, no database."""

from __future__ import annotations

from sqlmodel_production.db._lag import (
    PrimaryPositions,
    ReplicaReading,
    judge,
    read_again,
)


def reading(
    replayed: int | None, *, streaming: bool = True, paused: bool = False
) -> ReplicaReading:
    return ReplicaReading(
        in_recovery=True, replayed=replayed, streaming=streaming, replay_paused=paused
    )


def positions(*samples: tuple[float, int], keep: float = 10.0) -> PrimaryPositions:
    made = PrimaryPositions(keep=keep)
    for at, position in samples:
        made.add(at, position)
    return made


def test_a_replica_at_the_newest_position_lags_by_the_samples_age() -> None:
    found = positions((0.0, 100), (1.0, 200))
    assert found.lag(1.25, 200) == 0.25
    assert found.lag(1.25, 250) == 0.25  # ahead of the sample: it was read later
    assert judge(reading(200), found, 1.25, max_lag=1).usable


def test_a_replica_that_stopped_replaying_lags_more_each_check() -> None:
    found = positions((0.0, 100), (1.0, 200), (2.0, 300), (3.0, 400))
    assert found.lag(3.0, 150) == 3.0  # it has what the primary had at 0.0 only
    verdict = judge(reading(150, paused=True), found, 3.0, max_lag=2)
    assert (verdict.usable, verdict.lag) == (False, 3.0)
    assert verdict.error is not None
    assert "lags up to 3.0 s" in verdict.error and "replay is paused" in verdict.error


def test_a_replica_behind_every_sample_kept_has_no_bound() -> None:
    found = positions((0.0, 100), (5.0, 200), (11.0, 300), keep=10)  # 0.0 is dropped
    assert found.lag(11.0, 150) is None
    verdict = judge(reading(150), found, 11.0, max_lag=5)
    assert not verdict.usable and verdict.lag is None
    assert verdict.error == (
        "is behind every primary WAL position of the last 6.0 s (REPLICA_MAX_LAG=5)"
    )


def test_a_replica_that_is_not_streaming_serves_no_reads_however_current() -> None:
    found = positions((0.0, 100))
    verdict = judge(reading(100, streaming=False), found, 0.1, max_lag=5)
    assert not verdict.usable
    assert verdict.lag is not None and verdict.lag < 5
    assert verdict.error == "is not streaming from the primary (no WAL receiver)"


def test_without_new_primary_positions_the_bound_grows_until_it_is_passed() -> None:
    found = positions((0.0, 100))  # the primary could not be read since
    assert judge(reading(100), found, 4.0, max_lag=5).usable
    verdict = judge(reading(100), found, 6.0, max_lag=5)
    assert not verdict.usable
    assert verdict.error is not None and "last read 6.0 s ago" in verdict.error


def test_before_the_first_primary_position_no_replica_serves() -> None:
    verdict = judge(reading(100), PrimaryPositions(keep=5), 0.0, max_lag=5)
    assert not verdict.usable
    assert verdict.error == "the primary's WAL position is not known yet"


def test_a_promoted_replica_serves_no_reads() -> None:
    promoted = ReplicaReading(
        in_recovery=False, replayed=None, streaming=False, replay_paused=False
    )
    verdict = judge(promoted, positions((0.0, 100)), 0.0, max_lag=5)
    assert not verdict.usable and "not a standby" in (verdict.error or "")


def test_a_replica_just_short_of_this_checks_sample_is_read_again() -> None:
    found = positions((5.0, 300))  # read in this check, which began at 4.9
    assert read_again(reading(299), found, since=4.9)
    assert not read_again(reading(300), found, since=4.9)  # it has reached it
    assert not read_again(reading(299), found, since=5.5)  # an older check's sample
    assert not read_again(
        reading(299, paused=True), found, since=4.9
    )  # it will not move
    assert not read_again(reading(299, streaming=False), found, since=4.9)
