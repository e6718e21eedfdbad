"""The constraint naming convention that `SQLModel.metadata` carries once the package is imported."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

__all__ = ["NAMING_CONVENTION", "use_naming_convention"]

#: Constraint names that are the same on every database, so a migration written on one
#: can drop or alter a constraint on another. Indexes keep SQLAlchemy's default names.
#: Check constraints are left out: their convention needs a name of their own, and an
#: unnamed `CheckConstraint` would then fail when its table is defined; name them yourself.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def use_naming_convention(metadata: sa.MetaData) -> None:
    """Give `metadata` the package's `NAMING_CONVENTION`, unless it has a convention of its own.

    Importing `sqlmodel_production` calls it on `SQLModel.metadata`. A convention
    applies to the constraints of tables defined after it is set, so to keep the
    names the databases chose (a schema that exists without the convention), set
    SQLAlchemy's default back before the table models are defined:
    `SQLModel.metadata.naming_convention = {"ix": "ix_%(column_0_label)s"}`.
    """
    if dict(metadata.naming_convention) == dict(sa.MetaData().naming_convention):
        metadata.naming_convention = dict(NAMING_CONVENTION)


# Before any table model of the application is defined: they all import the package.
use_naming_convention(SQLModel.metadata)
