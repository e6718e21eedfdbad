from sqlmodel.ext.asyncio.session import AsyncSession

from docs_src.transactions.tutorial001 import Account
from sqlmodel_production.db import transaction


async def transfer(
    session: AsyncSession, source_id: int, target_id: int, amount: int
) -> int:
    async for attempt in transaction(session, isolation_level="SERIALIZABLE"):
        async with attempt:
            source = await session.get(Account, source_id)
            target = await session.get(Account, target_id)
            if source is None or target is None:
                raise LookupError("Account not found")
            source.balance -= amount
            target.balance += amount
    return attempt.number
