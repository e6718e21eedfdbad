from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header
from sqlmodel import Field

from sqlmodel_production import (
    AsyncSessionDep,
    Database,
    RowScope,
    crud_router,
    install_error_handlers,
)
from sqlmodel_production.crud import AsyncRepository, Repository
from sqlmodel_production.models import IntPK, derive_schemas


class Memo(IntPK, table=True):
    __tablename__ = "memos"

    owner_id: int = Field(index=True)
    text: str = Field(max_length=200)


async def current_owner(x_user: int = Header()) -> dict[str, int]:
    return {"owner_id": x_user}


Owner = Annotated[dict[str, int], Depends(current_owner)]

# The very schemas the router uses: the scoped column is read-only.
MemoCreate, MemoPublic, MemoUpdate = derive_schemas(Memo, read_only=["owner_id"])
memos = AsyncRepository(Repository(Memo, public=MemoPublic))


def create_app(database: Database) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(Memo, prefix="/memos", scope=RowScope(current_owner, "owner_id"))
    )

    @app.post("/memos/import", max_body_size=64 * 1024, response_model=list[MemoPublic])
    async def import_memos(
        rows: list[MemoCreate], session: AsyncSessionDep, owner: Owner
    ) -> Any:
        created = await memos.create_many(session, rows, scope=owner)
        await session.commit()
        return created

    install_error_handlers(app)
    return app
