from sqlmodel import Session, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Hero, Team


async def heroes_by_id(session: AsyncSession, ids: list[int]) -> list[Hero]:
    heroes = []
    for hero_id in ids:
        heroes.append(await session.get(Hero, hero_id))  # expect: SMP018
    return heroes


async def teams_of(session: AsyncSession, heroes: list[Hero]) -> list[Team]:
    teams = []
    for hero in heroes:
        result = await session.exec(select(Team).where(Team.id == hero.team_id))  # expect: SMP018
        teams.append(result.one())
    return teams


async def create_all(session: AsyncSession, heroes: list[Hero]) -> None:
    session.add_all(heroes)
    await session.commit()
    for hero in heroes:
        await session.refresh(hero)  # expect: SMP018


def names(engine, ids: list[int]) -> list[str]:
    with Session(engine) as session:
        return [session.get(Hero, i) for i in ids]  # expect: SMP018
