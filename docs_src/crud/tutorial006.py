from fastapi import FastAPI, Header
from sqlmodel import Field

from sqlmodel_production import (
    Conventions,
    Database,
    RowScope,
    crud_router,
    install_error_handlers,
)
from sqlmodel_production.models import IntPK


class TemplateItem(IntPK, table=True):
    __tablename__ = "template_item"

    owner_id: int = Field(index=True)
    title: str = Field(max_length=255)
    description: str | None = Field(default=None, max_length=255)


# The shapes of FastAPI's full-stack template, for every router of the app.
TEMPLATE = Conventions(
    list_envelope=("data", "count"),
    update_methods=("PUT",),
    deleted_body={"message": "Item deleted successfully"},
    id_name="id",
    offset_name="skip",
    outside_scope=403,
)


async def current_owner(x_user: int = Header()) -> dict[str, int]:
    return {"owner_id": x_user}


def create_app(database: Database, *, async_: bool = True) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(
            TemplateItem,
            prefix="/items",
            name="Item",
            scope=RowScope(current_owner, "owner_id"),
            conventions=TEMPLATE,
            async_=async_,
        )
    )
    install_error_handlers(app)
    return app
