"""`RetryPolicy`: which failed transactions to run again, and after how long (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel_production.db._errors import classify

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often, and after how long a wait, a failed transaction is run again.

    Only errors that `classify` marks retryable are retried: serialization
    failure, deadlock, lock wait timeout and SQLite's "database is locked".
    The wait before retry *n* is a random fraction of
    `min(max_backoff, backoff * 2 ** (n - 1))` seconds ("full jitter"), so
    transactions that failed together do not collide again in step.

    Attributes:
        attempts: tries in all, the first one included; 1 disables retries.
        backoff: the cap of the first wait, in seconds; it doubles on each retry.
        max_backoff: the largest cap, in seconds.

    Example:
        ```python
        patient = RetryPolicy(attempts=10, backoff=0.1)
        for attempt in transaction(session, policy=patient):
            with attempt: ...
        ```
    """

    attempts: int = 5
    backoff: float = 0.05
    max_backoff: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")
        if not 0 <= self.backoff <= self.max_backoff:
            raise ValueError(
                "backoff and max_backoff must satisfy 0 <= backoff <= max_backoff"
            )

    def delay(
        self, error: BaseException, attempt: int, *, jitter: float
    ) -> float | None:
        """Seconds to wait before running the unit of work again, or None to give up.

        Pure: no I/O, no clock, no randomness of its own.

        Args:
            error: what attempt number `attempt` failed with.
            attempt: the number of the attempt that failed, 1 for the first.
            jitter: a number in [0, 1), for example `random.random()`.
        """
        found = classify(error)
        if found is None or not found.kind.retryable or attempt >= self.attempts:
            return None
        return jitter * min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
