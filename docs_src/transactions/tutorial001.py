from sqlmodel import Field, Session

from sqlmodel_production.db import transaction
from sqlmodel_production.models import IntPK


class Account(IntPK, table=True):
    __tablename__ = "accounts"

    balance: int = Field(default=0)


def transfer(session: Session, source_id: int, target_id: int, amount: int) -> int:
    for attempt in transaction(session):
        with attempt:
            source = session.get(Account, source_id, with_for_update=True)
            target = session.get(Account, target_id, with_for_update=True)
            if source is None or target is None:
                raise LookupError("Account not found")
            source.balance -= amount
            target.balance += amount
    return attempt.number  # how many tries it took
