from typing import Annotated

from pydantic import StringConstraints
from sqlalchemy import Text
from sqlmodel import Field, SQLModel


class MissionBase(SQLModel):
    name: str = Field(index=True, max_length=100)


class Mission(MissionBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    notes: str = Field(sa_type=Text)
    code: Annotated[str, StringConstraints(max_length=12)]
    tags: list[str] = Field(default_factory=list, sa_type=JSON)


class MissionCreate(MissionBase):
    briefing: str
