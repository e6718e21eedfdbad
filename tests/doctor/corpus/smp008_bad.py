from .models import Hero, HeroCreate, HeroPublic


@app.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: SessionDep, hero: HeroCreate):
    db_hero = Hero(**hero.model_dump())  # expect: SMP008
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero


def build(data: HeroCreate) -> Hero:
    return Hero(  # expect: SMP008
        name=data.name,
        secret_name=data.secret_name,
    )
