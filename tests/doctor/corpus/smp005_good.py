from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlmodel import Field, SQLModel

from sqlmodel_production.models import ForeignKeyField, IntPK, Timestamps


class Mission(SQLModel, table=True):
    __table_args__ = (Index("ix_mission_team_hero", "team_id", "hero_id"),)

    id: int | None = Field(default=None, primary_key=True)
    hero_id: int | None = Field(default=None, foreign_key="hero.id", index=True)
    team_id: int = Field(foreign_key="team.id")
    owner_id: int = Field(sa_column=Column(Integer, ForeignKey("hero.id"), index=True))
    code_id: int = Field(foreign_key="code.id", unique=True)


class HeroMissionLink(SQLModel, table=True):
    hero_id: int = Field(foreign_key="hero.id", primary_key=True)
    mission_id: int = Field(foreign_key="mission.id", primary_key=True)


class MissionCreate(SQLModel):
    hero_id: int


class Patrol(IntPK, Timestamps, table=True):
    # `ForeignKeyField` always sets `index=True`.
    hero_id: int = ForeignKeyField("hero.id", ondelete="CASCADE")
    team_id: int | None = ForeignKeyField("team.id", default=None)
    leader_id: int = Field(foreign_key="hero.id", index=True)


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (Index("ix_ticket_team", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hero_id: Mapped[int] = mapped_column(ForeignKey("hero.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))


# Adapted from PrefectHQ/prefect `ce79dd3` (Apache-2.0), src/prefect/server/database/orm_models.py:
# the index comes from a `@declared_attr` method and names its columns through `cls`.
class FlowRunState(Base):
    __tablename__ = "flow_run_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_run_id: Mapped[int] = mapped_column(ForeignKey("flow_run.id", ondelete="cascade"))

    @declared_attr.directive
    @classmethod
    def __table_args__(cls):
        return (
            Index(
                "uq_flow_run_state__flow_run_id_timestamp_desc",
                cls.flow_run_id,
                cls.id.desc(),
                unique=True,
            ),
        )


# learnhouse's pattern: a base declares the key, and its table declares the column anew
# (with its own index), so the base's declaration never reaches the database.
class CertificateUserBase(SQLModel):
    user_id: int = Field(foreign_key="hero.id")


class CertificateUser(CertificateUserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("hero.id", ondelete="CASCADE"), index=True)
    )
