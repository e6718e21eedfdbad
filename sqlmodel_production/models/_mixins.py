"""Column mixins: primary keys, database-set UTC timestamps, soft delete, optimistic locking.

Each mixin is a non-table `SQLModel`; combine them in the bases of a table model. Columns
are described with `sa_type=` and `sa_column_kwargs=`, never a shared `sa_column=`, so that
every table gets columns of its own.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel, col

from ._schemas import READ_ONLY
from ._types import UTCDateTime, utcnow

__all__ = ["IntPK", "SoftDelete", "Timestamps", "UUIDPK", "Versioned"]


class IntPK(SQLModel):
    """An auto-incremented integer primary key `id`, `None` until the row is inserted.

    Keys are never reused, on SQLite too (`AUTOINCREMENT`: without it SQLite gives
    the key of a deleted last row to the next insert, and an ETag or a link a
    client kept for the deleted row would name the new one). A model that sets
    `__table_args__` of its own keeps that by adding `{"sqlite_autoincrement": True}`.
    """

    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)


class UUIDPK(SQLModel):
    """A random UUID (version 4) primary key `id`, generated in Python before the insert."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)


class Timestamps(SQLModel):
    """`created_at` and `updated_at`, set by the database clock in UTC.

    `created_at` is the insert time (a server default); `updated_at` starts equal to
    it and is set again by every ORM `UPDATE` statement itself (`onupdate`), so no
    application clock is involved. Both read back as aware UTC datetimes on every
    backend. They are `None` on a new object until it is flushed and refreshed
    (`session.refresh(obj)` after commit; doctor rule SMP007).
    """

    created_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=UTCDateTime,
        sa_column_kwargs={"server_default": utcnow()},
    )
    updated_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=UTCDateTime,
        sa_column_kwargs={"server_default": utcnow(), "onupdate": utcnow()},
    )


class SoftDelete(SQLModel):
    """A nullable `deleted_at`: rows are marked deleted instead of removed.

    Example:
        ```python
        hero.soft_delete()
        session.add(hero)
        session.commit()
        live = session.exec(select(Hero).where(Hero.not_deleted())).all()
        ```
    """

    deleted_at: datetime | None = Field(
        default=None,
        sa_type=UTCDateTime,
        sa_column_kwargs={"info": {READ_ONLY: True}},
    )

    @property
    def is_deleted(self) -> bool:
        """Whether the row is marked deleted."""
        return self.deleted_at is not None

    def soft_delete(self, *, at: datetime | None = None) -> None:
        """Mark the row deleted, now (UTC) or `at`; the caller commits.

        The application clock is used, not the database's, so the value is known
        without another query (an async session cannot lazy-load it after commit).
        """
        self.deleted_at = at or datetime.now(UTC)

    def restore(self) -> None:
        """Clear the deletion mark; the caller commits."""
        self.deleted_at = None

    @classmethod
    def not_deleted(cls) -> sa.ColumnElement[bool]:
        """A `WHERE` criterion for rows not deleted: `select(Hero).where(Hero.not_deleted())`."""
        return col(cls.deleted_at).is_(None)

    @classmethod
    def only_deleted(cls) -> sa.ColumnElement[bool]:
        """A `WHERE` criterion for deleted rows (an admin's trash view)."""
        return col(cls.deleted_at).is_not(None)


class Versioned(SQLModel):
    """An integer `version` for optimistic locking, SQLAlchemy's `version_id_col`.

    The ORM sets it to 1 on insert, adds 1 on every update and adds
    `WHERE version = <the version it loaded>` to the `UPDATE`; when another writer
    got there first no row matches and the flush raises
    `sqlalchemy.orm.exc.StaleDataError`. Every other `UPDATE` of the table that
    does not set `version` itself (Core's `update(Note)`, an ORM bulk update, a
    soft delete or a restore) adds 1 too (`onupdate`), so an ETag always moves
    with the row. The mixin provides `__mapper_args__`: a table model that needs
    mapper arguments of its own must merge them, `{**Versioned.mapper_args(cls), ...}`.
    """

    version: int | None = Field(
        default=None,
        nullable=False,
        sa_column_kwargs={"onupdate": sa.literal_column("version") + 1},
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return Versioned.mapper_args(cls)

    @staticmethod
    def mapper_args(cls: Any) -> dict[str, Any]:
        """The mapper arguments that turn on versioning for the table model `cls`."""
        return {"version_id_col": cls.__table__.c.version}
