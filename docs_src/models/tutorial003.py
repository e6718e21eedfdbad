from sqlmodel import update

from sqlmodel_production.models import (
    ForeignKeyField,
    IntPK,
    StringField,
    Timestamps,
    utcnow,
)


class DocSquad(IntPK, Timestamps, table=True):
    __tablename__ = "doc_squad"

    name: str = StringField(max_length=100, unique=True)


class DocRecruit(IntPK, table=True):
    __tablename__ = "doc_recruit"

    name: str = StringField(max_length=100)
    squad_id: int = ForeignKeyField("doc_squad.id", ondelete="CASCADE")
    mentor_id: int | None = ForeignKeyField(
        "doc_squad.id", default=None, ondelete="SET NULL"
    )


# The database clock in a Core statement, on every backend.
touch_squads = update(DocSquad).values(updated_at=utcnow())
