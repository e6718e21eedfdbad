"""Filters from an allow-list: `?age__gt=30&name__ilike=%25man` -> WHERE clauses, on every backend.

Everything that depends on the model (columns, operators, value types, OpenAPI descriptions)
is worked out once when the `FilterSet` is built; a request only runs one small closure per
given parameter.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Union, get_args, get_origin

import sqlalchemy as sa
from pydantic import AwareDatetime
from sqlmodel import SQLModel

from sqlmodel_production.crud._errors import InvalidQuery

__all__ = [
    "MAX_IN_VALUES",
    "MAX_PATTERN_LENGTH",
    "OPERATORS",
    "FilterParam",
    "FilterSet",
    "column_python_type",
    "is_aware_column",
    "model_column",
    "model_mapper",
]

OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "like", "ilike", "is_null")
"""Every filter operator, in the order their parameters are listed."""

MAX_IN_VALUES = 100
"""The most values one `in` filter accepts."""

MAX_PATTERN_LENGTH = 255
"""The longest `like` / `ilike` pattern accepted."""

_PATTERNS = ("like", "ilike")
_ORDERED_TYPES = (int, float, Decimal, date, time, timedelta)  # datetime is a date
_ESCAPE = "\\"

_DESCRIPTIONS = {
    "eq": "{} equal to",
    "ne": "{} not equal to",
    "lt": "{} less than",
    "le": "{} less than or equal to",
    "gt": "{} greater than",
    "ge": "{} greater than or equal to",
    "in": f"{{}} one of these values (repeat the parameter, at most {MAX_IN_VALUES} values)",
    "like": (
        "{} matches this pattern: % any characters, _ one character, \\ escapes them; "
        "case sensitivity follows the database collation"
    ),
    "ilike": (
        "{} matches this pattern, ignoring case: % any characters, _ one character, "
        "\\ escapes them"
    ),
    "is_null": "{} is null (true) or is not null (false)",
}

Clause = sa.ColumnElement[bool]
_Builder = Callable[[Any], Clause]


@dataclass(frozen=True)
class FilterParam:
    """One query parameter a list endpoint exposes, such as `age__gt`.

    Attributes:
        name: the parameter: the field for `eq` (`"age"`), else `"<field>__<op>"`.
        field: the model field it filters on.
        op: one of `OPERATORS`.
        annotation: the Python type of the parameter's value, for FastAPI: the
            field's type (`AwareDatetime` for time-zone-aware columns), `list[...]`
            of it for `in`, `bool` for `is_null`, `str` for `like` / `ilike`.
        description: a short description for the OpenAPI document.
    """

    name: str
    field: str
    op: str
    annotation: Any
    description: str


class FilterSet:
    """The filters a list endpoint accepts, and how they become WHERE clauses.

    Semantics, identical on PostgreSQL, MariaDB and SQLite:

    - `eq`, `lt`, `le`, `gt`, `ge`, `in`, `like`, `ilike` never match a NULL.
    - `ne` on a nullable column does match NULLs (`IS DISTINCT FROM`): "not 3" includes
      "no value", as in Python.
    - `like` / `ilike` take the client's pattern: `%` any characters, `_` one character,
      and a backslash escapes either (or itself). `ilike` ignores case everywhere (`ILIKE`
      on PostgreSQL, `lower() LIKE lower()` elsewhere); `like` follows the column's
      collation: case-sensitive on PostgreSQL, not on MariaDB's `_ci` collations nor
      for ASCII on SQLite.
    - `is_null=true` is `IS NULL`, `false` is `IS NOT NULL`.

    Args:
        model: the table model.
        allowed: the filterable fields, either with their operators
            (`{"age": ("eq", "gt", "lt"), "name": ("ilike",)}`) or as a list of fields
            given the operators that suit their type: `eq`, `ne`, `in` for all
            but booleans (`eq`, `ne`); `lt`, `le`, `gt`, `ge` for numbers, dates, times
            and durations; `like`, `ilike` for strings; `is_null` for nullable columns.

    Raises:
        ValueError: an unknown field or operator, or an operator that cannot apply
            to the field (a programming error, reported at start-up).

    Example:
        ```python
        filters = FilterSet(Hero, {"age": ("eq", "gt", "lt"), "name": ("ilike",)})
        statement = select(Hero).where(*filters.clauses({"age__gt": 30, "name__ilike": "%man"}))
        ```
    """

    def __init__(
        self,
        model: type[SQLModel],
        allowed: Mapping[str, Collection[str]] | Collection[str],
    ) -> None:
        if isinstance(allowed, str):
            raise TypeError(
                f"allowed filters must be a collection of fields, not the string {allowed!r}"
            )
        if isinstance(allowed, Mapping):
            wanted: dict[str, Collection[str] | None] = dict(allowed)
        else:
            wanted = dict.fromkeys(allowed)
        params: list[FilterParam] = []
        builders: dict[str, _Builder] = {}
        for field, ops in wanted.items():
            column = model_column(model, field)
            value_type = _value_type(model, field, column)
            if ops is None:
                ops = _default_operators(value_type, bool(column.nullable))
            elif isinstance(ops, str):
                raise TypeError(
                    f"operators of {field!r} must be a collection, not the string {ops!r}"
                )
            for op in dict.fromkeys(ops):
                _check_operator(model, field, op, value_type, bool(column.nullable))
                param = _param(field, op, value_type, is_aware_column(column))
                if param.name in builders:
                    raise ValueError(
                        f"two filters of {model.__name__} are named {param.name!r}"
                    )
                params.append(param)
                builders[param.name] = _builder(param, column)
        self.model = model
        self.params: tuple[FilterParam, ...] = tuple(params)
        self._builders = builders

    def clauses(self, values: Mapping[str, Any]) -> list[Clause]:
        """The WHERE clauses for the parameters a client gave.

        Args:
            values: values keyed by `FilterParam.name`, already converted to the
                parameter's `annotation`; `None` means not given.

        Returns:
            One clause per given parameter, in the order of `params`.

        Raises:
            InvalidQuery: a value the database must not see: an empty or too long
                `in` list, a too long or badly escaped pattern, a naive datetime
                for a time-zone-aware column.
            ValueError: a key that is not one of `params` (a programming error).
        """
        if not values.keys() <= self._builders.keys():
            unknown = ", ".join(sorted(values.keys() - self._builders.keys()))
            raise ValueError(f"not filters of {self.model.__name__}: {unknown}")
        return [
            build(values[name])
            for name, build in self._builders.items()
            if values.get(name) is not None
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


def _value_type(model: type[SQLModel], field: str, column: sa.Column[Any]) -> type[Any]:
    """The Python type of the field's values: its annotation without `None`, else the column's."""
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
    """The Python type of a column's values, looking through a `TypeDecorator`; None if unknown."""
    column_type = column.type
    if isinstance(column_type, sa.types.TypeDecorator):
        column_type = column_type.impl_instance
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return None
    return None if python_type is object else python_type


def is_aware_column(column: sa.Column[Any]) -> bool:
    """Whether the column holds time-zone-aware datetimes (`UTCDateTime`, `DateTime(timezone=True)`).

    Such a column must not be compared with a naive datetime: its zone would be a guess.
    """
    column_type = column.type
    impl = getattr(
        column_type, "impl", column_type
    )  # a TypeDecorator's underlying type
    return isinstance(impl, sa.DateTime) and bool(impl.timezone)


def _default_operators(value_type: type[Any], nullable: bool) -> tuple[str, ...]:
    if issubclass(value_type, bool):
        ops: tuple[str, ...] = ("eq", "ne")
    elif issubclass(value_type, enum.Enum):
        ops = ("eq", "ne", "in")
    elif issubclass(value_type, str):
        ops = ("eq", "ne", "in", "like", "ilike")
    elif issubclass(value_type, _ORDERED_TYPES):
        ops = ("eq", "ne", "lt", "le", "gt", "ge", "in")
    else:  # UUID and other unordered types
        ops = ("eq", "ne", "in")
    return (*ops, "is_null") if nullable else ops


def _check_operator(
    model: type[SQLModel], field: str, op: str, value_type: type[Any], nullable: bool
) -> None:
    where = f"{model.__name__}.{field}"
    if op not in OPERATORS:
        raise ValueError(
            f"unknown filter operator {op!r} for {where}; operators: {', '.join(OPERATORS)}"
        )
    if op in _PATTERNS and (
        issubclass(value_type, enum.Enum) or not issubclass(value_type, str)
    ):
        raise ValueError(
            f"{op!r} needs a string column; {where} holds {value_type.__name__}"
        )
    if op == "is_null" and not nullable:
        raise ValueError(
            f"'is_null' on {where}, which is NOT NULL: it could never match"
        )


def _param(field: str, op: str, value_type: type[Any], aware: bool) -> FilterParam:
    if op == "is_null":
        annotation: Any = bool
    elif op in _PATTERNS:
        annotation = str
    else:
        annotation = (
            AwareDatetime if aware and issubclass(value_type, datetime) else value_type
        )
        if op == "in":
            annotation = list[annotation]
    name = field if op == "eq" else f"{field}__{op}"
    return FilterParam(name, field, op, annotation, _DESCRIPTIONS[op].format(field))


def _builder(param: FilterParam, column: sa.Column[Any]) -> _Builder:
    """The function turning one typed value of `param` into its clause."""
    name, op = param.name, param.op
    check = _require_aware(name) if is_aware_column(column) else _accept
    if op == "eq":
        return lambda value: column == check(value)
    if op == "ne":
        if column.nullable:
            return lambda value: column.is_distinct_from(check(value))
        return lambda value: column != check(value)
    if op == "lt":
        return lambda value: column < check(value)
    if op == "le":
        return lambda value: column <= check(value)
    if op == "gt":
        return lambda value: column > check(value)
    if op == "ge":
        return lambda value: column >= check(value)
    if op == "in":

        def in_(values: Collection[Any]) -> Clause:
            if not values:
                raise InvalidQuery(name, "give at least one value")
            if len(values) > MAX_IN_VALUES:
                raise InvalidQuery(
                    name, f"give at most {MAX_IN_VALUES} values, not {len(values)}"
                )
            return column.in_([check(value) for value in values])

        return in_
    if op == "like":
        return lambda pattern: column.like(_pattern(name, pattern), escape=_ESCAPE)
    if op == "ilike":
        return lambda pattern: column.ilike(_pattern(name, pattern), escape=_ESCAPE)
    assert op == "is_null", op
    return lambda is_null: column.is_(None) if is_null else column.is_not(None)


def _accept(value: Any) -> Any:
    return value


def _require_aware(name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, datetime) and value.utcoffset() is None:
            raise InvalidQuery(name, "give a time zone, e.g. 2024-01-31T12:00:00Z")
        return value

    return check


def _pattern(name: str, pattern: str) -> str:
    """The client's pattern, refused if too long or if a backslash escapes nothing.

    The backends disagree about a trailing or stray escape (PostgreSQL raises an
    error, the others match literally), so the pattern is checked here.
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidQuery(
            name, f"give a pattern of at most {MAX_PATTERN_LENGTH} characters"
        )
    escaped = False
    for char in pattern:
        if escaped and char not in "%_\\":
            break
        escaped = not escaped and char == _ESCAPE
    else:
        if not escaped:
            return pattern
    raise InvalidQuery(
        name, "a backslash must be followed by %, _ or another backslash"
    )
