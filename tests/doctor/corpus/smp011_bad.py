from .models import Hero, HeroPublic


@app.get("/heroes/{hero_id}", response_model=HeroPublic)
def read_hero(*, session: SessionDep, hero_id: int):
    hero = session.get(Hero, hero_id)  # expect: SMP011
    return hero


@app.get("/heroes/{hero_id}/name")
def read_name(*, session: SessionDep, hero_id: int):
    return {"name": session.get(Hero, hero_id).name}  # expect: SMP011


@app.get("/heroes/{hero_id}/direct", response_model=HeroPublic)
async def read_direct(*, session: AsyncSessionDep, hero_id: int):
    return await session.get(Hero, hero_id)  # expect: SMP011


@app.delete("/heroes/{hero_id}")
def delete_hero(*, session: SessionDep, hero_id: int):
    hero = session.get(Hero, hero_id)  # expect: SMP011
    session.delete(hero)
    session.commit()
    if hero is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    return {"ok": True}


@app.get("/heroes/{hero_id}/other", response_model=HeroPublic)
def read_other(*, session: SessionDep, hero_id: int, current: CurrentHeroDep):
    hero = session.get(Hero, hero_id)  # expect: SMP011
    if hero != current:
        return hero
    raise HTTPException(status_code=409, detail="That is you")


@app.get("/heroes/{hero_id}/half-guarded")
def read_half_guarded(*, session: SessionDep, hero_id: int):
    hero = session.get(Hero, hero_id)  # expect: SMP011
    # The guard tests another name: `hero.name` still raises on None.
    name = hero.name if hero_id else None
    return {"name": name, "age": getattr(hero, "age")}


@app.get("/heroes/{hero_id}/public", response_model=HeroPublic)
def read_public(*, session: SessionDep, hero_id: int):
    hero = session.get(Hero, hero_id)  # expect: SMP011
    return HeroPublic.model_validate(hero)
