from typing import Optional

from sqlmodel import Field, SQLModel


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
