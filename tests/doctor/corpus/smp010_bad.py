from .models import Hero, HeroCreate


def import_heroes(session, heroes: list[HeroCreate]) -> None:
    for hero in heroes:
        session.add(Hero.model_validate(hero))
        session.commit()  # expect: SMP010


async def drain(session, queue) -> None:
    while queue:
        item = queue.pop()
        if item:
            session.add(item)
            await session.commit()  # expect: SMP010
