"""docs/transactions.md: the retry loop, its async and `Database` forms, the decorator."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from docs_src.transactions import tutorial001, tutorial002, tutorial003, tutorial004
from docs_src.transactions.tutorial001 import Account
from sqlmodel_production import Backend, Database
from tests.conftest import Target
from tests.test_docs._helpers import in_session, tables


@pytest.fixture
def accounts(database: Database) -> Iterator[list[int]]:
    """Three accounts with 1000 each; their ids."""
    with tables(database, Account, tutorial004.Booking):
        with database.session() as session:
            rows = [Account(balance=1000) for _ in range(3)]
            session.add_all(rows)
            session.commit()
            ids = [row.id for row in rows]
        yield ids  # type: ignore[misc]


def balances(database: Database) -> list[int]:
    with database.session() as session:
        return list(session.exec(select(Account.balance).order_by(Account.id)))


def retries(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "sqlmodel_production.transactions" and "retrying" in r.getMessage()
    ]


def meet_after_first_lock(database: Database, parties: int) -> None:
    """Make each thread wait for the others once it holds its first row lock: a real deadlock."""
    barrier = threading.Barrier(parties, timeout=20)
    met = threading.local()

    @sa.event.listens_for(database.engine, "after_cursor_execute")
    def meet(*args: Any) -> None:
        if "FOR UPDATE" in args[2] and not getattr(met, "done", False):
            met.done = True
            barrier.wait()


def test_tutorial001_crossed_transfers_deadlock_and_run_again(
    backend: Backend,
    database: Database,
    accounts: list[int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b, _ = accounts
    if (
        backend is not Backend.SQLITE
    ):  # SQLite's BEGIN IMMEDIATE runs writers one by one
        meet_after_first_lock(database, 2)

    def run(source: int, target: int, amount: int) -> int:
        with database.session() as session:
            return tutorial001.transfer(session, source, target, amount)

    caplog.set_level(logging.INFO, "sqlmodel_production.transactions")
    with ThreadPoolExecutor(2) as pool:
        tries = sorted(pool.map(run, [a, b], [b, a], [10, 25]))
    assert balances(database) == [1015, 985, 1000]
    if backend is Backend.SQLITE:
        assert tries == [1, 1]
        assert retries(caplog) == []
    else:
        assert tries == [1, 2]  # the deadlock victim ran its whole unit of work again
        (message,) = retries(caplog)
        assert message.startswith("Transaction attempt 1 of 5 failed with deadlock (")


def test_tutorial001_other_errors_roll_back_and_are_raised_at_once(
    target: Target, database: Database, accounts: list[int]
) -> None:
    with pytest.raises(LookupError):
        in_session(
            database,
            target.async_,
            lambda session: tutorial001.transfer(session, accounts[0], 9999, 10),
        )
    assert balances(database) == [1000, 1000, 1000]


def test_tutorial002_concurrent_serializable_transfers_are_exact(
    backend: Backend, database: Database, accounts: list[int]
) -> None:
    a, b, _ = accounts

    async def one(source: int, target: int, amount: int) -> int:
        async with database.async_session() as session:
            return await tutorial002.transfer(session, source, target, amount)

    async def main() -> list[int]:
        try:
            return await asyncio.gather(
                one(a, b, 10), one(b, a, 1), one(a, b, 100), one(b, a, 7)
            )
        finally:
            await database.async_engine.dispose()

    tries = asyncio.run(main())
    assert all(1 <= n <= 5 for n in tries)
    assert balances(database) == [1000 - 110 + 8, 1000 + 110 - 8, 1000]


def test_tutorial003_each_attempt_opens_its_own_session(
    target: Target, database: Database, accounts: list[int]
) -> None:
    if target.async_:

        async def main() -> int:
            try:
                return await tutorial003.open_account_async(database, 50)
            finally:
                await database.async_engine.dispose()

        account_id = asyncio.run(main())
    else:
        account_id = tutorial003.open_account(database, 50)
    assert account_id not in accounts
    assert balances(database) == [1000, 1000, 1000, 50]


def test_tutorial004_the_decorator_commits_and_nested_calls_join(
    target: Target, database: Database, accounts: list[int]
) -> None:
    a, b, c = accounts

    def body(session: Any) -> None:
        tutorial004.transfer(session, a, b, 5)
        with pytest.raises(LookupError):
            tutorial004.pay_each(session, a, [b, c, 9999], 100)
        tutorial004.pay_each(session, c, [a, b], 50)

    in_session(database, target.async_, body)
    # The failed pay_each moved nothing: its inner transfers were one unit of work.
    assert balances(database) == [1000 - 5 + 50, 1000 + 5 + 50, 1000 - 100]


def test_tutorial004_async_booking_commits_and_a_duplicate_is_not_retried(
    backend: Backend, database: Database, accounts: list[int]
) -> None:
    seats = [1, 2]

    sent: list[str] = []

    async def main() -> list[int]:
        try:
            async with database.async_session() as session:
                booked = [
                    (await tutorial004.book(session, seat)).seat_id for seat in seats
                ]
            sa.event.listen(
                database.async_engine.sync_engine,
                "before_cursor_execute",
                lambda *args: sent.append(args[2]),
            )
            async with database.async_session() as session:
                with pytest.raises(IntegrityError):
                    await tutorial004.book(session, seats[0])
            return booked
        finally:
            await database.async_engine.dispose()

    assert asyncio.run(main()) == seats
    # A unique violation is not retryable: one INSERT, raised at once.
    assert sum(statement.startswith("INSERT") for statement in sent) == 1
    with database.session() as session:
        stored = session.exec(select(tutorial004.Booking.seat_id)).all()
    assert sorted(stored) == seats
