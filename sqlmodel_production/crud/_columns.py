"""Columns of table models: their mapper, their Python types, whether they hold aware datetimes."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

import sqlalchemy as sa
from sqlmodel import SQLModel

__all__ = [
    "column_python_type",
    "is_aware_column",
    "model_column",
    "model_mapper",
    "value_type",
]


def model_mapper(model: type[SQLModel]) -> sa.orm.Mapper[Any]:
    """The mapper of a table model.

    Raises:
        TypeError: `model` is not a table model.
    """
    mapper = sa.inspect(model, raiseerr=False)
    if not isinstance(mapper, sa.orm.Mapper):
        raise TypeError(
            f"{model.__name__} is not a table model (declare it with table=True)"
        )
    return mapper


def model_column(model: type[SQLModel], field: str) -> sa.Column[Any]:
    """The table column mapped to a model field.

    Raises:
        TypeError: `model` is not a table model.
        ValueError: `field` is not one of its columns.
    """
    mapper = model_mapper(model)
    column = mapper.columns.get(field)
    if not isinstance(column, sa.Column):
        known = ", ".join(
            key for key, c in mapper.columns.items() if isinstance(c, sa.Column)
        )
        raise ValueError(
            f"{model.__name__} has no column {field!r}; its columns: {known}"
        )
    return column


def value_type(model: type[SQLModel], field: str, column: sa.Column[Any]) -> type[Any]:
    """The Python type of the field's values: its annotation without `None`, else the column's.

    Raises:
        ValueError: neither says (a column type without a Python type).
    """
    info = model.model_fields.get(field)
    annotation: Any = info.annotation if info is not None else None
    if get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = args[0] if len(args) == 1 else None
    if isinstance(annotation, type):
        return annotation
    python_type = column_python_type(column)
    if python_type is None:
        raise ValueError(
            f"cannot filter on {model.__name__}.{field}: its type {column.type} has no Python type"
        )
    return python_type


def column_python_type(column: sa.Column[Any]) -> type[Any] | None:
    """The Python type of a column's values (a `TypeDecorator`'s own, else its implementation's); None if unknown."""
    column_type = column.type
    candidates = [column_type]
    if isinstance(column_type, sa.types.TypeDecorator):
        candidates.append(column_type.impl_instance)
    for candidate in candidates:
        try:
            python_type = candidate.python_type
        except NotImplementedError:
            continue
        if python_type is not object:
            return python_type
    return None


def is_aware_column(column: sa.Column[Any]) -> bool:
    """Whether the column holds time-zone-aware datetimes (`UTCDateTime`, `DateTime(timezone=True)`).

    Such a column must not be compared with a naive datetime: its zone would be a guess.
    """
    column_type = column.type
    impl = getattr(
        column_type, "impl", column_type
    )  # a TypeDecorator's underlying type
    return isinstance(impl, sa.DateTime) and bool(impl.timezone)
