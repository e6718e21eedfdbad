from fastapi import FastAPI, HTTPException
from sqlalchemy.orm import selectinload

from docs_src.diagnostics.tutorial001 import DocMember, DocTeam
from sqlmodel_production import Database
from sqlmodel_production.api import AsyncSessionDep, install_error_handlers
from sqlmodel_production.diagnostics import (
    DiagnosticsMiddleware,
    health_router,
    log_slow_queries,
)
from sqlmodel_production.models import derive_schemas

DocMemberPublic = derive_schemas(DocMember).Public
DocTeamPublic = derive_schemas(
    DocTeam, public_extra={"members": (list[DocMemberPublic], [])}
).Public


def create_app(database: Database) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.add_middleware(DiagnosticsMiddleware, server_timing=True, n_plus_one="log")
    app.include_router(health_router(database))
    install_error_handlers(app)
    log_slow_queries(database.async_engine, threshold=0.5)

    @app.get("/teams/{team_id}", response_model=DocTeamPublic)
    async def read_team(session: AsyncSessionDep, team_id: int) -> DocTeam:
        team = await session.get(
            DocTeam, team_id, options=[selectinload(DocTeam.members)]
        )
        if team is None:
            raise HTTPException(status_code=404, detail="Team not found")
        return team

    return app
