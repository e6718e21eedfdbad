# Origin: mnaimfaizy/fastapi_rbac, backend/app/models/{user_model,role_group_model}.py,
# backend/app/schemas/{user_schema,token_schema}.py, backend/app/api/v1/endpoints/role_group.py,
# backend/app/backend_pre_start.py, backend/app/worker.py, backend/app/db/session.py
# at 990b9d1f12c04ac0e45947e6283564de9e8e68a9. Licence: MIT. Reduced and merged.
from datetime import datetime
from typing import List
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import backref
from sqlmodel import Field, Relationship, SQLModel

from .deps import get_async_session, settings

router = APIRouter()
engine = create_async_engine(  # expect: SMP004
    str(settings.ASYNC_DATABASE_URI), pool_size=20, max_overflow=64
)


class UserBase(SQLModel):
    email: str = Field(max_length=255, index=True)
    # A flag about the password, not the password (quiet).
    needs_to_change_password: bool = True
    last_changed_password_date: datetime | None = None
    password_version: int = Field(default=1)


class User(UserBase, table=True):
    id: UUID = Field(primary_key=True)
    password: str = Field(max_length=255)


class IUserRead(UserBase):
    id: UUID


# The token endpoint's answer (quiet).
class TokenRead(BaseModel):
    access_token: str
    token_type: str


class RoleGroup(SQLModel, table=True):
    id: UUID = Field(primary_key=True)
    name: str = Field(max_length=100)
    parent_id: UUID | None = Field(default=None, foreign_key="RoleGroup.id", index=True)
    # `dict(...)` options: eager (no MissingGreenlet below), but the backref is hidden.
    children: List["RoleGroup"] = Relationship(
        sa_relationship_kwargs=dict(
            lazy="selectin",
            cascade="all",
            backref=backref("parent", remote_side="RoleGroup.id"),  # expect: SMP006
        )
    )


@router.get("/role-groups/{group_id}")
async def get_role_group(group_id: UUID, db: AsyncSession) -> dict[str, object]:
    role_group = await db.get(RoleGroup, group_id)
    if role_group is None:
        return {}
    return {"children": [child.id for child in role_group.children]}


def check_database(database_uri: str) -> None:
    # A start-up probe: the engine lives for one call, no connection goes stale (quiet).
    engine = create_engine(database_uri)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def log_security_event() -> None:
    # The loop takes one session and leaves after its commit (quiet).
    async for db_session in get_async_session():
        await db_session.commit()
        break
