from sqlalchemy.orm import selectinload

from .models import Hero, HeroCreate, Team


@app.get("/heroes/{hero_id}/team")
async def read_hero_team(*, session: AsyncSessionDep, hero_id: int):
    hero = await session.get(Hero, hero_id, options=[selectinload(Hero.team)])
    if hero is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero.team


async def team_sizes(session) -> dict[str, int]:
    teams = (await session.exec(select(Team))).all()
    return {team.name: len(await team.awaitable_attrs.heroes) for team in teams}


async def refresh_team(session, hero: Hero) -> Team | None:
    await session.refresh(hero, ["team"])
    return hero.team


async def filter_by_team(session, team: Team):
    return (await session.exec(select(Hero).where(Hero.team == team))).all()


def sync_only(hero: Hero) -> Team | None:
    return hero.team
