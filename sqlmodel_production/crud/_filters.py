"""Filters from an allow-list: `?age__gt=30&name__ilike=%25man` -> WHERE clauses, on every backend.

Everything that depends on the model (columns, relationships, operators, value types,
OpenAPI descriptions) is worked out once when the `FilterSet` is built; a request only
runs one small closure per given parameter. The operators themselves are one table,
`OPERATOR_TABLE` in `crud/_operators.py`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from annotated_types import Ge, Le
from pydantic import AwareDatetime
from sqlmodel import SQLModel

from sqlmodel_production._exceptions import InvalidQuery
from sqlmodel_production.crud._columns import (
    column_python_type,
    is_aware_column,
    model_column,
    model_mapper,
    value_type,
)
from sqlmodel_production.crud._operators import (
    ESCAPE,
    MAX_IN_VALUES,
    MAX_PATTERN_LENGTH,
    OPERATOR_TABLE,
    Clause,
    FilterColumn,
    Kind,
    Operator,
)
from sqlmodel_production.crud._scope import scope_condition
from sqlmodel_production.models import (
    WRITE_ONLY,
    SoftDelete,
    Text,
    integer_range,
    storable,
)

__all__ = [
    "MAX_IN_VALUES",
    "MAX_PATTERN_LENGTH",
    "OPERATORS",
    "SEARCH",
    "FilterParam",
    "FilterSet",
    "column_python_type",
    "escape_like",
    "is_aware_column",
    "model_column",
    "model_mapper",
]

OPERATORS = tuple(OPERATOR_TABLE)
"""Every filter operator's name, in the order their parameters are listed."""

SEARCH = "q"
"""The query parameter of the text search, when a `FilterSet` has `search` fields."""

_Builder = Callable[[Any, Mapping[str, Any]], Clause | None]
"""A parameter's typed value and the request's scope -> its clause (None: no condition)."""


@dataclass(frozen=True)
class FilterParam:
    """One query parameter a list endpoint exposes, such as `age__gt`.

    Attributes:
        name: the parameter: the field for `eq` (`"age"`), else `"<field>__<op>"`;
            a dot of a related field becomes `__` (`author__name__ilike`).
        field: the field it filters on: a model field (`"age"`), or a related one
            through relationships (`"author.name"`); for the search (`q`), the
            searched fields joined by commas.
        op: one of `OPERATORS`, or `"search"` for `q`.
        annotation: the Python type of the parameter's value, for FastAPI: the
            field's type (`AwareDatetime` for time-zone-aware columns, `Text` for
            strings), `list[...]` of it for `in`, `bool` for `is_null`, `Text` for
            `like` / `ilike` and `q`.
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
    - `eq`, `ne` and `in` on text are exact: case and trailing spaces count on every
      backend (on MariaDB, whose usual collations ignore both, the column's index
      finds the candidates and a byte comparison keeps the exact matches).
    - `ne` on a nullable column does match NULLs (`IS DISTINCT FROM`): "not 3" includes
      "no value", as in Python.
    - `like` / `ilike` take the client's pattern: `%` any characters, `_` one character,
      and a backslash escapes either (or itself). `ilike` ignores case everywhere (`ILIKE`
      on PostgreSQL, `lower() LIKE lower()` elsewhere; SQLite folds ASCII letters only);
      `like` follows the column's collation: case-sensitive on PostgreSQL, not on
      MariaDB's `_ci` collations nor for ASCII on SQLite.
    - `is_null=true` is `IS NULL`, `false` is `IS NOT NULL`.
    - A related field (`"author.name"`, through the model's relationships, as deep as
      needed) filters with `EXISTS`: a row matches when a related row matches, and is
      never repeated however many related rows do. A filter tells clients something
      about the value, so allow only related fields they may read: unlike the model's
      own fields (which `Repository` checks against the Public schema), related ones
      are not checked.
    - The search `q` (with `search` fields) keeps the rows where any of the fields
      contains the text, ignoring case; `%`, `_` and `\\` in the text are literal.
      Blank text searches nothing (every row matches).

    Args:
        model: the table model.
        allowed: the filterable fields, either with their operators
            (`{"age": ("eq", "gt", "lt"), "author.name": ("ilike",)}`) or as a list of
            fields given the operators that suit their type: `eq`, `ne`, `in` for all
            but booleans (`eq`, `ne`); `lt`, `le`, `gt`, `ge` for numbers, dates, times
            and durations; `like`, `ilike` for strings; `is_null` for nullable columns.
        search: string fields (own or related) the `q` parameter searches; none: no `q`.

    Raises:
        ValueError: an unknown field, relationship or operator, or an operator that
            cannot apply to the field (a programming error, reported at start-up).

    Example:
        ```python
        filters = FilterSet(Book, {"price": ("ge", "le"), "author.name": ("ilike",)},
                            search=["title", "author.name"])
        where = filters.clauses({"price__le": 20, "author__name__ilike": "terry%", "q": "disc"})
        statement = select(Book).where(*where)
        ```
    """

    def __init__(
        self,
        model: type[SQLModel],
        allowed: Mapping[str, Collection[str]] | Collection[str],
        *,
        search: Collection[str] = (),
    ) -> None:
        if isinstance(allowed, str) or isinstance(search, str):
            raise TypeError(
                "allowed filters must be a collection of fields, not the string "
                f"{allowed if isinstance(allowed, str) else search!r}"
            )
        if isinstance(allowed, Mapping):
            wanted: dict[str, Collection[str] | None] = dict(allowed)
        else:
            wanted = dict.fromkeys(allowed)
        params: list[FilterParam] = []
        builders: dict[str, _Builder] = {}
        own: set[str] = set()

        def add(param: FilterParam, builder: _Builder) -> None:
            if param.name in builders:
                raise ValueError(
                    f"two filters of {model.__name__} are named {param.name!r}"
                )
            params.append(param)
            builders[param.name] = builder

        for field, ops in wanted.items():
            path = _resolve(model, field)
            if not path.steps:
                own.add(field)
            if ops is None:
                ops = [
                    op.name
                    for op in OPERATOR_TABLE.values()
                    if path.kind in op.default
                    and (path.nullable or not op.nullable_only)
                ]
            elif isinstance(ops, str):
                raise TypeError(
                    f"operators of {field!r} must be a collection, not the string {ops!r}"
                )
            for name in dict.fromkeys(ops):
                operator = _operator(model, field, name, path)
                param = _param(field, operator, path)
                add(param, _builder(param.name, operator, path))
        if search:
            paths = [_resolve(model, field) for field in dict.fromkeys(search)]
            for path in paths:
                if path.kind is not Kind.STRING:
                    raise ValueError(
                        f"search needs string fields; {model.__name__}.{path.spec} "
                        f"holds {path.value_type.__name__}"
                    )
                if not path.steps:
                    own.add(path.spec)
            fields = ", ".join(path.spec for path in paths)
            description = (
                f"Text to search for, ignoring case, anywhere in: {fields} "
                f"(at most {MAX_PATTERN_LENGTH} characters)"
            )
            add(
                FilterParam(SEARCH, fields, "search", Text, description),
                _search_builder(paths),
            )
        self.model = model
        self.params: tuple[FilterParam, ...] = tuple(params)
        self.own_fields: frozenset[str] = frozenset(own)
        """The model's own fields the filters and the search read (not related ones)."""
        self._builders = builders

    def clauses(
        self, values: Mapping[str, Any], scope: Mapping[str, Any] | None = None
    ) -> list[Clause]:
        """The WHERE clauses for the parameters a client gave.

        Args:
            values: values keyed by `FilterParam.name`, already converted to the
                parameter's `annotation`; `None` means not given.
            scope: the request's scope (`RowScope`): through a relationship, only
                related rows inside it match, where the related table has the
                scoped columns.

        Returns:
            One clause per given parameter, in the order of `params` (none for a
            blank search).

        Raises:
            InvalidQuery: a value the database must not see: an empty or too long
                `in` list, a too long or badly escaped pattern, a naive datetime
                for a time-zone-aware column, a too long search text.
            ValueError: a key that is not one of `params` (a programming error).
        """
        if not values.keys() <= self._builders.keys():
            unknown = ", ".join(sorted(values.keys() - self._builders.keys()))
            raise ValueError(f"not filters of {self.model.__name__}: {unknown}")
        clauses = []
        for name, build in self._builders.items():
            value = values.get(name)
            if value is not None:
                clause = build(value, scope or {})
                if clause is not None:
                    clauses.append(clause)
        return clauses


@dataclass(frozen=True)
class _Path:
    """A filterable field, maybe through relationships, resolved against the models."""

    spec: str  # as configured: "age", "author.name"
    steps: tuple[
        tuple[Any, bool], ...
    ]  # (relationship attribute, to-many) from the model
    column: sa.Column[Any]
    value_type: type[Any]
    kind: Kind
    nullable: bool
    aware: bool

    @property
    def filter_column(self) -> FilterColumn:
        return FilterColumn(self.column, self.nullable, self.kind is Kind.STRING)

    def wrap(self, clause: Clause, scope: Mapping[str, Any]) -> Clause:
        """`clause` on the related rows, as EXISTS conditions on the model's rows.

        Soft-deleted related rows (`SoftDelete`) never match, as their own routes
        do not show them, nor related rows outside the request's `scope` (the
        scoped columns a related table has: a `tenant_id` is the same everywhere).
        """
        for attribute, to_many in reversed(self.steps):
            related = attribute.property.mapper
            columns = related.local_table.c
            bounds = [
                bound
                for name, value in scope.items()
                if name in columns
                and (bound := scope_condition(columns[name], value)) is not None
            ]
            if issubclass(related.class_, SoftDelete):
                bounds.append(columns.deleted_at.is_(None))
            if bounds:
                clause = sa.and_(clause, *bounds)
            clause = attribute.any(clause) if to_many else attribute.has(clause)
        return clause


def _resolve(model: type[SQLModel], spec: str) -> _Path:
    *names, field = spec.split(".")
    steps: list[tuple[Any, bool]] = []
    current = model
    for name in names:
        relationship = model_mapper(current).relationships.get(name)
        if relationship is None:
            known = ", ".join(model_mapper(current).relationships.keys()) or "none"
            raise ValueError(
                f"{current.__name__} has no relationship {name!r} (filter {spec!r}); "
                f"its relationships: {known}"
            )
        steps.append((getattr(current, name), bool(relationship.uselist)))
        current = relationship.mapper.class_
    column = model_column(current, field)
    info = current.model_fields.get(field)
    if names and (column.info.get(WRITE_ONLY) or (info is not None and info.exclude)):
        # The model's own fields are checked against the router's Public schema.
        raise ValueError(
            f"{current.__name__}.{field} is write-only (not in {current.__name__}Public): "
            f"clients cannot filter or search on it (filter {spec!r}), or they could "
            "guess its values one character at a time"
        )
    python_type = value_type(current, field, column)
    return _Path(
        spec,
        tuple(steps),
        column,
        python_type,
        Kind.of(python_type),
        bool(column.nullable),
        is_aware_column(column),
    )


def _operator(model: type[SQLModel], field: str, name: str, path: _Path) -> Operator:
    where = f"{model.__name__}.{field}"
    operator = OPERATOR_TABLE.get(name)
    if operator is None:
        raise ValueError(
            f"unknown filter operator {name!r} for {where}; operators: {', '.join(OPERATORS)}"
        )
    if path.kind not in operator.kinds:
        if operator.kinds == {Kind.STRING}:
            needs = "a string column"
        else:
            needs = "one of " + ", ".join(kind.value for kind in operator.kinds)
        raise ValueError(
            f"{name!r} needs {needs}; {where} holds {path.value_type.__name__}"
        )
    if operator.nullable_only and not path.nullable:
        raise ValueError(
            f"{name!r} on {where}, which is NOT NULL: it could never match"
        )
    return operator


def _param(field: str, operator: Operator, path: _Path) -> FilterParam:
    annotation: Any
    if operator.takes == "flag":
        annotation = bool
    elif operator.takes == "pattern":
        annotation = Text
    else:
        annotation = (
            AwareDatetime
            if path.aware and issubclass(path.value_type, datetime)
            else storable(path.value_type)
        )
        # A number no row can hold is a 422, not the database's error.
        limits = integer_range(path.column.type) if path.value_type is int else None
        if limits is not None:
            annotation = Annotated[int, Ge(limits[0]), Le(limits[1])]
        if operator.takes == "values":
            annotation = list[annotation]
    prefix = field.replace(".", "__")
    name = prefix if operator.name == "eq" else f"{prefix}__{operator.name}"
    return FilterParam(
        name, field, operator.name, annotation, operator.description.format(field)
    )


def _builder(name: str, operator: Operator, path: _Path) -> _Builder:
    """The function turning one typed value of the parameter `name` into its clause."""
    build = functools.partial(operator.build, path.filter_column)
    one: Callable[[Any], Clause]
    if operator.takes == "values":

        def one(values: Collection[Any]) -> Clause:
            if not values:
                raise InvalidQuery(name, "give at least one value")
            if len(values) > MAX_IN_VALUES:
                raise InvalidQuery(
                    name, f"give at most {MAX_IN_VALUES} values, not {len(values)}"
                )
            if path.aware:
                for value in values:
                    _require_aware(name, value)
            return build(values)

    elif operator.takes == "pattern":

        def one(pattern: str) -> Clause:
            return build(_pattern(name, pattern))

    elif operator.takes == "value" and path.aware:

        def one(value: Any) -> Clause:
            return build(_require_aware(name, value))

    else:
        one = build
    if not path.steps:
        return lambda value, _scope: one(value)
    return lambda value, scope: path.wrap(one(value), scope)


def _search_builder(paths: list[_Path]) -> _Builder:
    """`q`: any of the fields contains the text, ignoring case; related fields through EXISTS."""
    groups: dict[tuple[Any, ...], list[_Path]] = {}
    for path in paths:
        groups.setdefault(path.steps, []).append(path)

    def search(text: str, scope: Mapping[str, Any]) -> Clause | None:
        text = text.strip()
        if not text:
            return None
        if len(text) > MAX_PATTERN_LENGTH:
            raise InvalidQuery(
                SEARCH, f"give at most {MAX_PATTERN_LENGTH} characters to search for"
            )
        pattern = f"%{escape_like(text)}%"
        conditions = []
        for group in groups.values():
            found = sa.or_(
                *(path.column.ilike(pattern, escape=ESCAPE) for path in group)
            )
            conditions.append(group[0].wrap(found, scope))
        return sa.or_(*conditions)

    return search


def escape_like(text: str) -> str:
    """`text` as a LIKE pattern matching itself: `%`, `_` and `\\` escaped with `\\`."""
    return (
        text.replace(ESCAPE, ESCAPE * 2)
        .replace("%", ESCAPE + "%")
        .replace("_", ESCAPE + "_")
    )


def _require_aware(name: str, value: Any) -> Any:
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise InvalidQuery(name, "give a time zone, e.g. 2024-01-31T12:00:00Z")
    return value


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
        escaped = not escaped and char == ESCAPE
    else:
        if not escaped:
            return pattern
    raise InvalidQuery(
        name, "a backslash must be followed by %, _ or another backslash"
    )
