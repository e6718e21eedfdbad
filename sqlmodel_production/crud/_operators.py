"""The filter operators as one table: an operator is one `Operator` entry in `OPERATOR_TABLE`.

Each entry says which kinds of column it applies to (and which get it by default),
what value it takes (which fixes the query parameter's type and how the value is
checked), how it reads in the OpenAPI document, and how it becomes SQL. Building a
clause is pure: no I/O, no dialect; where a backend needs other SQL (MariaDB's
case-insensitive collations for `eq`, `ne` and `in` on text), the clause is an
`exact_text` that carries both forms, and the backend's profile renders its own.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any, Literal

import sqlalchemy as sa

from sqlmodel_production.db.internal import exact_text

__all__ = [
    "ESCAPE",
    "MAX_IN_VALUES",
    "MAX_PATTERN_LENGTH",
    "OPERATOR_TABLE",
    "Clause",
    "Kind",
    "Operator",
    "FilterColumn",
]

Clause = sa.ColumnElement[bool]

MAX_IN_VALUES = 100
"""The most values one `in` filter accepts."""

MAX_PATTERN_LENGTH = 255
"""The longest `like` / `ilike` pattern (and `q` search text) accepted."""

ESCAPE = "\\"
"""The escape character of `like` / `ilike` patterns."""

_ORDERED_TYPES = (int, float, Decimal, date, time, timedelta)  # datetime is a date


class Kind(enum.Enum):
    """What a column holds, as far as the operators care."""

    BOOL = "bool"
    ENUM = "enum"
    STRING = "string"
    ORDERED = "ordered"  # numbers, dates, times, durations
    OTHER = "other"  # UUIDs and other unordered types

    @classmethod
    def of(cls, value_type: type[Any]) -> Kind:
        """The kind of a column whose values are `value_type`."""
        if issubclass(value_type, bool):
            return cls.BOOL
        if issubclass(
            value_type, enum.Enum
        ):  # before str and int: an Enum may be either
            return cls.ENUM
        if issubclass(value_type, str):
            return cls.STRING
        if issubclass(value_type, _ORDERED_TYPES):
            return cls.ORDERED
        return cls.OTHER


_ALL = frozenset(Kind)

Takes = Literal["value", "values", "pattern", "flag"]
"""The value an operator takes: one value of the column's type, a list of them, a LIKE
pattern (a string) or a flag (a bool)."""


@dataclass(frozen=True)
class FilterColumn:
    """The column a filter compares, as the SQL builders need it.

    Attributes:
        column: the table column.
        nullable: whether it may hold NULL.
        text: whether it holds text that a collation may compare loosely (not an enum).
    """

    column: sa.ColumnElement[Any]
    nullable: bool
    text: bool


@dataclass(frozen=True)
class Operator:
    """One filter operator.

    Attributes:
        name: the operator, the parameter's suffix (`age__gt`); `eq` has none (`age`).
        description: the parameter's OpenAPI description; `{}` stands for the field.
        takes: the value it takes, which fixes the parameter's type and checks.
        build: the SQL of the `FilterColumn` compared with a value already checked.
        kinds: the kinds of column it applies to; others are refused at start-up.
        default: the kinds of column that get it when a filter names no operators.
        nullable_only: it applies to nullable columns only.
    """

    name: str
    description: str
    takes: Takes
    build: Callable[[FilterColumn, Any], Clause]
    kinds: frozenset[Kind] = _ALL
    default: frozenset[Kind] = _ALL
    nullable_only: bool = False


def _bytes(target: FilterColumn) -> sa.ColumnElement[Any]:
    """The column as bytes: compared exactly, case and trailing spaces included (see `exact_text`)."""
    return sa.cast(target.column, sa.LargeBinary)


def _value(target: FilterColumn, value: Any) -> sa.BindParameter[Any]:
    return sa.bindparam(None, value, type_=target.column.type)


def _eq(target: FilterColumn, value: Any) -> Clause:
    column = target.column
    if not target.text:
        equal: Clause = column == value
        return equal
    # Where a collation ignores case and trailing spaces, the plain `=` still finds the
    # candidates through the column's index, and the byte comparison keeps the exact ones.
    return exact_text(
        column == value,
        sa.and_(column == value, _bytes(target) == _value(target, value)),
    )


def _ne(target: FilterColumn, value: Any) -> Clause:
    column = target.column
    # "not 3" includes "no value", as in Python: a nullable column uses IS DISTINCT FROM.
    if not target.text:
        return column.is_distinct_from(value) if target.nullable else column != value
    exact = _bytes(target)
    other = _value(target, value)
    return exact_text(
        column.is_distinct_from(value) if target.nullable else column != value,
        exact.is_distinct_from(other) if target.nullable else exact != other,
    )


def _in(target: FilterColumn, values: Collection[Any]) -> Clause:
    column = target.column
    if not target.text:
        return column.in_(values)
    exact = _bytes(target).in_(
        sa.bindparam(None, list(values), type_=column.type, expanding=True)
    )
    return exact_text(column.in_(values), sa.and_(column.in_(values), exact))


def _is_null(target: FilterColumn, is_null: bool) -> Clause:
    return target.column.is_(None) if is_null else target.column.is_not(None)


_NOT_BOOL = _ALL - {Kind.BOOL}

OPERATOR_TABLE: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("eq", "{} equal to", "value", _eq),
        Operator("ne", "{} not equal to", "value", _ne),
        Operator(
            "lt",
            "{} less than",
            "value",
            lambda t, v: t.column < v,
            kinds=_NOT_BOOL,
            default=frozenset({Kind.ORDERED}),
        ),
        Operator(
            "le",
            "{} less than or equal to",
            "value",
            lambda t, v: t.column <= v,
            kinds=_NOT_BOOL,
            default=frozenset({Kind.ORDERED}),
        ),
        Operator(
            "gt",
            "{} greater than",
            "value",
            lambda t, v: t.column > v,
            kinds=_NOT_BOOL,
            default=frozenset({Kind.ORDERED}),
        ),
        Operator(
            "ge",
            "{} greater than or equal to",
            "value",
            lambda t, v: t.column >= v,
            kinds=_NOT_BOOL,
            default=frozenset({Kind.ORDERED}),
        ),
        Operator(
            "in",
            f"{{}} one of these values (repeat the parameter, at most {MAX_IN_VALUES} values)",
            "values",
            _in,
            default=_NOT_BOOL,
        ),
        Operator(
            "like",
            "{} matches this pattern: % any characters, _ one character, \\ escapes them; "
            "case sensitivity follows the database collation",
            "pattern",
            lambda t, pattern: t.column.like(pattern, escape=ESCAPE),
            kinds=frozenset({Kind.STRING}),
            default=frozenset({Kind.STRING}),
        ),
        Operator(
            "ilike",
            "{} matches this pattern, ignoring case: % any characters, _ one character, "
            "\\ escapes them",
            "pattern",
            lambda t, pattern: t.column.ilike(pattern, escape=ESCAPE),
            kinds=frozenset({Kind.STRING}),
            default=frozenset({Kind.STRING}),
        ),
        Operator(
            "is_null",
            "{} is null (true) or is not null (false)",
            "flag",
            _is_null,
            nullable_only=True,
        ),
    )
}
"""Every filter operator by name, in the order their parameters are listed."""
