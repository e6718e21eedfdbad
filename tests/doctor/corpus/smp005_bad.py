from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel


class Mission(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    hero_id: int | None = Field(default=None, foreign_key="hero.id")  # expect: SMP005
    team_id: int = Field(sa_column=Column(Integer, ForeignKey("team.id")))  # expect: SMP005


class AuditBase(SQLModel):
    author_id: int = Field(foreign_key="hero.id")  # expect: SMP005


class Audit(AuditBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
