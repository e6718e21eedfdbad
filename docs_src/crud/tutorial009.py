import json

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException
from sqlmodel import Field

from sqlmodel_production import Database, crud_router, install_error_handlers
from sqlmodel_production.api import WriteEvent
from sqlmodel_production.models import IntPK


class Invoice(IntPK, table=True):
    __tablename__ = "invoices"

    customer: str = Field(max_length=100)
    amount: int


class AuditEntry(IntPK, table=True):
    __tablename__ = "audit_log"

    action: str = Field(max_length=10)
    table_name: str = Field(max_length=50)
    row: str = Field(max_length=2000)


def audit(event: WriteEvent) -> None:
    if event.action == "create" and any(r["amount"] > 10_000 for r in event.rows):
        # Raised inside the write's transaction: the invoice is not kept either.
        raise HTTPException(status_code=422, detail="Amounts over 10,000 need approval")
    event.connection.execute(
        sa.insert(AuditEntry).values(
            [
                {
                    "action": event.action,
                    "table_name": event.table,
                    "row": json.dumps(row),
                }
                for row in event.rows
            ]
        )
    )


def create_app(database: Database, *, async_: bool = True) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(Invoice, prefix="/invoices", on_write=audit, async_=async_)
    )
    install_error_handlers(app)
    return app
