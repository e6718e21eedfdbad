# Origin: joaoflaviosantos/fastapi-async-sqlmodel-boilerplate, backend/src/core/db/session.py,
# backend/src/core/common/repository.py, backend/src/apps/system/tasks/{models,schemas}.py,
# backend/src/apps/system/auth/{models,schemas}.py
# at 3bbc66a15be5223d178d17d2bbff2e2506479585. Licence: MIT. Reduced and merged.
from typing import Optional

from pydantic import BaseModel
from sqlalchemy import Column, Integer, Sequence, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Field, SQLModel

from .settings import DATABASE_API_SESSION_URI

async_engine = create_async_engine(  # expect: SMP004
    DATABASE_API_SESSION_URI, pool_size=20, max_overflow=10, pool_recycle=3600
)
# Objects keep their values on commit ...
_api_session_factory = sessionmaker(
    bind=async_engine, class_=AsyncSession, expire_on_commit=False
)
task_id_sequence = Sequence("task_id_sequence")


class Task(SQLModel, table=True):
    # ... and the database fills in no column but the key, which the INSERT returns.
    id: int = Field(
        sa_column=Column(
            Integer,
            task_id_sequence,
            primary_key=True,
            server_default=task_id_sequence.next_value(),
        )
    )
    status: str = Field(default="PENDING", max_length=50)
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})
    traceback: Optional[str] = Field(nullable=True)  # quiet: the project names no MariaDB or MySQL (SMP015)


class TokenBlacklist(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(index=True, nullable=False, default=None)  # quiet: the project names no MariaDB or MySQL (SMP015)


# The login's answer (quiet).
class Token(BaseModel):
    access_token: str
    token_type: str


class BaseRepository:
    async def create(self, db: AsyncSession, object: BaseModel) -> Task:
        # Nothing to refresh: every value is already on the object (quiet).
        db_object = Task(**object.model_dump())
        db.add(db_object)
        await db.commit()
        return db_object
