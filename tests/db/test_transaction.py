"""`transaction` / `transactional` against real deadlocks, serialization failures and locks.

Each unit of work is written once, as a script of statements (a generator that
yields them and receives their rows), and driven by a sync or an async session;
the driver is the only code that differs between the two flavours.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import random
import threading
from collections.abc import Awaitable, Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production import Database
from sqlmodel_production.db import Backend
from sqlmodel_production.db._errors import ErrorKind, classify
from sqlmodel_production.db._transaction import (
    IsolationLevel,
    RetryPolicy,
    transaction,
    transactional,
)
from tests.conftest import Target

metadata = sa.MetaData()
account = sa.Table(
    "tx_account",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("balance", sa.Integer, nullable=False),
)
ledger = sa.Table(
    "tx_transfer",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source", sa.Integer, nullable=False),
    sa.Column("target", sa.Integer, nullable=False),
    sa.Column("amount", sa.Integer, nullable=False),
)

INITIAL_BALANCE = 1000
PATIENT = RetryPolicy(attempts=30, backoff=0.01, max_backoff=0.1)
LOGGER = "sqlmodel_production.transactions"


# -- Units of work, written once --------------------------------------------------------

PAUSE = object()
"""A script yields PAUSE where the test synchronizes workers or releases a lock."""

Script = Generator[object, Any, None]
"""A unit of work: yields statements (driver SQL as a `str`) and receives their results."""


@dataclass(frozen=True)
class Transfer:
    id: int
    source: int
    target: int
    amount: int


def record(transfer: Transfer) -> sa.Insert:
    return ledger.insert().values(
        id=transfer.id,
        source=transfer.source,
        target=transfer.target,
        amount=transfer.amount,
    )


def crossed_transfer(transfer: Transfer) -> Script:
    """Lock the source, wait for the partner to lock its own, then want the target."""
    yield (
        account.update()
        .where(account.c.id == transfer.source)
        .values(balance=account.c.balance - transfer.amount)
    )
    yield PAUSE
    yield (
        account.update()
        .where(account.c.id == transfer.target)
        .values(balance=account.c.balance + transfer.amount)
    )
    yield record(transfer)


def read_then_write_transfer(transfer: Transfer) -> Script:
    """Read both balances, wait for the partner to read them too, then write computed values."""
    ids = (transfer.source, transfer.target)
    rows = yield sa.select(account.c.id, account.c.balance).where(account.c.id.in_(ids))
    balances = dict(rows.all())
    yield PAUSE
    change = {transfer.source: -transfer.amount, transfer.target: transfer.amount}
    for account_id in sorted(ids):  # one order for both: no deadlock, only 40001
        yield (
            account.update()
            .where(account.c.id == account_id)
            .values(balance=balances[account_id] + change[account_id])
        )
    yield record(transfer)


def next_step(script: Script, result: Any) -> object | None:
    try:
        return script.send(result)
    except StopIteration:
        return None


def drive(session: Session, script: Script, pause: Callable[[], object]) -> None:
    result: Any = None
    while (step := next_step(script, result)) is not None:
        if step is PAUSE:
            result = pause()
        elif isinstance(step, str):
            result = session.connection().exec_driver_sql(step)
        else:
            result = session.exec(step)  # type: ignore[call-overload]


async def drive_async(
    session: AsyncSession, script: Script, pause: Callable[[], object]
) -> None:
    result: Any = None
    while (step := next_step(script, result)) is not None:
        if step is PAUSE:
            result = pause()
            if inspect.isawaitable(result):
                result = await result
        elif isinstance(step, str):
            result = await (await session.connection()).exec_driver_sql(step)
        else:
            result = await session.exec(step)  # type: ignore[call-overload]


def run(
    target: Target,
    database: Database,
    make_script: Callable[[], Script],
    pause: Callable[[], object] = lambda: None,
    policy: RetryPolicy = PATIENT,
    single_statement: bool = False,
) -> None:
    """Run a script as a `@transactional` function on the target's flavour of session."""
    options = transactional(policy=policy, single_statement=single_statement)

    @options
    def unit(session: Session) -> None:
        drive(session, make_script(), pause)

    @options
    async def unit_async(session: AsyncSession) -> None:
        await drive_async(session, make_script(), pause)

    async def main() -> None:
        try:
            async with database.async_session() as session:
                await unit_async(session)
        finally:
            await database.async_engine.dispose()

    if target.async_:
        asyncio.run(main())
    else:
        with database.session() as session:
            unit(session)


# -- Fixtures ---------------------------------------------------------------------------


@pytest.fixture
def bank(database: Database) -> Iterator[Database]:
    """Accounts 1..8 holding INITIAL_BALANCE each, an empty ledger; PostgreSQL finds deadlocks fast."""
    if database.backend is Backend.POSTGRESQL:
        for engine in (database.engine, database.async_engine.sync_engine):
            event.listen(engine, "connect", _fast_deadlock_detection)
    with database.engine.begin() as conn:
        metadata.drop_all(conn)
        metadata.create_all(conn)
        conn.execute(
            account.insert(),
            [{"id": i, "balance": INITIAL_BALANCE} for i in range(1, 9)],
        )
    yield database
    with database.engine.begin() as conn:
        metadata.drop_all(conn)


def _fast_deadlock_detection(dbapi_connection: Any, _record: Any) -> None:
    # The default deadlock_timeout (1 s) would make each induced deadlock cost a second.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET deadlock_timeout = '50ms'")
    finally:
        cursor.close()
    dbapi_connection.commit()  # or the pool's reset on return would undo it


def balances(database: Database) -> dict[int, int]:
    with database.engine.connect() as conn:
        return dict(conn.execute(sa.select(account.c.id, account.c.balance)).all())


def ledger_ids(database: Database) -> list[int]:
    with database.engine.connect() as conn:
        return sorted(conn.scalars(sa.select(ledger.c.id)))


# -- Concurrent bank transfers: real deadlocks and serialization failures ----------------


def plan(
    seed: int, rounds: int, accounts: int = 8
) -> list[list[tuple[Transfer, Transfer]]]:
    """Rounds of crossed pairs: in each, the accounts are paired at random and the
    two workers of a pair transfer random amounts in opposite directions."""
    rng = random.Random(seed)
    ids = iter(range(1, 10**6))
    schedule = []
    for _ in range(rounds):
        shuffled = rng.sample(range(1, accounts + 1), accounts)
        pairs = []
        for a, b in zip(shuffled[::2], shuffled[1::2], strict=True):
            pairs.append(
                (
                    Transfer(next(ids), a, b, rng.randint(1, 100)),
                    Transfer(next(ids), b, a, rng.randint(1, 100)),
                )
            )
        schedule.append(pairs)
    return schedule


@dataclass
class Outcome:
    attempts: int  # as `transaction()` reported it
    calls: int  # times the unit of work actually ran


def meet_once(barrier: threading.Barrier) -> Callable[[], None]:
    """Wait for the partner once, on whichever attempt first gets there."""
    met = threading.Event()

    def pause() -> None:
        if not met.is_set():
            met.set()
            barrier.wait()

    return pause


def meet_once_async(barrier: asyncio.Barrier) -> Callable[[], Awaitable[None]]:
    met = asyncio.Event()

    async def pause() -> None:
        if not met.is_set():
            met.set()
            await asyncio.wait_for(barrier.wait(), 20)

    return pause


def transfer_in_threads(
    database: Database,
    schedule: list[list[tuple[Transfer, Transfer]]],
    script: Callable[[Transfer], Script],
    isolation_level: IsolationLevel | None,
) -> dict[int, Outcome]:
    workers = 2 * len(schedule[0])
    start = threading.Barrier(workers, timeout=20)
    meets = [[threading.Barrier(2, timeout=20) for _ in pairs] for pairs in schedule]
    outcomes: dict[int, Outcome] = {}

    def work(worker: int) -> None:
        pair, side = divmod(worker, 2)
        for meet, pairs in zip(meets, schedule, strict=True):
            start.wait()
            transfer, calls, pause = pairs[pair][side], 0, meet_once(meet[pair])

            for attempt in transaction(
                database, policy=PATIENT, isolation_level=isolation_level
            ):
                with attempt as session:
                    calls += 1
                    drive(session, script(transfer), pause)
            outcomes[transfer.id] = Outcome(attempt.number, calls)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, range(workers)))
    return outcomes


def transfer_in_tasks(
    database: Database,
    schedule: list[list[tuple[Transfer, Transfer]]],
    script: Callable[[Transfer], Script],
    isolation_level: IsolationLevel | None,
) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}

    async def main() -> None:
        workers = 2 * len(schedule[0])
        start = asyncio.Barrier(workers)
        meets = [[asyncio.Barrier(2) for _ in pairs] for pairs in schedule]

        async def work(worker: int) -> None:
            pair, side = divmod(worker, 2)
            for meet, pairs in zip(meets, schedule, strict=True):
                await asyncio.wait_for(start.wait(), 20)
                transfer, calls = pairs[pair][side], 0
                pause = meet_once_async(meet[pair])

                async for attempt in transaction(
                    database, policy=PATIENT, isolation_level=isolation_level
                ):
                    async with attempt as session:
                        calls += 1
                        await drive_async(session, script(transfer), pause)
                outcomes[transfer.id] = Outcome(attempt.number, calls)

        try:
            await asyncio.gather(*(work(w) for w in range(workers)))
        finally:
            await database.async_engine.dispose()

    asyncio.run(main())
    return outcomes


def check_bank(
    database: Database,
    schedule: list[list[tuple[Transfer, Transfer]]],
    outcomes: dict[int, Outcome],
) -> int:
    """Every transfer applied exactly once, balances exact; returns the retries."""
    transfers = [t for pairs in schedule for pair in pairs for t in pair]
    expected = dict.fromkeys(range(1, 9), INITIAL_BALANCE)
    for t in transfers:
        expected[t.source] -= t.amount
        expected[t.target] += t.amount
    assert ledger_ids(database) == sorted(t.id for t in transfers)
    assert balances(database) == expected
    assert sum(expected.values()) == 8 * INITIAL_BALANCE
    assert all(o.attempts == o.calls for o in outcomes.values()), outcomes
    return sum(o.attempts - 1 for o in outcomes.values())


def retried_kinds(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.error_kind  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == LOGGER and "retrying" in r.getMessage()
    ]


@pytest.mark.only(Backend.POSTGRESQL, Backend.MARIADB)
def test_crossed_transfers_deadlock_and_are_retried(
    target: Target, bank: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    schedule = plan(seed=5, rounds=4)
    runner = transfer_in_tasks if target.async_ else transfer_in_threads
    outcomes = runner(bank, schedule, crossed_transfer, None)

    retries = check_bank(bank, schedule, outcomes)
    # Each crossed pair deadlocks once: one of the two is the victim and runs again.
    assert retries >= len(schedule) * len(schedule[0])
    assert retried_kinds(caplog) == [ErrorKind.DEADLOCK.value] * retries


@pytest.mark.only(Backend.POSTGRESQL)
def test_serializable_read_then_write_transfers_are_retried(
    target: Target, bank: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    schedule = plan(seed=7, rounds=3)
    runner = transfer_in_tasks if target.async_ else transfer_in_threads
    outcomes = runner(bank, schedule, read_then_write_transfer, "SERIALIZABLE")

    # The balances are written from values read earlier: without SERIALIZABLE and
    # the retries, concurrent transfers would lose each other's updates.
    retries = check_bank(bank, schedule, outcomes)
    assert retries > 0
    assert set(retried_kinds(caplog)) == {ErrorKind.SERIALIZATION_FAILURE.value}
    assert len(retried_kinds(caplog)) == retries


# -- A lock held by another connection: retried until released, or given up -------------


@pytest.fixture
def locked(bank: Database, make_database: Callable[..., Database]) -> Iterator[Lock]:
    """Account 1 locked by another connection (the whole file on SQLite)."""
    # A short lock wait: SQLite's busy timeout here, per statement elsewhere (see `short_wait`).
    database = make_database(sqlite_busy_timeout=0.05)
    holder = bank.engine.connect()
    holder.begin()
    holder.execute(account.update().where(account.c.id == 1).values(balance=0))
    lock = Lock(database, holder)
    yield lock
    lock.release()
    holder.close()


@dataclass
class Lock:
    database: Database
    holder: sa.Connection

    def release(self) -> None:
        if self.holder.in_transaction():
            self.holder.rollback()


def nothing() -> None:
    pass


def short_wait(backend: Backend) -> Script:
    """Wait only briefly for a row lock (SQLite's busy timeout is already short here)."""
    if backend is Backend.POSTGRESQL:
        yield "SET LOCAL lock_timeout = '50ms'"
    elif backend is Backend.MARIADB:
        yield "SET SESSION innodb_lock_wait_timeout = 0"


def deposit(backend: Backend, calls: list[int], release_on: int) -> Script:
    """Add 5 to the locked account; on call number `release_on`, first let the lock go."""
    calls.append(1)
    if len(calls) == release_on:
        yield PAUSE  # the test releases the lock here
    yield from short_wait(backend)
    yield (
        account.update().where(account.c.id == 1).values(balance=account.c.balance + 5)
    )
    yield record(Transfer(len(calls), 1, 1, 5))


def test_lock_held_elsewhere_is_waited_out(
    target: Target, locked: Lock, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite's "database is locked", PostgreSQL's and MariaDB's lock wait timeout."""
    caplog.set_level(logging.INFO, LOGGER)
    calls: list[int] = []
    script = functools.partial(deposit, target.backend, calls, 3)
    run(target, locked.database, script, pause=locked.release)

    assert len(calls) == 3
    assert balances(locked.database)[1] == INITIAL_BALANCE + 5
    assert ledger_ids(locked.database) == [3]
    kind = (
        ErrorKind.DATABASE_LOCKED
        if target.backend is Backend.SQLITE
        else ErrorKind.LOCK_TIMEOUT
    )
    assert retried_kinds(caplog) == [kind.value, kind.value]
    assert caplog.records[-1].getMessage() == "Transaction committed on attempt 3"


def test_exhausted_retries_raise_the_last_error_unchanged(
    target: Target, locked: Lock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    calls: list[int] = []
    database, attempts = locked.database, list[Any]()

    def main() -> None:
        with database.session() as session:
            for attempt in transaction(session, policy=RetryPolicy(attempts=3)):
                attempts.append(attempt)
                with attempt:
                    drive(session, deposit(target.backend, calls, 0), nothing)

    async def main_async() -> None:
        try:
            async with database.async_session() as session:
                async for attempt in transaction(
                    session, policy=RetryPolicy(attempts=3)
                ):
                    attempts.append(attempt)
                    async with attempt:
                        script = deposit(target.backend, calls, 0)
                        await drive_async(session, script, nothing)
        finally:
            await database.async_engine.dispose()

    with pytest.raises(sa.exc.DBAPIError) as raised:
        if target.async_:
            asyncio.run(main_async())
        else:
            main()

    assert len(calls) == len(attempts) == 3
    assert raised.value is attempts[-1].error  # not wrapped, not an earlier try's
    assert all(a.error is not raised.value for a in attempts[:-1])
    found = classify(raised.value)
    assert found is not None and found.kind.retryable
    locked.release()
    assert ledger_ids(database) == []
    warning = caplog.records[-1]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage().startswith("Transaction failed on attempt 3 of 3 with")
    # The policy, pure, on this real error: the bound is what stopped it.
    assert RetryPolicy(attempts=4).delay(raised.value, 3, jitter=0.5) == 0.5 * 0.2
    assert RetryPolicy(attempts=3).delay(raised.value, 3, jitter=0.5) is None


# -- Errors that are not retried; nesting; misuse ----------------------------------------


def test_unique_violation_is_not_retried(
    target: Target, bank: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    with bank.engine.begin() as conn:
        conn.execute(record(Transfer(1, 1, 2, 10)))
    calls: list[int] = []

    def duplicate() -> Script:
        calls.append(1)
        yield account.update().where(account.c.id == 1).values(balance=0)
        yield record(Transfer(1, 1, 2, 10))

    with pytest.raises(sa.exc.IntegrityError) as raised:
        run(target, bank, duplicate)

    found = classify(raised.value)
    assert found is not None and found.kind is ErrorKind.UNIQUE_VIOLATION
    assert calls == [1]
    assert balances(bank)[1] == INITIAL_BALANCE  # rolled back
    assert [r for r in caplog.records if r.name == LOGGER] == []


def test_a_single_statement_commits_by_itself_on_postgresql(
    target: Target, bank: Database
) -> None:
    seen: list[list[int]] = []
    # A plain engine: ours would take SQLite's write lock (BEGIN IMMEDIATE) to read.
    onlooker = sa.create_engine(bank.engine.url, poolclass=sa.pool.NullPool)

    def look() -> None:
        with onlooker.connect() as conn:
            seen.append(sorted(conn.scalars(sa.select(ledger.c.id))))

    def write_once() -> Script:
        yield record(Transfer(1, 1, 2, 10))
        yield PAUSE  # still inside the unit of work

    run(
        target,
        bank,
        write_once,
        look,
        single_statement=True,
    )
    # PostgreSQL ran it in autocommit: others saw the row before the unit of work ended.
    assert seen == [[1] if target.backend is Backend.POSTGRESQL else []]
    assert ledger_ids(bank) == [1]

    def write_then_fail() -> Script:
        yield record(Transfer(2, 1, 2, 10))
        yield PAUSE

    def fail() -> None:
        raise LookupError("after the write")

    # The pooled connection went back to transactions: this one is rolled back.
    with pytest.raises(LookupError):
        run(target, bank, write_then_fail, fail)
    assert ledger_ids(bank) == [1]


def test_a_single_statement_that_fails_writes_nothing(
    target: Target, bank: Database
) -> None:
    with bank.engine.begin() as conn:
        conn.execute(record(Transfer(1, 1, 2, 10)))

    def duplicate() -> Script:
        yield record(Transfer(1, 2, 1, 99))

    with pytest.raises(sa.exc.IntegrityError) as raised:
        run(target, bank, duplicate, single_statement=True)
    found = classify(raised.value)
    assert found is not None and found.kind is ErrorKind.UNIQUE_VIOLATION
    with bank.engine.connect() as conn:
        assert conn.execute(sa.select(ledger.c.amount)).scalars().all() == [10]


def test_nested_unit_of_work_joins_the_outer_transaction(
    backend: Backend, bank: Database
) -> None:
    @transactional
    def inner(session: Session, transfer: Transfer) -> None:
        session.exec(record(transfer))

    @transactional
    def outer(session: Session, fail: bool) -> None:
        inner(session, Transfer(1, 1, 2, 10))
        session.exec(record(Transfer(2, 2, 1, 10)))
        if fail:
            raise LookupError("after the inner unit of work")

    with Session(bank.engine) as session:
        with pytest.raises(LookupError):
            outer(session, fail=True)
        assert ledger_ids(bank) == []  # the inner one did not commit on its own
        outer(session, fail=False)
    assert ledger_ids(bank) == [1, 2]


@pytest.mark.only(Backend.SQLITE)
def test_misuse_is_explained(backend: Backend, database: Database) -> None:
    with database.session() as session:
        with pytest.raises(RuntimeError, match="Each attempt must be entered"):
            for _attempt in transaction(session):
                pass
    with pytest.raises(TypeError, match="needs `async for"):
        iter(transaction(AsyncSession(database.async_engine)))
    with pytest.raises(TypeError, match="needs a Session or AsyncSession argument"):
        transactional(lambda x: x)(1)
    with pytest.raises(ValueError, match="exclude each other"):
        transaction(database, isolation_level="SERIALIZABLE", single_statement=True)


def test_policy_is_bounded_and_jittered() -> None:
    assert (
        RetryPolicy().delay(ValueError("not a database error"), 1, jitter=0.5) is None
    )
    with pytest.raises(ValueError, match="attempts must be at least 1"):
        RetryPolicy(attempts=0)
