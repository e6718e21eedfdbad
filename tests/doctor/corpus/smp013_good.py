from sqlalchemy.orm import selectinload

from .models import Hero, Team

TEAMS_WITH_HEROES = select(Team).options(selectinload(Team.heroes))


@app.get("/heroes/")
def read_heroes(*, session: SessionDep):
    heroes = session.exec(select(Hero).options(selectinload(Hero.team)).limit(100)).all()
    return [{"name": hero.name, "team": hero.team.name} for hero in heroes]


@app.get("/teams/")
def read_teams(*, session: SessionDep):
    result = []
    for team in session.exec(TEAMS_WITH_HEROES).all():
        result.append({"name": team.name, "size": len(team.heroes)})
    return result


def names(heroes: list[Hero]) -> list[str]:
    return [hero.name for hero in heroes]


# Adapted from dataelement/bisheng `0172fb2` (Apache-2.0), worker/telemetry/mid_table.py and
# user/domain: the query that loads the relationships sits two calls away.
class HeroDao:
    @classmethod
    def list_with_team(cls) -> list[Hero]:
        with Session(engine) as session:
            return session.exec(select(Hero).options(selectinload(Hero.team))).all()


class HeroService:
    @classmethod
    def all_heroes(cls) -> list[Hero]:
        return HeroDao.list_with_team()


def team_names() -> list[str]:
    heroes = HeroService.all_heroes()
    return [hero.team.name for hero in heroes]


# Adapted from onyx-dot-app/onyx `a7d66a8` (MIT), onyxbot/slack/config.py: the relationship is
# read only on the way out of the loop, once.
def check_unique_name(session: Session, name: str) -> str:
    for hero in session.exec(select(Hero)).all():
        if hero.name == name:
            raise ValueError(f"{name} is taken in team {hero.team.name}")
    return name
