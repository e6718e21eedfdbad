from .models import Hero, HeroCreate, HeroPublic, Team


@app.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: SessionDep, hero: HeroCreate, team_id: int):
    db_hero = Hero.model_validate(hero, update={"team_id": team_id})
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero


def sample_hero() -> Hero:
    return Hero(name="Deadpond", secret_name="Dive Wilson")


# Adapted from dataelement/bisheng `0172fb2` (Apache-2.0): rows built from chosen values,
# where every field the request schema and the table share is passed (nothing is lost).
def create_hero(data: HeroCreate, team_id: int) -> Hero:
    return Hero(
        name=data.name.strip(),
        secret_name=data.secret_name,
        age=data.age,
        team_id=team_id,
    )


def audit_entry(user: HeroPublic) -> Team:
    return Team(name=f"audit of {user.name}")


# Adapted from dataelement/bisheng `0172fb2` (Apache-2.0), channel_service.py: one value taken
# from the login user's schema is not a copy of it (its other fields are not this row's).
def add_sighting(user: HeroPublic) -> Hero:
    return Hero(name="sighting", secret_name="unknown", team_id=user.team_id)
