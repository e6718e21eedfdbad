from sqlmodel_production.models import (
    UUIDPK,
    ForeignKeyField,
    IntPK,
    SoftDelete,
    StringField,
    Timestamps,
    Versioned,
)


class Notebook(IntPK, Timestamps, table=True):
    __tablename__ = "notebooks"

    name: str = StringField(max_length=100, unique=True)


class Entry(UUIDPK, Timestamps, SoftDelete, Versioned, table=True):
    __tablename__ = "entries"

    title: str = StringField(max_length=200)
    notebook_id: int = ForeignKeyField("notebooks.id", ondelete="CASCADE")
