from typing import Annotated

from fastapi import Body, Depends, HTTPException, Query

from .models import Hero, HeroPublic


@app.get("/heroes/", response_model=list[HeroPublic])
def read_heroes(
    *,
    session: SessionDep,
    offset: int = 0,  # expect: SMP012
    limit: int = 100,  # expect: SMP012
):
    return session.exec(select(Hero).offset(offset).limit(limit)).all()


@app.get("/teams/")
def read_teams(
    *,
    session: SessionDep,
    skip: Annotated[int, Query()] = 0,  # expect: SMP012
    limit: Annotated[int, Query(le=100)] = 100,  # expect: SMP012
    page_size: int = Query(default=10, ge=-5, le=50),  # expect: SMP012
):
    first = session.exec(select(Hero).offset(skip).limit(limit)).all()
    return first + session.exec(select(Hero).limit(page_size)).all()


@router.post("/runs/filter")
async def filter_runs(
    limit: int = Body(1000, le=1000),  # expect: SMP012
    offset: int = Body(0),  # expect: SMP012
):
    return session.exec(select(Hero).offset(offset).limit(limit)).all()


def list_heroes(session: Session, offset: int, limit: int) -> list[Hero]:
    return session.exec(select(Hero).offset(offset).limit(limit)).all()


# Adapted from MODSetter/SurfSense `b4d57e9` (Apache-2.0): the clamp bounds the limit from
# above only; a negative one still reaches LIMIT.
@router.get("/purchases")
def purchases(
    session: SessionDep,
    offset: int = 0,  # expect: SMP012
    limit: int = 50,  # expect: SMP012
):
    limit = min(limit, 100)
    return list_heroes(session, offset, limit=limit)


def offset(count: int) -> bool:
    # A project function that shares a name with a statement's paging method.
    return count > 0


@router.get("/villains")
def villains(session: SessionDep, offset: int = 0):  # expect: SMP012
    return session.exec(select(Hero).offset(offset)).all()


@router.get("/clamped-above-only")
async def clamped_above_only(session: SessionDep, limit: int = 100):  # expect: SMP012
    return session.exec(select(Hero).limit(min(limit, 500))).all()


@router.get("/clamped-once")
async def clamped_once(session: SessionDep, limit: int = 100):  # expect: SMP012
    first = session.exec(select(Hero).limit(max(1, min(limit, 500)))).all()
    return first + session.exec(select(Hero).limit(limit)).all()


def compute_pending(session, limit: int = 100, offset: int = 0) -> list[Hero]:
    limit = min(limit, 1000)
    return session.exec(select(Hero).offset(offset).limit(limit)).all()


@router.get("/pending")
async def get_pending(session: SessionDep, limit: int = 100, offset: int = 0):  # expect: SMP012
    return compute_pending(session, limit=limit, offset=offset)
