from .models import Hero, HeroCreate, HeroPublic


@app.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: SessionDep, hero: HeroCreate, team_id: int):
    db_hero = Hero.model_validate(hero, update={"team_id": team_id})
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero


def sample_hero() -> Hero:
    return Hero(name="Deadpond", secret_name="Dive Wilson")
