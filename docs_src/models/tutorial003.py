from sqlmodel import update

from sqlmodel_production.models import (
    ForeignKeyField,
    IntPK,
    StringField,
    Timestamps,
    utcnow,
)


class Squad(IntPK, Timestamps, table=True):
    __tablename__ = "squads"

    name: str = StringField(max_length=100, unique=True)


class Recruit(IntPK, table=True):
    __tablename__ = "recruits"

    name: str = StringField(max_length=100)
    squad_id: int = ForeignKeyField("squads.id", ondelete="CASCADE")
    mentor_id: int | None = ForeignKeyField(
        "squads.id", default=None, ondelete="SET NULL"
    )


# The database clock in a Core statement, on every backend.
touch_squads = update(Squad).values(updated_at=utcnow())
