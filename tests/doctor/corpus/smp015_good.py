from typing import Annotated, ClassVar

from pydantic import StringConstraints
from sqlalchemy import Column, ForeignKey, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlmodel import Field, SQLModel

from sqlmodel_production.models import ForeignKeyField, IntPK, StringField, Timestamps


class MissionBase(SQLModel):
    name: str = Field(index=True, max_length=100)


class Mission(MissionBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    notes: str = Field(sa_type=Text)
    code: Annotated[str, StringConstraints(max_length=12)]
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    # Our field helpers always bound the length (255 unless told).
    callsign: str = StringField(max_length=100)
    nickname: str | None = StringField(default=None)
    # A foreign key's values are those of the key it references.
    country_code: str = ForeignKeyField("country.code")
    region: str = Field(sa_type=String(50))
    sector: str = Field(sa_column=Column(String(50), nullable=False))
    zone: str = Field(sa_type=String(length=10))
    summary: str = Field(sa_column=Column("summary", Text))


class Squad(IntPK, Timestamps, table=True):
    motto: str = StringField(max_length=200, index=True)
    base_code: str | None = ForeignKeyField("base.code", default=None)


class MissionCreate(MissionBase):
    briefing: str


class Outpost(SQLModel, table=True):
    # Not columns: the table's name, and a class variable.
    __tablename__: str = "outposts"
    kind: ClassVar[str] = "outpost"
    id: int | None = Field(default=None, primary_key=True)


DATABASE_URL = "mariadb+asyncmy://app@db/app"


class Base(DeclarativeBase):
    pass


class Crew(Base):
    __tablename__ = "crew"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    notes: Mapped[str] = mapped_column(Text)
    ship_code: Mapped[str] = mapped_column(ForeignKey("ship.code"))
    motto = Column(String(length=200), nullable=True)
