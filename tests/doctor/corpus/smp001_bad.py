from typing import Annotated

from fastapi import APIRouter, Body

from sqlmodel_production.models import IntPK, Timestamps

from .models import Hero, HeroPublic

router = APIRouter()


class Mission(IntPK, Timestamps, table=True):
    pass


@router.post("/heroes/", response_model=Hero)  # expect: SMP001
def create_hero(*, session: SessionDep, hero: HeroPublic):
    return hero


@router.get("/heroes/", response_model=list[Hero])  # expect: SMP001
def read_heroes(*, session: SessionDep):
    return []


@router.get("/heroes/first")
def first_hero(*, session: SessionDep) -> Hero | None:  # expect: SMP001
    return None


@router.put("/heroes/{hero_id}", response_model=HeroPublic)
def replace_hero(
    *,
    session: SessionDep,
    hero_id: int,
    hero: Annotated[Hero, Body()],  # expect: SMP001
):
    return session.merge(hero)


@router.post("/heroes/bulk", response_model=list[HeroPublic])
def create_heroes(*, session: SessionDep, heroes: list[Hero]):  # expect: SMP001
    save_all(session, heroes)
    return heroes


def save_all(session: Session, rows: list[Hero]) -> None:
    session.add_all(rows)
    session.commit()


@router.get("/missions/", response_model=list[Mission])  # expect: SMP001
def read_missions(*, session: SessionDep):
    return []
