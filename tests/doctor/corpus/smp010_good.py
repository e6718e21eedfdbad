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


def import_each(session: Session, heroes: list[HeroCreate]) -> None:
    for hero in heroes:
        try:
            session.add(Hero.model_validate(hero))
            session.commit()
        except IntegrityError:
            session.rollback()  # one duplicate must not undo the others


def notify_each(session: Session, heroes: list[Hero], mailer: Mailer) -> None:
    for hero in heroes:
        mailer.send(hero.name)
        hero.notified = True
        session.commit()  # a checkpoint: the mail went out, whatever happens next
