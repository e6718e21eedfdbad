from .models import Hero, Team


@app.get("/heroes/{hero_id}/team")
async def read_hero_team(*, session: AsyncSessionDep, hero_id: int):
    hero = await session.get(Hero, hero_id)
    if hero is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero.team  # expect: SMP014


async def team_sizes(session) -> dict[str, int]:
    teams = (await session.exec(select(Team))).all()
    return {team.name: len(team.heroes) for team in teams}  # expect: SMP014
