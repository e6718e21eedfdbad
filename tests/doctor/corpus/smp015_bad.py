from typing import Optional

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
