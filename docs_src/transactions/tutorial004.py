from sqlmodel import Field, Session
from sqlmodel.ext.asyncio.session import AsyncSession

from docs_src.transactions.tutorial001 import Account
from sqlmodel_production.db import RetryPolicy, transactional
from sqlmodel_production.models import IntPK


@transactional
def transfer(session: Session, source_id: int, target_id: int, amount: int) -> None:
    source = session.get(Account, source_id, with_for_update=True)
    target = session.get(Account, target_id, with_for_update=True)
    if source is None or target is None:
        raise LookupError("Account not found")
    source.balance -= amount
    target.balance += amount


@transactional
def pay_each(
    session: Session, payer_id: int, payee_ids: list[int], amount: int
) -> None:
    for payee_id in payee_ids:
        transfer(session, payer_id, payee_id, amount)  # joins this unit of work


class Booking(IntPK, table=True):
    __tablename__ = "bookings"

    seat_id: int = Field(unique=True)


@transactional(policy=RetryPolicy(attempts=10), isolation_level="SERIALIZABLE")
async def book(session: AsyncSession, seat_id: int) -> Booking:
    booking = Booking(seat_id=seat_id)
    session.add(booking)
    await session.flush()
    return booking
