from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header
from sqlmodel import Field, text

from sqlmodel_production import (
    Database,
    RowScope,
    SessionDep,
    crud_router,
    install_error_handlers,
)
from sqlmodel_production.models import IntPK


class Contract(IntPK, table=True):
    __tablename__ = "contracts"

    org_id: int = Field(index=True)
    title: str = Field(max_length=100)


async def current_org(x_org: int = Header()) -> dict[str, int]:
    # In a real service: the signed-in user's organisation, from a token.
    return {"org_id": x_org}


org_scope = RowScope(current_org, "org_id", database_settings={"org_id": "app.org_id"})
OrgInDatabase = Annotated[Mapping[str, Any], Depends(org_scope.in_database)]


def create_app(database: Database, *, async_: bool = True) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(Contract, prefix="/contracts", scope=org_scope, async_=async_)
    )
    install_error_handlers(app)

    @app.get("/reports/contracts")
    def contract_report(session: SessionDep, org: OrgInDatabase) -> dict[str, int]:
        # No WHERE org_id: the database's policy keeps the rows of the request's org.
        count = session.exec(text("SELECT count(*) FROM contracts")).scalar_one()
        return {"org_id": org["org_id"], "contracts": count}

    return app
