from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from .models import Hero, HeroCreate, HeroPublic, HeroUpdate


@app.patch("/heroes/{hero_id}", response_model=HeroPublic)
def update_hero(*, session: SessionDep, hero_id: int, hero: HeroUpdate):
    db_hero = session.get(Hero, hero_id)
    if not db_hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    db_hero.sqlmodel_update(hero.model_dump(exclude_unset=True))
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero


@app.put("/heroes/{hero_id}/replace", response_model=HeroPublic)
def replace_hero(*, session: SessionDep, hero_id: int, hero: HeroCreate):
    db_hero = session.get(Hero, hero_id)
    if db_hero is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    db_hero.sqlmodel_update(hero.model_dump())
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero


class HeroReplace(SQLModel):
    name: str = Field(max_length=100)
    age: int | None = None


@app.put("/heroes/{hero_id}", response_model=HeroPublic)
def replace_hero(*, session: SessionDep, hero_id: int, hero: HeroReplace):
    # A full replacement: the client sends every field; an omitted age means "clear it".
    db_hero = session.get(Hero, hero_id)
    if not db_hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    db_hero.sqlmodel_update(hero.model_dump())
    session.commit()
    session.refresh(db_hero)
    return db_hero


def apply_set_fields(db_hero: Hero, hero: HeroUpdate) -> None:
    for field, value in hero.model_dump().items():
        if value is not None:
            setattr(db_hero, field, value)


@app.patch("/heroes/{hero_id}/lenient", response_model=HeroPublic)
def update_hero_lenient(*, session: SessionDep, hero_id: int, hero: HeroUpdate):
    # The None values are left out: a field the client did not send is not overwritten.
    db_hero = session.get(Hero, hero_id)
    if not db_hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    db_hero.sqlmodel_update(hero.model_dump(exclude_none=True))
    session.commit()
    session.refresh(db_hero)
    return db_hero


class HeroRename(SQLModel):
    # Both fields required: a client cannot leave one out. `model_config` is not a field.
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=100)
    secret_name: str = Field(max_length=100)


@app.patch("/heroes/{hero_id}/rename", response_model=HeroPublic)
def rename_hero(*, session: SessionDep, hero_id: int, hero: HeroRename):
    db_hero = session.get(Hero, hero_id)
    if not db_hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    db_hero.sqlmodel_update(hero.model_dump())
    session.commit()
    session.refresh(db_hero)
    return db_hero


# Adapted from PrefectHQ/prefect `ce79dd3` (Apache-2.0), src/prefect/server/api/automations.py
# and events/models/automations.py: a dump that is an error's body, and a merge that is only
# validated before the update is written field by field.
@app.patch("/heroes/{hero_id}/checked", status_code=204)
def check_hero_update(*, session: SessionDep, hero_id: int, hero: HeroUpdate):
    db_hero = session.get(Hero, hero_id)
    if db_hero is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    try:
        Hero.model_validate({**db_hero.model_dump(), **hero.model_dump()})
    except ValidationError as e:
        raise RequestValidationError(errors=e.errors(), body=hero.model_dump(mode="json"))
    db_hero.sqlmodel_update(hero.model_dump(exclude_unset=True))
    session.commit()


# Adapted from letta-ai/letta `56ba9c2` (Apache-2.0), letta/services/run_manager.py: a dump
# shown in a log message.
@app.patch("/heroes/{hero_id}/logged", status_code=204)
def log_hero_update(*, session: SessionDep, hero_id: int, hero: HeroUpdate):
    logger.warning(f"Hero {hero_id} is being updated with {hero.model_dump()}")
    update_hero_fields(session, hero_id, hero.model_dump(exclude_unset=True))


@app.patch("/nodes/{node_id}/core")
async def update_core(node_id: int, update: HeroUpdate):
    # PasarGuard's pattern: the update is sent on to the node's own API, not set on a row.
    return await node_client.request("update_core", update.model_dump(mode="json"))
