"""The reference endpoints, written by hand in the style of SQLModel's FastAPI tutorial (async source).

`../_sync/routes.py` is generated from this file by `scripts/gen_sync.py`:
edit this one and run `python scripts/gen_sync.py`.
"""

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy.orm import selectinload
from sqlmodel import select

from sqlmodel_production.api import AsyncSessionDep
from sqlmodel_production.demo.models import (
    Hero,
    HeroCreate,
    HeroMissionLink,
    HeroMissionLinkPublic,
    HeroPublic,
    HeroPublicWithTeam,
    HeroUpdate,
    HeroWithRole,
    Mission,
    MissionCreate,
    MissionPublic,
    MissionPublicWithHeroes,
    MissionUpdate,
    MissionWithRole,
    RoleUpdate,
    Team,
    TeamCreate,
    TeamPublic,
    TeamPublicWithHeroes,
    TeamUpdate,
)

router = APIRouter()

# --- Heroes ----------------------------------------------------------------------------


@router.post("/heroes/", response_model=HeroPublic, tags=["heroes"])
async def create_hero(*, session: AsyncSessionDep, hero: HeroCreate):
    db_hero = Hero.model_validate(hero)
    session.add(db_hero)
    await session.commit()
    await session.refresh(db_hero)
    return db_hero


@router.get("/heroes/", response_model=list[HeroPublic], tags=["heroes"])
async def read_heroes(
    *,
    session: AsyncSessionDep,
    offset: int = Query(default=0, ge=0, le=2_147_483_647),
    limit: int = Query(default=100, ge=1, le=100),
):
    result = await session.exec(
        select(Hero).order_by(Hero.id).offset(offset).limit(limit)
    )
    return result.all()


@router.get("/heroes/{hero_id}", response_model=HeroPublicWithTeam, tags=["heroes"])
async def read_hero(*, session: AsyncSessionDep, hero_id: int):
    hero = await session.get(Hero, hero_id, options=[selectinload(Hero.team)])
    if not hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero


@router.patch("/heroes/{hero_id}", response_model=HeroPublic, tags=["heroes"])
async def update_hero(*, session: AsyncSessionDep, hero_id: int, hero: HeroUpdate):
    db_hero = await session.get(Hero, hero_id)
    if not db_hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    hero_data = hero.model_dump(exclude_unset=True)
    db_hero.sqlmodel_update(hero_data)
    session.add(db_hero)
    await session.commit()
    await session.refresh(db_hero)
    return db_hero


@router.delete("/heroes/{hero_id}", tags=["heroes"])
async def delete_hero(*, session: AsyncSessionDep, hero_id: int):
    hero = await session.get(Hero, hero_id)
    if not hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    await session.delete(hero)
    await session.commit()
    return {"ok": True}


@router.get(
    "/heroes/{hero_id}/missions", response_model=list[MissionWithRole], tags=["heroes"]
)
async def read_hero_missions(*, session: AsyncSessionDep, hero_id: int):
    hero = await session.get(Hero, hero_id)
    if not hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    statement = (
        select(Mission, HeroMissionLink.role)
        .join(HeroMissionLink)
        .where(HeroMissionLink.hero_id == hero_id)
        .order_by(Mission.id)
    )
    result = await session.exec(statement)
    return [
        MissionWithRole(id=mission.id, name=mission.name, role=role)
        for mission, role in result.all()
    ]


# --- Teams -----------------------------------------------------------------------------


@router.post("/teams/", response_model=TeamPublic, tags=["teams"])
async def create_team(*, session: AsyncSessionDep, team: TeamCreate):
    db_team = Team.model_validate(team)
    session.add(db_team)
    await session.commit()
    await session.refresh(db_team)
    return db_team


@router.get("/teams/", response_model=list[TeamPublic], tags=["teams"])
async def read_teams(
    *,
    session: AsyncSessionDep,
    offset: int = Query(default=0, ge=0, le=2_147_483_647),
    limit: int = Query(default=100, ge=1, le=100),
):
    result = await session.exec(
        select(Team).order_by(Team.id).offset(offset).limit(limit)
    )
    return result.all()


@router.get("/teams/{team_id}", response_model=TeamPublicWithHeroes, tags=["teams"])
async def read_team(*, session: AsyncSessionDep, team_id: int):
    team = await session.get(Team, team_id, options=[selectinload(Team.heroes)])
    if not team:
        raise HTTPException(status_code=404, detail="Team not found")
    return team


@router.patch("/teams/{team_id}", response_model=TeamPublic, tags=["teams"])
async def update_team(*, session: AsyncSessionDep, team_id: int, team: TeamUpdate):
    db_team = await session.get(Team, team_id)
    if not db_team:
        raise HTTPException(status_code=404, detail="Team not found")
    team_data = team.model_dump(exclude_unset=True)
    db_team.sqlmodel_update(team_data)
    session.add(db_team)
    await session.commit()
    await session.refresh(db_team)
    return db_team


@router.delete("/teams/{team_id}", tags=["teams"])
async def delete_team(*, session: AsyncSessionDep, team_id: int):
    team = await session.get(Team, team_id)
    if not team:
        raise HTTPException(status_code=404, detail="Team not found")
    await session.delete(team)
    await session.commit()
    return {"ok": True}


# --- Missions --------------------------------------------------------------------------


@router.post("/missions/", response_model=MissionPublic, tags=["missions"])
async def create_mission(*, session: AsyncSessionDep, mission: MissionCreate):
    db_mission = Mission.model_validate(mission)
    session.add(db_mission)
    await session.commit()
    await session.refresh(db_mission)
    return db_mission


@router.get("/missions/", response_model=list[MissionPublic], tags=["missions"])
async def read_missions(
    *,
    session: AsyncSessionDep,
    offset: int = Query(default=0, ge=0, le=2_147_483_647),
    limit: int = Query(default=100, ge=1, le=100),
):
    result = await session.exec(
        select(Mission).order_by(Mission.id).offset(offset).limit(limit)
    )
    return result.all()


@router.get(
    "/missions/{mission_id}", response_model=MissionPublicWithHeroes, tags=["missions"]
)
async def read_mission(*, session: AsyncSessionDep, mission_id: int):
    loader = selectinload(Mission.hero_links).selectinload(HeroMissionLink.hero)
    mission = await session.get(Mission, mission_id, options=[loader])
    if not mission:
        raise HTTPException(status_code=404, detail="Mission not found")
    links = sorted(mission.hero_links, key=lambda link: link.hero_id)
    heroes = [
        HeroWithRole.model_validate(link.hero, update={"role": link.role})
        for link in links
    ]
    return MissionPublicWithHeroes(id=mission.id, name=mission.name, heroes=heroes)


@router.patch("/missions/{mission_id}", response_model=MissionPublic, tags=["missions"])
async def update_mission(
    *, session: AsyncSessionDep, mission_id: int, mission: MissionUpdate
):
    db_mission = await session.get(Mission, mission_id)
    if not db_mission:
        raise HTTPException(status_code=404, detail="Mission not found")
    mission_data = mission.model_dump(exclude_unset=True)
    db_mission.sqlmodel_update(mission_data)
    session.add(db_mission)
    await session.commit()
    await session.refresh(db_mission)
    return db_mission


@router.delete("/missions/{mission_id}", tags=["missions"])
async def delete_mission(*, session: AsyncSessionDep, mission_id: int):
    mission = await session.get(Mission, mission_id)
    if not mission:
        raise HTTPException(status_code=404, detail="Mission not found")
    await session.delete(mission)
    await session.commit()
    return {"ok": True}


@router.put(
    "/missions/{mission_id}/heroes/{hero_id}",
    response_model=HeroMissionLinkPublic,
    tags=["missions"],
)
async def link_hero(
    *, session: AsyncSessionDep, mission_id: int, hero_id: int, link: RoleUpdate
):
    if not await session.get(Mission, mission_id):
        raise HTTPException(status_code=404, detail="Mission not found")
    if not await session.get(Hero, hero_id):
        raise HTTPException(status_code=404, detail="Hero not found")
    db_link = await session.get(
        HeroMissionLink, {"hero_id": hero_id, "mission_id": mission_id}
    )
    if db_link:
        db_link.role = link.role  # PUT replaces the link's data
    else:
        db_link = HeroMissionLink.model_validate(
            link, update={"hero_id": hero_id, "mission_id": mission_id}
        )
    session.add(db_link)
    await session.commit()
    await session.refresh(db_link)
    return db_link


@router.delete("/missions/{mission_id}/heroes/{hero_id}", tags=["missions"])
async def unlink_hero(*, session: AsyncSessionDep, mission_id: int, hero_id: int):
    db_link = await session.get(
        HeroMissionLink, {"hero_id": hero_id, "mission_id": mission_id}
    )
    if not db_link:
        raise HTTPException(
            status_code=404, detail="Hero is not linked to this mission"
        )
    await session.delete(db_link)
    await session.commit()
    return {"ok": True}
