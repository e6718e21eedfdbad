from fastapi import FastAPI, Header
from sqlmodel import Field

from sqlmodel_production import Database, RowStamp, crud_router, install_error_handlers
from sqlmodel_production.models import IntPK


class Task(IntPK, table=True):
    __tablename__ = "tasks"

    title: str = Field(max_length=100)
    created_by: int | None = None
    updated_by: int | None = None


async def user_id(x_user: int = Header()) -> int:  # your authentication here
    return x_user


stamp = RowStamp(
    user_id, on_create=["created_by", "updated_by"], on_update=["updated_by"]
)


def create_app(database: Database, *, async_: bool = True) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(crud_router(Task, prefix="/tasks", stamp=stamp, async_=async_))
    install_error_handlers(app)
    return app
