from .models import Hero, HeroCreate, HeroPublic


@app.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: SessionDep, hero: HeroCreate):
    db_hero = Hero.model_validate(hero)
    session.add(db_hero)
    session.commit()  # expect: SMP007
    return db_hero


@app.post("/heroes/async", response_model=HeroPublic)
async def create_hero_async(*, session: AsyncSessionDep, hero: HeroCreate):
    db_hero = Hero.model_validate(hero)
    session.add(db_hero)
    await session.commit()  # expect: SMP007
    return {"id": db_hero.id}


async def save(session, hero: Hero) -> int | None:
    session.add(hero)
    await session.commit()  # expect: SMP007
    print(hero.id)
    return None
