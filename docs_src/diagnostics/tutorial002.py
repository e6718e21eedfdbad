from fastapi import FastAPI, HTTPException
from sqlalchemy.orm import selectinload

from docs_src.diagnostics.tutorial001 import Club, Member
from sqlmodel_production import Database
from sqlmodel_production.api import AsyncSessionDep, install_error_handlers
from sqlmodel_production.diagnostics import (
    DiagnosticsMiddleware,
    health_router,
    log_slow_queries,
)
from sqlmodel_production.models import derive_schemas

MemberPublic = derive_schemas(Member).Public
ClubPublic = derive_schemas(
    Club, public_extra={"members": (list[MemberPublic], [])}
).Public


def create_app(database: Database) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.add_middleware(DiagnosticsMiddleware, server_timing=True, n_plus_one="log")
    app.include_router(health_router(database))
    install_error_handlers(app)
    log_slow_queries(database.async_engine, threshold=0.5)

    @app.get("/teams/{team_id}", response_model=ClubPublic)
    async def read_team(session: AsyncSessionDep, team_id: int) -> Club:
        team = await session.get(
            Club, team_id, options=[selectinload(Club.members)]
        )
        if team is None:
            raise HTTPException(status_code=404, detail="Team not found")
        return team

    return app
