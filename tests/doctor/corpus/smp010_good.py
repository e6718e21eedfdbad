from sqlalchemy import update
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


def backfill_ages(session: Session) -> None:
    while True:
        heroes = session.exec(select(Hero).where(Hero.age == None).limit(1000)).all()  # noqa: E711
        if not heroes:
            break
        for hero in heroes:
            hero.age = 0
        session.commit()  # one transaction per batch of 1,000 rows


def import_per_team(engine: Engine, teams: list[Team]) -> None:
    for team in teams:
        with Session(engine) as session:  # each team its own unit of work
            session.add(Team(name=team.name))
            session.commit()


def import_in_batches(session, heroes: list[HeroCreate]) -> None:
    # jupyterhub's start-up: a commit on every hundredth item, a batch on purpose.
    for i, hero in enumerate(heroes):
        session.add(Hero.model_validate(hero))
        if i % 100 == 0:
            session.commit()
    session.commit()


def mark_in_chunks(session, hero_ids: list[int], size: int = 2000) -> None:
    # fractal-server's bulk update: one UPDATE and one commit per chunk of ids.
    for start in range(0, len(hero_ids), size):
        session.execute(
            update(Hero).where(Hero.id.in_(hero_ids[start : start + size])).values(age=0)
        )
        session.commit()
