from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlmodel import Field, SQLModel

from app.db import AuditedBase
from sqlmodel_production.models import IntPK, Timestamps


class Mission(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    hero_id: int | None = Field(default=None, foreign_key="hero.id")  # expect: SMP005
    team_id: int = Field(sa_column=Column(Integer, ForeignKey("team.id")))  # expect: SMP005


class AuditBase(SQLModel):
    author_id: int = Field(foreign_key="hero.id")  # expect: SMP005


class Audit(AuditBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


# Table models whose bases are only mixins: `table=True` decides, not the bases.
class Patrol(IntPK, Timestamps, table=True):
    hero_id: int = Field(foreign_key="hero.id")  # expect: SMP005


class Escort(AuditedBase, table=True):
    team_id: int | None = Field(default=None, foreign_key="team.id")  # expect: SMP005


# SQLAlchemy 2.0 declarative classes are read too.
class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    hero_id: Mapped[int] = mapped_column(ForeignKey("hero.id"))  # expect: SMP005
    team_id = Column(Integer, ForeignKey("team.id"), nullable=False)  # expect: SMP005


class ActivityVersionBase(SQLModel):
    created_by_id: int | None = Field(default=None, foreign_key="hero.id")  # expect: SMP005


class ActivityVersion(ActivityVersionBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
