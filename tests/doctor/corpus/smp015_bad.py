from typing import Optional

from sqlalchemy import Column, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlmodel import Field, SQLModel

from app.db import AuditedBase
from sqlmodel_production.models import IntPK, Timestamps


class Mission(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)  # expect: SMP015
    code: str  # expect: SMP015
    notes: Optional[str] = None  # expect: SMP015
    role: str | None = Field(default="member")  # expect: SMP015


class LabelBase(SQLModel):
    label: "str"  # expect: SMP015


class Label(LabelBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


# Table models whose bases are only mixins: `table=True` decides, not the bases.
class Squad(IntPK, Timestamps, table=True):
    motto: str  # expect: SMP015
    leader: str | None = Field(default=None)  # expect: SMP015


class Ship(AuditedBase, table=True):
    name: str = Field(index=True)  # expect: SMP015


class Beacon(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # A string type without a length; an explicit `sa_type` is used as it is, so
    # `max_length` bounds only the validation, not the column.
    label: str = Field(sa_type=String)  # expect: SMP015
    signal: str = Field(max_length=20, sa_type=String())  # expect: SMP015
    station: str = Field(sa_column=Column(String, nullable=False))  # expect: SMP015


# SQLAlchemy declarative columns, on a project that names MariaDB.
DATABASE_URL = "mariadb+asyncmy://app@db/app"


class Base(DeclarativeBase):
    pass


class Crew(Base):
    __tablename__ = "crew"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column()  # expect: SMP015
    call_sign: Mapped[str | None] = mapped_column(String)  # expect: SMP015
    motto = Column(String, nullable=True)  # expect: SMP015
