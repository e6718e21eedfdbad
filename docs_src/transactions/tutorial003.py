from docs_src.transactions.tutorial001 import Account
from sqlmodel_production import Database
from sqlmodel_production.db import transaction


def open_account(database: Database, balance: int) -> int:
    for attempt in transaction(database):
        with attempt as session:
            account = Account(balance=balance)
            session.add(account)
            session.flush()  # the database assigns the id
            account_id = account.id
    assert account_id is not None
    return account_id


async def open_account_async(database: Database, balance: int) -> int:
    async for attempt in transaction(database):
        async with attempt as session:
            account = Account(balance=balance)
            session.add(account)
            await session.flush()
            account_id = account.id
    assert account_id is not None
    return account_id
