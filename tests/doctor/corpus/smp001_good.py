from fastapi import APIRouter, Depends, HTTPException

from .models import Hero, HeroCreate, HeroPublic

router = APIRouter()


def get_hero(hero_id: int) -> Hero:
    raise NotImplementedError


@router.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: SessionDep, hero: HeroCreate):
    db_hero = Hero.model_validate(hero)
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero


@router.get("/heroes/{hero_id}", response_model=HeroPublic)
def read_hero(*, hero: Hero = Depends(get_hero)) -> Hero:
    # A dependency is not a request body, and the declared response_model wins.
    return hero


@router.get("/heroes/{hero_id}/raw", response_model=None)
def read_raw(*, hero: Hero = Depends(get_hero)) -> Hero:
    return hero


def not_an_endpoint(hero: Hero) -> Hero:
    return hero


# Adapted from dataelement/bisheng `0172fb2` (Apache-2.0), src/backend/bisheng/workstation:
# a dependency given through a module-level alias of `Depends(...)`.
HeroFromHeader = Depends(get_hero)


@router.get("/messages/{conversation_id}", response_model=list[HeroPublic])
async def get_chat_history(conversation_id: str, hero: Hero | None = HeroFromHeader):
    return []


# Adapted from EstrellaXD/Auto_Bangumi `bd6d35d` (MIT) and dataease/SQLBot `59ca097`
# (GPL-3.0): a table model as a body that the handler reads field by field, or uses to find
# a row by its id, sets no column the client chose.
@router.post("/rss/add")
def add_rss(*, session: SessionDep, rss: Hero):
    session.add(Hero(name=rss.name, secret_name=""))
    session.commit()
    return {"ok": True}


@router.post("/heroes/edit")
def edit_hero(*, session: SessionDep, hero: Hero):
    row = session.get(Hero, hero.id)
    if row is None:
        raise HTTPException(status_code=404)
    row.name = hero.name
    session.commit()
    return {"ok": True}
