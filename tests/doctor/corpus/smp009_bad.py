from .models import Hero, HeroPublic, HeroUpdate


@app.patch("/heroes/{hero_id}", response_model=HeroPublic)
def update_hero(*, session: SessionDep, hero_id: int, hero: HeroUpdate):
    db_hero = session.get(Hero, hero_id)
    if not db_hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    db_hero.sqlmodel_update(hero.model_dump())  # expect: SMP009
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero


def apply(db_hero: Hero, changes: HeroUpdate) -> None:
    for key, value in changes.dict(exclude_unset=False).items():  # expect: SMP009
        setattr(db_hero, key, value)


@app.patch("/heroes/{hero_id}/validated", response_model=HeroPublic)
def validate_hero_update(*, session: SessionDep, hero_id: int, hero: HeroUpdate):
    db_hero = session.get(Hero, hero_id)
    if db_hero is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    merged = Hero.model_validate({**db_hero.model_dump(), **hero.model_dump()})  # expect: SMP009
    session.merge(merged)
    session.commit()
    return merged
