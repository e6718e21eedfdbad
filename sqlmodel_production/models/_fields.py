"""Field helpers that make the safe choice the default: indexed foreign keys, bounded strings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic_core import PydanticUndefined
from sqlmodel import Field

__all__ = ["DEFAULT_STRING_LENGTH", "ForeignKeyField", "StringField"]

DEFAULT_STRING_LENGTH = 255
"""`StringField`'s length when none is given: a `VARCHAR(255)` fits every backend's index limits."""

OnDelete = Literal["CASCADE", "SET NULL", "RESTRICT"]


def ForeignKeyField(
    foreign_key: str,
    *,
    default: Any = PydanticUndefined,
    ondelete: OnDelete | None = None,
    primary_key: bool = False,
    nullable: bool | None = None,
    unique: bool = False,
    title: str | None = None,
    description: str | None = None,
    sa_column_kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """A foreign-key column that is always indexed (doctor rule SMP005: index every foreign key).

    Args:
        foreign_key: the referenced column, `"table.column"`.
        default: the Python default; omit it to make the field required.
        ondelete: what the database does to this row when the referenced one is
            deleted. `"SET NULL"` needs a nullable column.
        primary_key: part of the primary key (a link table's columns).
        nullable: override the nullability derived from the annotation.
        unique: add a unique constraint (a one-to-one relationship).
        title: the JSON Schema title.
        description: the JSON Schema description.
        sa_column_kwargs: extra `sqlalchemy.Column` keyword arguments.

    Returns:
        A `FieldInfo`, to assign as the field's default.

    Example:
        ```python
        class Hero(SQLModel, table=True):
            team_id: int | None = ForeignKeyField("team.id", default=None, ondelete="SET NULL")
        ```
    """
    options: dict[str, Any] = {}
    if ondelete is not None:
        options["ondelete"] = ondelete
    if nullable is not None:
        options["nullable"] = nullable
    if sa_column_kwargs is not None:
        options["sa_column_kwargs"] = sa_column_kwargs
    return Field(
        default,
        foreign_key=foreign_key,
        index=True,
        primary_key=primary_key,
        unique=unique,
        title=title,
        description=description,
        **options,
    )


def StringField(
    *,
    default: Any = PydanticUndefined,
    max_length: int = DEFAULT_STRING_LENGTH,
    min_length: int | None = None,
    pattern: str | None = None,
    index: bool = False,
    unique: bool = False,
    nullable: bool | None = None,
    primary_key: bool = False,
    title: str | None = None,
    description: str | None = None,
    sa_column_kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """A string column of bounded length: `VARCHAR(max_length)` and a matching validation.

    MariaDB cannot create an unbounded `VARCHAR`, and an unbounded column lets one
    request store megabytes; the same bound is checked by pydantic (a 422) and by
    PostgreSQL and MariaDB (strict mode) for writes that skip validation.

    Args:
        default: the Python default; omit it to make the field required.
        max_length: the column length and the longest accepted value.
        min_length: the shortest accepted value (validation only).
        pattern: a regular expression the value must match (validation only).
        index: add an index.
        unique: add a unique constraint.
        nullable: override the nullability derived from the annotation.
        primary_key: make it (part of) the primary key.
        title: the JSON Schema title.
        description: the JSON Schema description.
        sa_column_kwargs: extra `sqlalchemy.Column` keyword arguments.

    Returns:
        A `FieldInfo`, to assign as the field's default.

    Raises:
        ValueError: `max_length` is not positive.

    Example:
        ```python
        class Hero(SQLModel, table=True):
            name: str = StringField(max_length=100, index=True)
            nickname: str | None = StringField(default=None)
        ```
    """
    if max_length < 1:
        raise ValueError(f"max_length must be positive, got {max_length}")
    options: dict[str, Any] = {}
    if nullable is not None:
        options["nullable"] = nullable
    if sa_column_kwargs is not None:
        options["sa_column_kwargs"] = sa_column_kwargs
    if pattern is not None:
        # SQLModel's own `regex=` is silently dropped under pydantic 2.
        options["schema_extra"] = {"pattern": pattern}
    return Field(
        default,
        max_length=max_length,
        min_length=min_length,
        index=index,
        unique=unique,
        primary_key=primary_key,
        title=title,
        description=description,
        **options,
    )
