from sqlalchemy.exc import OperationalError

from .models import Hero, HeroCreate


def import_heroes(session, heroes: list[HeroCreate]) -> None:
    for hero in heroes:
        session.add(Hero.model_validate(hero))
    session.commit()


def with_retry(session, work, attempts: int = 3):
    for attempt in range(attempts):
        try:
            result = work(session)
            session.commit()
            return result
        except OperationalError:
            session.rollback()
    raise RuntimeError("gave up")


def with_retry_else(session, work):
    while True:
        try:
            work(session)
            session.commit()
        except OperationalError:
            session.rollback()
        else:
            break
