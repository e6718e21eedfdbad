from typing import Annotated

from fastapi import Query

from .models import Hero, HeroPublic

MAX_PAGE = 100


@app.get("/heroes/", response_model=list[HeroPublic])
def read_heroes(
    *,
    session: SessionDep,
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=100, ge=1, le=100),
):
    return session.exec(select(Hero).offset(offset).limit(limit)).all()


@app.get("/teams/")
def read_teams(
    *,
    session: SessionDep,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(gt=0, le=MAX_PAGE)] = 10,
):
    return []


def helper(limit: int = 10, offset: int = 0) -> list[int]:
    return list(range(offset, offset + limit))
