from .models import Hero, HeroPublic


@app.get("/heroes/{hero_id}", response_model=HeroPublic)
def read_hero(*, session: SessionDep, hero_id: int):
    hero = session.get(Hero, hero_id)
    if hero is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero


@app.get("/heroes/{hero_id}/walrus", response_model=HeroPublic)
def read_walrus(*, session: SessionDep, hero_id: int):
    if (hero := session.get(Hero, hero_id)) is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero


@app.get("/heroes/{hero_id}/active", response_model=HeroPublic)
async def read_active(*, session: AsyncSessionDep, hero_id: int):
    hero = await session.get(Hero, hero_id)
    if hero is None or hero.age is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero


def find_hero(session, hero_id: int) -> Hero | None:
    return session.get(Hero, hero_id)


def find_hero_too(session, hero_id: int) -> Hero | None:
    hero = session.get(Hero, hero_id)
    return hero


def settings_lookup(environ: dict[str, str]) -> str:
    value = environ.get("DATABASE_URL", "sqlite://")
    return value.upper()


@app.get("/heroes/{hero_id}/mine", response_model=HeroPublic)
def read_own(*, session: SessionDep, hero_id: int, current: CurrentHeroDep):
    # `==` cannot raise on None; where it holds, `hero` is `current`.
    hero = session.get(Hero, hero_id)
    if hero == current:
        return hero
    logger.info("hero %s read by %s", hero, current)
    print(f"read {hero}")
    if hero is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero


@app.get("/heroes/{hero_id}/guarded")
def read_guarded(*, session: SessionDep, hero_id: int):
    # Reads that cannot raise on None.
    hero = session.get(Hero, hero_id)
    name = hero.name if hero else None
    age = getattr(hero, "age", None)
    secret = None if hero is None else hero.secret_name
    return {"name": name, "age": age, "secret": secret}


# Adapted from topoteretes/cognee `a8f9760` (Apache-2.0), modules/data/methods/delete_dataset.py:
# the name is read by the get's own argument, then checked.
async def delete_hero(session: AsyncSession, hero: Hero) -> None:
    hero = await session.get(Hero, hero.id)
    if hero:
        await session.delete(hero)
        await session.commit()


# Adapted from topoteretes/cognee `a8f9760` (Apache-2.0), modules/data/methods/get_data.py: the
# result goes to a helper that accepts None, and back to the caller as an Optional.
def _check_owner(hero: Hero | None, owner_id: int) -> None:
    if hero and hero.team_id != owner_id:
        raise PermissionError(hero.id)


def get_hero(session: Session, hero_id: int, owner_id: int) -> Hero | None:
    hero = session.get(Hero, hero_id)
    _check_owner(hero, owner_id)
    return hero


# Adapted from dataelement/bisheng `0172fb2` (Apache-2.0): a lookup helper whose annotation
# leaves out `None`; its callers check what it returns.
class HeroDao:
    @classmethod
    def query_by_id(cls, hero_id: int) -> Hero:
        with Session(engine) as session:
            return session.get(Hero, hero_id)
