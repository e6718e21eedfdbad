from sqlmodel import Session, select, update

from sqlmodel_production import transaction, transactional

from .models import Hero


@transactional
def rename(session: Session, hero_id: int, name: str) -> None:
    session.exec(select(Hero).where(Hero.id == hero_id)).one().name = name
    session.commit()  # expect: SMP019


def promote(session: Session, hero_id: int) -> None:
    for attempt in transaction(session):
        with attempt:
            session.exec(select(Hero).where(Hero.id == hero_id)).one().age += 1
            session.commit()  # expect: SMP019


def audit_then_promote(session: Session, hero: Hero, hero_id: int) -> None:
    session.add(hero)
    for attempt in transaction(session):  # expect: SMP019
        with attempt:
            session.exec(select(Hero).where(Hero.id == hero_id)).one().age += 1


async def bump(session, team_id: int) -> None:
    await session.execute(update(Hero).where(Hero.team_id == team_id).values(age=1))
    async for attempt in transaction(session):  # expect: SMP019
        async with attempt:
            await session.rollback()  # expect: SMP019
