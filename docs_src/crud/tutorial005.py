from fastapi import Depends, FastAPI, Header, HTTPException
from sqlmodel import Field

from sqlmodel_production import Database, RowScope, crud_router, install_error_handlers
from sqlmodel_production.models import IntPK, SoftDelete


class Loan(IntPK, SoftDelete, table=True):
    __tablename__ = "loans"

    owner_id: int = Field(index=True)
    title: str = Field(max_length=100)


async def current_owner(x_user: int = Header()) -> dict[str, int]:
    # In a real service: the signed-in user, from a token.
    return {"owner_id": x_user}


async def admin_only(x_role: str = Header(default="")) -> None:
    if x_role != "admin":
        raise HTTPException(status_code=403, detail="Admins only")


def create_app(database: Database, *, async_: bool = True) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(
            Loan,
            prefix="/loans",
            scope=RowScope(current_owner, "owner_id"),
            deleted_rows=[Depends(admin_only)],
            async_=async_,
        )
    )
    install_error_handlers(app)
    return app
