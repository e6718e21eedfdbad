from fastapi import FastAPI, HTTPException
from sqlmodel import Field

from sqlmodel_production import Database, Repository, SessionDep
from sqlmodel_production.api import install_error_handlers
from sqlmodel_production.models import Versioned


class Account(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=100, unique=True)


accounts = Repository(Account, order_by=["email"])


def create_app(database: Database) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)

    @app.post("/accounts/")
    def create_account(session: SessionDep, email: str) -> dict[str, object]:
        row = accounts.create(session, {"email": email})  # a duplicate: 409
        session.commit()
        return row

    @app.get("/accounts/")
    def list_accounts(
        session: SessionDep, cursor: str | None = None
    ) -> list[dict[str, object]]:
        return accounts.list(session, cursor=cursor).rows  # a bad cursor: 422

    @app.patch("/accounts/{account_id}")
    def rename(
        session: SessionDep, account_id: int, email: str, version: int
    ) -> dict[str, object]:
        data = {"email": email}
        row = accounts.update(session, account_id, data, version=version)  # stale: 412
        if row is None:
            raise HTTPException(status_code=404, detail="Account not found")
        session.commit()
        return row

    install_error_handlers(app)
    return app
