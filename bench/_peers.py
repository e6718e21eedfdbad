"""The peers: other libraries' generated routes on the same tables, for `uvicorn --factory`.

Each is set up as its own documentation shows, on the reference service's
`Hero` and `Team` tables, with asyncpg and a pool of the size our `Database`
uses. Where a peer's answer differs from ours, it is lighter than ours (no team
in a hero's read, for instance); `docs/performance.md` lists the differences.

Install them with `pip install --group bench` (`make bench-main` does). No
`from __future__ import annotations` here: FastAPI reads the routes' annotations,
which name types local to the factories.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from starlette.types import ASGIApp, Receive, Scope, Send

from sqlmodel_production.db import async_url
from sqlmodel_production.demo.models import (
    Hero,
    HeroCreate,
    HeroPublic,
    HeroUpdate,
)

__all__ = ["advanced_alchemy", "fastcrud"]

POOL = {"pool_size": 10, "max_overflow": 10}


def _url() -> str:
    return async_url(os.environ["DATABASE_URL"])


class _NoTrailingSlash:
    """`/heroes/` served as `/heroes`: FastCRUD's collection paths have no trailing slash.

    Without it, FastAPI answers the benchmark's `/heroes/` with a redirect.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/heroes/":
            scope = {**scope, "path": "/heroes", "raw_path": b"/heroes"}
        await self.app(scope, receive, send)


def fastcrud() -> FastAPI:
    """FastCRUD's `crud_router` on `Hero`, as its README shows (async session dependency)."""
    from fastcrud import crud_router

    engine = create_async_engine(_url(), **POOL)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def get_session() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(
        crud_router(
            session=get_session,
            model=Hero,
            create_schema=HeroCreate,
            update_schema=HeroUpdate,
            select_schema=HeroPublic,
            path="/heroes",
            tags=["heroes"],
        )
    )
    app.add_middleware(_NoTrailingSlash)
    return app


def advanced_alchemy() -> FastAPI:
    """Advanced Alchemy's repository and service behind FastAPI routes, as its FastAPI guide shows."""
    from advanced_alchemy.extensions.fastapi import (
        AdvancedAlchemy,
        AsyncSessionConfig,
        SQLAlchemyAsyncConfig,
        filters,
        repository,
        service,
    )

    class HeroService(service.SQLAlchemyAsyncRepositoryService[Hero]):
        class Repo(repository.SQLAlchemyAsyncRepository[Hero]):
            model_type = Hero

        repository_type = Repo

    app = FastAPI()
    config = SQLAlchemyAsyncConfig(
        connection_string=_url(),
        session_config=AsyncSessionConfig(expire_on_commit=False),
        commit_mode="autocommit",
        engine_config=_engine_config(POOL),
    )
    alchemy = AdvancedAlchemy(config=config, app=app)
    Heroes = Annotated[HeroService, Depends(alchemy.provide_service(HeroService))]
    router = APIRouter(prefix="/heroes", tags=["heroes"])

    @router.get("/")
    async def list_heroes(
        heroes: Heroes,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 100,
    ) -> list[HeroPublic]:
        page = filters.LimitOffset(limit=limit, offset=offset)
        rows = await heroes.get_many(page, filters.OrderBy(field_name="id"))
        return heroes.to_schema(rows, schema_type=HeroPublic).items

    @router.get("/{hero_id}")
    async def get_hero(heroes: Heroes, hero_id: int) -> HeroPublic:
        return heroes.to_schema(await heroes.get(hero_id), schema_type=HeroPublic)

    @router.post("/")
    async def create_hero(heroes: Heroes, data: HeroCreate) -> HeroPublic:
        row = await heroes.create(data.model_dump())
        return heroes.to_schema(row, schema_type=HeroPublic)

    @router.patch("/{hero_id}")
    async def update_hero(heroes: Heroes, hero_id: int, data: HeroUpdate) -> HeroPublic:
        # `update(dict, item_id=...)` builds a `Hero` from the dict, whose unset
        # columns (id, team_id) SQLModel fills with None, and writes them all
        # (Advanced Alchemy 1.12): read the row and change it instead.
        row = await heroes.get(hero_id)
        for name, value in data.model_dump(exclude_unset=True).items():
            setattr(row, name, value)
        row = await heroes.update(row)
        return heroes.to_schema(row, schema_type=HeroPublic)

    app.include_router(router)
    return app


def _engine_config(pool: dict[str, Any]) -> Any:
    from advanced_alchemy.extensions.fastapi import EngineConfig

    return EngineConfig(**pool)
