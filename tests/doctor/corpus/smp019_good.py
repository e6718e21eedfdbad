from sqlmodel import Session, select

from sqlmodel_production import transaction, transactional

from .models import Hero


@transactional
def rename(session: Session, hero_id: int, name: str) -> None:
    session.exec(select(Hero).where(Hero.id == hero_id)).one().name = name


def promote(session: Session, hero: Hero, hero_id: int) -> None:
    # Reads before the loop are fine; writes are committed first.
    session.exec(select(Hero)).all()
    session.add(hero)
    session.commit()
    for attempt in transaction(session):
        with attempt:
            session.exec(select(Hero).where(Hero.id == hero_id)).one().age += 1


def promote_then_close(session: Session, hero_id: int) -> None:
    for attempt in transaction(session):
        with attempt:
            session.exec(select(Hero).where(Hero.id == hero_id)).one().age += 1
    # After the unit of work, not inside it.
    session.commit()
