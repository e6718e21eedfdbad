from .models import Hero, Team


@app.get("/heroes/")
def read_heroes(*, session: SessionDep):
    heroes = session.exec(select(Hero).limit(100)).all()
    return [{"name": hero.name, "team": hero.team.name} for hero in heroes]  # expect: SMP013


@app.get("/teams/")
def read_teams(*, session: SessionDep):
    result = []
    for team in session.exec(select(Team)).all():
        result.append({"name": team.name, "size": len(team.heroes)})  # expect: SMP013
    return result
