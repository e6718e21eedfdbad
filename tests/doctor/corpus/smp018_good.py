from sqlmodel import Session, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Hero, Team


async def heroes_by_id(session: AsyncSession, ids: list[int]) -> list[Hero]:
    result = await session.exec(select(Hero).where(Hero.id.in_(ids)))
    return list(result.all())


async def first_hero_named(session: AsyncSession, names: list[str]) -> Hero | None:
    # A search that stops at the first match.
    for name in names:
        hero = (await session.exec(select(Hero).where(Hero.name == name))).first()
        if hero is not None:
            break
    return hero


async def pages(session: AsyncSession) -> list[Team]:
    # Not per item: the same query, paging.
    teams: list[Team] = []
    for page in range(3):
        teams.extend(await session.exec(select(Team).offset(page * 10).limit(10)))
    return teams


def lookups(cache, ids: list[int]) -> list[object]:
    # Not a session: a dict's get.
    return [cache.get(Hero, i) for i in ids]


def rows(client, ids: list[int]) -> list[object]:
    return [client.get(f"/heroes/{i}") for i in ids]


def once(session: Session, hero: Hero) -> Hero:
    session.refresh(hero)
    return hero


async def in_chunks(session: AsyncSession, ids: list[int]) -> list[Hero]:
    # A batch of keys per iteration, not one query per key.
    heroes: list[Hero] = []
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        heroes.extend(await session.exec(select(Hero).where(Hero.id.in_(chunk))))
    return heroes


# IBM/mcp-context-forge and Genshin-bots/gsuid_core: one query per kind of table, a list
# the code writes out, not one per row.
METRIC_TABLES = (Hero, Team)


def clear_all(session: Session) -> None:
    for model in (Hero, Team):
        session.exec(delete(model))
    for table in METRIC_TABLES:
        session.exec(select(func.count()).select_from(table)).one()
