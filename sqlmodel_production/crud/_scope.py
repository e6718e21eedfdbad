"""What a scope gives for one column: one value, several, or every row (statements only, no I/O).

A scope maps each scoped column to:

- one value (`{"org_id": 7}`): the rows with it; creates are stamped with it;
- several values (`{"org_id": [7, 9]}`, a user in several orgs): the rows with
  any of them;
- every value (`RowScope.ALL`, a super-admin): no condition on that column.

A create writes one value per column: the row's own, when it names one inside
the scope (a user in orgs 7 and 9 creates in 9); else the scope's one value,
or the stamp several values or every value give (`RowScope.all(stamp=user.id)`,
`RowScope.any_of(7, 9, stamp=7)`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sqlmodel_production._exceptions import InvalidScope, OutsideScope

__all__ = [
    "ScopeValues",
    "one_value_each",
    "scope_clause",
    "scope_condition",
    "scope_parameters",
    "scope_shape",
    "scope_stamp",
    "scope_value",
]

_NO_STAMP: Any = type("NoStamp", (), {"__repr__": lambda self: "no stamp"})()

ShapeNames = tuple[tuple[str, bool], ...]
"""The scoped columns a statement has a condition on, each with whether it takes several values."""


@dataclass(frozen=True)
class ScopeValues:
    """Several values of a scoped column, or every value; and the one a create is stamped with.

    Attributes:
        values: the values a row may have; None: any (every row).
        stamp: the value a create writes; none: a create is refused (`InvalidScope`).
    """

    values: frozenset[Any] | None = None
    stamp: Any = _NO_STAMP

    def __post_init__(self) -> None:
        if self.values is not None and (not self.values or None in self.values):
            raise InvalidScope(
                "a scope's several values must be one or more values, none of them None"
            )
        if self.stamp is None:
            raise InvalidScope("a scope's stamp cannot be None")
        if (
            self.values is not None
            and self.stamp is not _NO_STAMP
            and self.stamp not in self.values
        ):
            raise InvalidScope(
                f"the stamp {self.stamp!r} is not one of the scope's values"
            )

    @property
    def has_stamp(self) -> bool:
        return self.stamp is not _NO_STAMP


def scope_value(value: Any) -> Any:
    """One value as it is; a collection (not a string) as `ScopeValues` of several."""
    if isinstance(value, ScopeValues):
        return value
    if isinstance(value, Collection) and not isinstance(value, str | bytes):
        return ScopeValues(frozenset(value))
    return value


def scope_shape(scope: Mapping[str, Any] | None) -> ShapeNames:
    """The columns of `scope` that statements have a condition on (not those of every value)."""
    found = []
    for name, given in sorted((scope or {}).items()):
        value = scope_value(given)
        if isinstance(value, ScopeValues):
            if value.values is not None:
                found.append((name, True))
        else:
            found.append((name, False))
    return tuple(found)


def scope_parameters(scope: Mapping[str, Any] | None, prefix: str) -> dict[str, Any]:
    """The parameter `<prefix><column>` of each column with a condition (a list for several values)."""
    found: dict[str, Any] = {}
    for name, given in (scope or {}).items():
        value = scope_value(given)
        if isinstance(value, ScopeValues):
            if value.values is not None:
                found[prefix + name] = list(value.values)
        else:
            found[prefix + name] = value
    return found


def scope_clause(
    column: sa.ColumnElement[Any],
    many: bool,
    parameter: Callable[[bool], sa.BindParameter[Any]],
) -> sa.ColumnElement[bool]:
    """The condition on `column`: equal to its parameter, or in it (an expanding one) for several values."""
    if many:
        return column.in_(parameter(True))
    return column == parameter(False)


def scope_condition(
    column: sa.ColumnElement[Any], given: Any
) -> sa.ColumnElement[bool] | None:
    """The condition on `column` for one scoped value, with the values in it (None: every value)."""
    value = scope_value(given)
    if not isinstance(value, ScopeValues):
        equal: sa.ColumnElement[bool] = column == value
        return equal
    if value.values is None:
        return None
    return column.in_(list(value.values))


def scope_stamp(
    scope: Mapping[str, Any] | None, named: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The values a create writes into the scoped columns.

    A row may name a scoped column's value itself (`named`, None where it does
    not): one the scope gives is written. Without one, the scope's one value is
    written, or the stamp of several values or every value.

    Raises:
        OutsideScope: the row names a value the scope does not give.
        InvalidScope: a column has several values or every value, no stamp, and
            the row names none.
    """
    found: dict[str, Any] = {}
    for name, given in (scope or {}).items():
        value = scope_value(given)
        own = named.get(name) if named else None
        if own is not None:
            if not _gives(value, own):
                raise OutsideScope(name)
            found[name] = own
        elif not isinstance(value, ScopeValues):
            found[name] = value
        elif value.has_stamp:
            found[name] = value.stamp
        else:
            raise InvalidScope(
                f"a create needs one value for the scoped column {name!r}; the scope "
                "gives several or all: name it in the row (RowScope(..., "
                "named_on_create=True) for the routes), or return "
                "RowScope.any_of(..., stamp=value) or RowScope.all(stamp=value)"
            )
    return found


def _gives(value: Any, own: Any) -> bool:
    """Whether a scoped column's `value` (one, several or every) allows a row's `own`."""
    if not isinstance(value, ScopeValues):
        return bool(own == value)
    return value.values is None or own in value.values


def one_value_each(scope: Mapping[str, Any] | None, where: str) -> Mapping[str, Any]:
    """`scope`, checked to give one value per column, for statements built for one value.

    Raises:
        InvalidScope: a column has several values or every value.
    """
    for name, value in (scope or {}).items():
        if isinstance(scope_value(value), ScopeValues):
            raise InvalidScope(
                f"{where} takes one value per scoped column; the scope gives several "
                f"or all for {name!r}"
            )
    return scope or {}
