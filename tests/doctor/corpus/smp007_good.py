from .models import Hero, HeroCreate, HeroPublic


@app.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: SessionDep, hero: HeroCreate):
    db_hero = Hero.model_validate(hero)
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero


@app.post("/heroes/async", response_model=HeroPublic)
async def create_hero_async(*, session: AsyncSessionDep, hero: HeroCreate):
    db_hero = Hero.model_validate(hero)
    session.add(db_hero)
    await session.commit()
    await session.refresh(db_hero)
    return db_hero


@app.delete("/heroes/{hero_id}")
def delete_hero(*, session: SessionDep, hero_id: int):
    hero = session.get(Hero, hero_id)
    if not hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    session.delete(hero)
    session.commit()
    return {"ok": True}


def rebind(session, hero: Hero) -> None:
    session.add(hero)
    session.commit()
    hero = Hero(name="Other", secret_name="x")
    print(hero)


def save(session, hero: Hero) -> int | None:
    # A sync helper: reading `hero.id` reloads the row in one query, as refresh() would.
    session.add(hero)
    session.commit()
    print(hero.id)
    return hero.id


# Adapted from PySpur-Dev/pyspur `97b9856` (Apache-2.0): after the commit the names are
# another function's file handle and a comprehension's key, not the rows.
async def start_runs(session: AsyncSession, hero: Hero, node_id: str) -> dict[str, int]:
    session.add(hero)
    failed: set[str] = set()
    failed.add(node_id)
    await session.commit()

    async def write(path: str) -> None:
        with open(path, "a") as hero:
            hero.write("done\n")

    await write("out.jsonl")
    return {node_id: 1 for node_id in ("a", "b")}
