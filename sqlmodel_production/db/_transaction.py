"""Run a unit of work in a transaction, and run it again on a deadlock or serialization failure.

The retry policy is a pure function of the error and the attempt number
(`RetryPolicy.delay`); what to retry is decided by `classify`, by SQLSTATE or
driver error code, never by exception class. Beginning, committing and rolling
back are written once against the sync `Session`; an `AsyncSession` reaches the
same code through `run_sync`, so the sync and async executors differ only in
how they sleep and enter the session.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import inspect
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    AsyncExitStack,
    ExitStack,
    nullcontext,
)
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar, cast, overload

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlalchemy.orm import ORMExecuteState, SessionTransaction
from sqlalchemy.orm import Session as SASession
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production.db._backends import autocommits
from sqlmodel_production.db._database import Database
from sqlmodel_production.db._errors import classify
from sqlmodel_production.db._observers import report_retry
from sqlmodel_production.db._retry import RetryPolicy

__all__ = [
    "AsyncAttempt",
    "Attempt",
    "IsolationLevel",
    "RetryPolicy",
    "RetryingTransaction",
    "retrying",
    "transaction",
    "transactional",
]

logger = logging.getLogger("sqlmodel_production.transactions")

IsolationLevel = Literal[
    "SERIALIZABLE", "REPEATABLE READ", "READ COMMITTED", "READ UNCOMMITTED"
]
SourceT = TypeVar("SourceT", bound=SASession | SAAsyncSession | Database)
SessionT = TypeVar("SessionT", bound=SASession)
AsyncSessionT = TypeVar("AsyncSessionT", bound=SAAsyncSession)
S = TypeVar("S")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

# Set in `Session.info` while one of our attempts owns the session's transaction.
_ACTIVE = "sqlmodel_production.transaction"


# Set in `Session.info` from a write (a flush, an ORM INSERT / UPDATE / DELETE) until
# the session's transaction ends.
_WROTE = "sqlmodel_production.wrote_in_transaction"


@event.listens_for(SASession, "after_flush")
def _flushed(session: SASession, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(SASession, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(SASession, "after_transaction_end")
def _ended(session: SASession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def _end_reads(session: SASession) -> None:
    """End the transaction a session began before the retry loop, if it only read.

    Reads (an auth dependency loading the user) are over once they answered:
    their transaction is committed without expiring what they loaded, and the
    unit of work begins a transaction of its own, which it can run again.
    Writes cannot be run again by the loop: they must be committed first.

    Raises:
        sqlalchemy.exc.InvalidRequestError: the transaction holds writes, pending
            or flushed.
    """
    if session.info.get(_WROTE) or session.new or session.dirty or session.deleted:
        raise sa_exc.InvalidRequestError(
            "transaction() must begin the transaction itself, but this session has "
            "writes in progress (added, changed or flushed before the retry loop), "
            "which a retry could not repeat. Commit them first (session.commit()), "
            "or move them into the unit of work."
        )
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


class _Outcome(enum.Enum):
    PENDING = "pending"
    COMMITTED = "committed"
    JOINED = "joined"
    RETRY = "retry"
    FAILED = "failed"


class _Attempt(Generic[S]):
    """What sync and async attempts share: all of the decisions, written once and sync."""

    def __init__(self, number: int, transaction: RetryingTransaction[Any]) -> None:
        self.number = number
        """1 for the first try; after the loop, the number of tries it took."""
        self.retry_in: float | None = None
        """Seconds until the next try, when this one failed with a retryable error."""
        self.error: BaseException | None = None
        """The error this attempt failed with, if it did."""
        self._transaction = transaction
        self._session: S | None = None
        self._outcome = _Outcome.PENDING

    @property
    def session(self) -> S:
        """The session this attempt runs in (a new one per attempt with a `Database`)."""
        if self._session is None:
            raise RuntimeError(
                "Enter the attempt first: `with attempt as session: ...`"
            )
        return self._session

    def _begin(self, session: SASession) -> None:
        if session.info.get(_ACTIVE):
            # Called from inside another unit of work: join it; the outer one retries.
            self._outcome = _Outcome.JOINED
            return
        if session.in_transaction():
            _end_reads(session)
        session.begin()
        session.info[_ACTIVE] = True
        level: str | None = self._transaction.isolation_level
        bind = session.get_bind()
        # A session bound to a connection (a test's rolled-back session) runs
        # inside that connection's transaction, which autocommit would break.
        if (
            self._transaction.single_statement
            and isinstance(bind, Engine)
            and autocommits(bind)
        ):
            level = "AUTOCOMMIT"
        if level is not None:
            session.connection(execution_options={"isolation_level": level})

    def _end(self, session: SASession, error: BaseException | None) -> bool:
        """Commit, or roll back; True to swallow `error` and run the unit of work again."""
        if self._outcome is _Outcome.JOINED:
            return False
        commit_failed = False
        try:
            if error is None:
                try:
                    session.commit()
                except Exception as exc:
                    error, commit_failed = exc, True
                else:
                    self._outcome = _Outcome.COMMITTED
                    if self.number > 1:
                        logger.info(
                            "Transaction committed on attempt %d",
                            self.number,
                            extra={"transaction_attempts": self.number},
                        )
                    return False
            session.rollback()
        finally:
            session.info.pop(_ACTIVE, None)
        if self._retry(error):
            return True
        if commit_failed:
            raise error
        return False

    def _retry(self, error: BaseException) -> bool:
        self.error = error
        self.retry_in = retry_delay(self._transaction.policy, error, self.number)
        self._outcome = _Outcome.FAILED if self.retry_in is None else _Outcome.RETRY
        return self.retry_in is not None


def retry_delay(policy: RetryPolicy, error: BaseException, number: int) -> float | None:
    """Seconds before running again what failed on attempt `number`, or None; logged either way."""
    found = classify(error)
    if found is None or not found.kind.retryable:
        return None
    wait = policy.delay(error, number, jitter=random.random())
    report_retry(found, number, wait)
    extra = {
        "transaction_attempts": number,
        "error_kind": found.kind.value,
        "error_code": found.code,
    }
    if wait is None:
        logger.warning(
            "Transaction failed on attempt %d of %d with %s (%s); giving up",
            number,
            policy.attempts,
            found.kind.value,
            found.code,
            extra=extra,
        )
    else:
        logger.info(
            "Transaction attempt %d of %d failed with %s (%s); retrying in %.3f s",
            number,
            policy.attempts,
            found.kind.value,
            found.code,
            wait,
            extra=extra,
        )
    return wait


class Attempt(_Attempt[SessionT]):
    """One try of a sync unit of work: `with attempt as session:` runs it in a transaction.

    On leaving the block the transaction is committed, or rolled back on an
    error; a retryable error is swallowed so that the loop can try again.
    """

    _stack: ExitStack

    def __enter__(self) -> SessionT:
        source = self._transaction.source
        opened: AbstractContextManager[Any] = (
            source.session() if isinstance(source, Database) else nullcontext(source)
        )
        with ExitStack() as stack:
            session = stack.enter_context(opened)
            self._begin(session)
            self._session, self._stack = session, stack.pop_all()
        return cast(SessionT, session)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        with self._stack:
            return self._end(self.session, exc)


class AsyncAttempt(_Attempt[AsyncSessionT]):
    """One try of an async unit of work: `async with attempt as session:`; see `Attempt`."""

    _stack: AsyncExitStack

    async def __aenter__(self) -> AsyncSessionT:
        source = self._transaction.source
        opened: AbstractAsyncContextManager[Any] = (
            source.async_session()
            if isinstance(source, Database)
            else nullcontext(source)
        )
        async with AsyncExitStack() as stack:
            session = await stack.enter_async_context(opened)
            await session.run_sync(self._begin)
            self._session, self._stack = session, stack.pop_all()
        return cast(AsyncSessionT, session)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        async with self._stack:
            return await self.session.run_sync(self._end, exc)


class RetryingTransaction(Generic[SourceT]):
    """The attempts of one unit of work; made by `transaction()`, iterate it once.

    Iterate with `for` for a `Session`, with `async for` for an `AsyncSession`;
    a `Database` allows both and opens a new session for every attempt.
    """

    def __init__(
        self,
        source: SourceT,
        *,
        policy: RetryPolicy | None = None,
        isolation_level: IsolationLevel | None = None,
        single_statement: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """See `transaction()`; `sleep` is how a sync loop waits between attempts
        (code in SQLAlchemy's greenlet, under an event loop, passes one that awaits)."""
        if single_statement and isolation_level is not None:
            raise ValueError(
                "single_statement and isolation_level exclude each other: a single "
                "statement runs in autocommit on PostgreSQL"
            )
        self.source = source
        self.policy = policy or RetryPolicy()
        self.isolation_level = isolation_level
        self.single_statement = single_statement
        self.sleep = sleep
        self._last: _Attempt[Any] | None = None

    def _next(self) -> tuple[int, float] | None:
        """The next attempt's number and the seconds to wait before it; None when done."""
        last = self._last
        if last is None:
            return 1, 0.0
        if last._outcome is _Outcome.PENDING:
            raise RuntimeError(
                "Each attempt must be entered: `for attempt in transaction(session): "
                "with attempt: ...` (`async with attempt:` for an AsyncSession)"
            )
        if last._outcome is _Outcome.RETRY and last.retry_in is not None:
            return last.number + 1, last.retry_in
        return None

    @overload
    def __iter__(self: RetryingTransaction[Database]) -> Iterator[Attempt[Session]]: ...
    @overload
    def __iter__(
        self: RetryingTransaction[SessionT],
    ) -> Iterator[Attempt[SessionT]]: ...
    def __iter__(self) -> Iterator[Attempt[Any]]:
        if isinstance(self.source, SAAsyncSession):
            raise TypeError(
                "An AsyncSession needs `async for attempt in transaction(session): "
                "async with attempt: ...`"
            )
        return self

    def __next__(self) -> Attempt[Any]:
        step = self._next()
        if step is None:
            raise StopIteration
        number, wait = step
        if wait:
            self.sleep(wait)
        attempt: Attempt[Any] = Attempt(number, self)
        self._last = attempt
        return attempt

    @overload
    def __aiter__(
        self: RetryingTransaction[Database],
    ) -> AsyncIterator[AsyncAttempt[AsyncSession]]: ...
    @overload
    def __aiter__(
        self: RetryingTransaction[AsyncSessionT],
    ) -> AsyncIterator[AsyncAttempt[AsyncSessionT]]: ...
    def __aiter__(self) -> AsyncIterator[AsyncAttempt[Any]]:
        if isinstance(self.source, SASession):
            raise TypeError(
                "A sync Session needs `for attempt in transaction(session): with attempt: ...`"
            )
        return self

    async def __anext__(self) -> AsyncAttempt[Any]:
        step = self._next()
        if step is None:
            raise StopAsyncIteration
        number, wait = step
        if wait:
            await asyncio.sleep(wait)
        attempt: AsyncAttempt[Any] = AsyncAttempt(number, self)
        self._last = attempt
        return attempt


def transaction(
    source: SourceT,
    *,
    policy: RetryPolicy | None = None,
    isolation_level: IsolationLevel | None = None,
    single_statement: bool = False,
) -> RetryingTransaction[SourceT]:
    """Run a unit of work in a transaction, again after a deadlock or serialization failure.

    A `with` block cannot run its body twice, so the unit of work goes in a loop
    over attempts. Each attempt begins a transaction, runs the body and commits.
    When the body or the commit fails with a retryable error (serialization
    failure, deadlock, lock wait timeout, SQLite's "database is locked"), the
    transaction is rolled back and, after a jittered wait, the loop runs the
    body again; once `policy.attempts` are spent, that last error propagates
    unchanged. Any other error propagates at once, after the rollback.

    After a rollback every object in the session is expired or expunged: the
    body must read again what it needs on each attempt (pass ids into the unit
    of work, not objects loaded before it).

    Args:
        source: a `Session` (iterate with `for`), an `AsyncSession` (`async for`),
            or a `Database` (either; each attempt gets a new session).
        policy: how often and after how long to retry; `RetryPolicy()` by default.
        isolation_level: the isolation level of this transaction only, for
            example `"SERIALIZABLE"`.
        single_statement: the unit of work writes with one statement (reads
            around it are fine). On PostgreSQL it then runs in autocommit, where
            that statement is a transaction of its own: no `BEGIN` and `COMMIT`
            round trips; a second write would not be atomic with the first.
            Elsewhere it runs in a transaction as usual.

    A session that already read (a dependency that loaded the current user
    from the request's session) is fine: that read-only transaction is
    committed, without expiring what it loaded, and the unit of work begins
    its own. Inside another attempt on the same session the unit of work
    joins the outer one.

    Raises:
        sqlalchemy.exc.InvalidRequestError: the session holds writes from before
            the loop (added, changed or flushed objects, an ORM `update()`), which
            a retry could not repeat: commit them first, or move them into the
            unit of work.

    Example:
        ```python
        for attempt in transaction(session):
            with attempt:
                source = session.get(Account, source_id)
                target = session.get(Account, target_id)
                source.balance -= amount
                target.balance += amount
        print(attempt.number)  # tries it took

        async for attempt in transaction(async_session, isolation_level="SERIALIZABLE"):
            async with attempt:
                ...
        ```
    """
    return RetryingTransaction(
        source,
        policy=policy,
        isolation_level=isolation_level,
        single_statement=single_statement,
    )


def retrying(
    work: Callable[[], T],
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`work()`, run again after a deadlock or lock timeout as `transaction()` would.

    For work that needs no transaction of a session (a single statement on a
    pooled connection in autocommit): the same policy, waits and logs.
    """
    policy = policy or RetryPolicy()
    number = 1
    while True:  # retry_delay gives up after the policy's last attempt
        try:
            return work()
        except sa_exc.DBAPIError as exc:
            wait = retry_delay(policy, exc, number)
            if wait is None:
                raise
        sleep(wait)
        number += 1


@overload
def transactional(fn: F, /) -> F: ...
@overload
def transactional(
    *,
    policy: RetryPolicy | None = None,
    isolation_level: IsolationLevel | None = None,
    single_statement: bool = False,
) -> Callable[[F], F]: ...
def transactional(
    fn: F | None = None,
    /,
    *,
    policy: RetryPolicy | None = None,
    isolation_level: IsolationLevel | None = None,
    single_statement: bool = False,
) -> F | Callable[[F], F]:
    """Make a function a unit of work: run in a transaction, retried as `transaction()` does.

    The function (sync, or `async def`) takes the session among its arguments;
    the first `Session` or `AsyncSession` argument is the one used. It must not
    commit: the decorator begins, commits, and on a retryable error rolls back
    and calls the function again. Its return value is returned; retries are
    logged on the `sqlmodel_production.transactions` logger.

    Args:
        fn: the function, when used as a bare `@transactional`.
        policy: see `transaction()`.
        isolation_level: see `transaction()`.
        single_statement: see `transaction()`.

    Example:
        ```python
        @transactional
        def transfer(session: Session, source_id: int, target_id: int, amount: int) -> None:
            session.get(Account, source_id).balance -= amount
            session.get(Account, target_id).balance += amount

        @transactional(isolation_level="SERIALIZABLE")
        async def book(session: AsyncSession, seat_id: int) -> Booking: ...
        ```
    """

    options: dict[str, Any] = {
        "policy": policy,
        "isolation_level": isolation_level,
        "single_statement": single_statement,
    }

    def decorate(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                source = _session_in(fn, args, kwargs)
                attempts = transaction(source, **options)
                async for attempt in attempts:
                    async with attempt:
                        result = await fn(*args, **kwargs)
                return result

            return cast(F, run_async)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            source = _session_in(fn, args, kwargs)
            for attempt in transaction(source, **options):
                with attempt:
                    result = fn(*args, **kwargs)
            return result

        return cast(F, run)

    return decorate if fn is None else decorate(fn)


def _session_in(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    for value in (*args, *kwargs.values()):
        if isinstance(value, SASession | SAAsyncSession):
            return value
    raise TypeError(
        f"@transactional needs a Session or AsyncSession argument, and "
        f"{fn.__qualname__}() got none: pass the session, as in `transfer(session, ...)`"
    )
