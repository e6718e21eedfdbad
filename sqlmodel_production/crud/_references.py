"""Foreign keys inside a row scope: the conditions a scoped write must meet (statements only, no I/O).

A table scoped on `org_id` whose `project_id` refers to a table that also has
`org_id` may only point at projects of the row's own org (the request's). A foreign key
constraint checks that the project exists, not whose it is: these conditions
check the rest, in the write statement itself (`INSERT ... SELECT ... WHERE`,
`UPDATE ... WHERE`), so there is no window between a check and the write.

A reference that fails its condition is answered as a reference to a row that
does not exist (the same 422), so that ids of other tenants cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

__all__ = ["ScopedReference", "scoped_references"]

Parameter = Callable[[str], sa.ColumnElement[Any]]
"""A scoped column's value in a statement (a parameter, or the written row's column), by name."""


@dataclass(frozen=True)
class ScopedReference:
    """A foreign key column whose target carries every scoped column.

    Attributes:
        column: the referring column of the written table.
        target: the column it refers to.
        constraint: the foreign key constraint's name, as declared (None if unnamed).
        scope: the scoped columns, which the target's table has too.
    """

    column: sa.Column[Any]
    target: sa.Column[Any]
    constraint: str | None
    scope: tuple[str, ...]

    def inside(self, parameter: Parameter) -> list[sa.ColumnElement[bool]]:
        """The target rows inside the scope, and live (a soft-deleted row is gone for its clients)."""
        table = self.target.table
        found = [table.c[name] == parameter(name) for name in self.scope]
        if "deleted_at" in table.c:
            found.append(table.c["deleted_at"].is_(None))
        return found

    def condition(
        self, value: sa.ColumnElement[Any], parameter: Parameter
    ) -> sa.ColumnElement[bool]:
        """`value` is NULL, or names a live row of the target inside the scope."""
        found = sa.exists().where(self.target == value, *self.inside(parameter))
        return sa.or_(value.is_(None), found)


def scoped_references(
    table: sa.Table, scope: Collection[str]
) -> tuple[ScopedReference, ...]:
    """The single-column foreign keys of `table` whose target table has every `scope` column.

    A foreign key that includes a scoped column (`(org_id, project_id)` to
    `project (org_id, id)`) keeps its rows in the scope by itself, and one to
    a table without the scoped columns (a shared lookup table) has nothing to
    check.
    """
    if not scope:
        return ()
    found = []
    for constraint in sorted(table.foreign_key_constraints, key=_constraint_order):
        (element, *others) = constraint.elements
        if others or element.parent.name in scope:
            continue
        target = element.column
        if all(name in target.table.c for name in scope):
            found.append(
                ScopedReference(
                    element.parent, target, _name(constraint.name), tuple(scope)
                )
            )
    return tuple(found)


def _constraint_order(constraint: sa.ForeignKeyConstraint) -> list[str]:
    return [c.name for c in constraint.columns]


def _name(name: Any) -> str | None:
    return None if name is None or not isinstance(name, str) else str(name)
