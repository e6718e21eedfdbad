"""What a scope gives for one column: one value, several, or every row (statements only, no I/O).

A scope maps each scoped column to:

- one value (`{"org_id": 7}`): the rows with it; creates are stamped with it;
- several values (`{"org_id": [7, 9]}`, a user in several orgs): the rows with
  any of them;
- every value (`RowScope.ALL`, a super-admin): no condition on that column.

A create needs one value to stamp: several values or every value give it with
`stamp=` (`RowScope.all(stamp=user.id)`, `RowScope.any_of(7, 9, stamp=7)`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sqlmodel_production._exceptions import InvalidScope

__all__ = [
    "ScopeValues",
    "one_value_each",
    "scope_clause",
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


def scope_stamp(scope: Mapping[str, Any] | None) -> dict[str, Any]:
    """The values a create writes into the scoped columns.

    Raises:
        InvalidScope: a column has several values or every value, and no stamp.
    """
    found: dict[str, Any] = {}
    for name, given in (scope or {}).items():
        value = scope_value(given)
        if not isinstance(value, ScopeValues):
            found[name] = value
        elif value.has_stamp:
            found[name] = value.stamp
        else:
            raise InvalidScope(
                f"a create needs one value for the scoped column {name!r}; the scope "
                "gives several or all: return RowScope.any_of(..., stamp=value) or "
                "RowScope.all(stamp=value)"
            )
    return found


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
