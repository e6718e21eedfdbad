"""Foreign keys to live rows inside a row scope: the conditions a write must meet, and their checks.

A table scoped on `org_id` whose `project_id` refers to a table that also has
`org_id` may only point at projects of the row's own org (the request's); a
foreign key to a table with soft delete may only point at a live row (no task
is created in a deleted project). A foreign key constraint checks that the
project exists, not whose it is nor whether it was soft-deleted: these
conditions check the rest, in the write statement itself (`INSERT ... SELECT
... WHERE`, `UPDATE ... WHERE`), so there is no window between a check and the
write.

A reference that fails its condition is answered as a reference to a row that
does not exist (the same 422), so that ids of other tenants cannot be probed.
`ReferenceGuard` runs the checks where the write runs (a session, a connection
or a pooled `Runner`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sqlmodel_production._exceptions import ReferenceNotFound
from sqlmodel_production.crud._cache import StatementCache
from sqlmodel_production.crud._scope import scope_condition
from sqlmodel_production.db.internal import Prepared, Row, SessionLike, runner_of

__all__ = ["GuardedReference", "ReferenceGuard", "guarded_references"]

_SOFT_DELETE = "deleted_at"
"""The column of the `SoftDelete` mixin: a target table that has it keeps its deleted rows out of reach."""
Parameter = Callable[[str], sa.ColumnElement[Any]]
"""A scoped column's value in a statement (a parameter, or the written row's column), by name."""


@dataclass(frozen=True)
class GuardedReference:
    """A foreign key column whose target carries every scoped column, or soft delete, or both.

    Attributes:
        column: the referring column of the written table.
        target: the column it refers to.
        constraint: the foreign key constraint's name, as declared (None if unnamed).
        scope: the scoped columns the target's table has too (none: only
            soft delete is checked).
    """

    column: sa.Column[Any]
    target: sa.Column[Any]
    constraint: str | None
    scope: tuple[str, ...]

    def inside(self, parameter: Parameter) -> list[sa.ColumnElement[bool]]:
        """The target rows inside the scope, and live (a soft-deleted row is gone for its clients)."""
        table = self.target.table
        found = [table.c[name] == parameter(name) for name in self.scope]
        if _SOFT_DELETE in table.c:
            found.append(table.c[_SOFT_DELETE].is_(None))
        return found

    def within(self, scope: Mapping[str, Any] | None) -> list[sa.ColumnElement[bool]]:
        """The target rows inside a request's scope of any shape (one value, several, every one), and live."""
        table = self.target.table
        found = [
            condition
            for name in self.scope
            if scope is not None
            and (condition := scope_condition(table.c[name], scope[name])) is not None
        ]
        if _SOFT_DELETE in table.c:
            found.append(table.c[_SOFT_DELETE].is_(None))
        return found

    def condition(
        self, value: sa.ColumnElement[Any], parameter: Parameter
    ) -> sa.ColumnElement[bool]:
        """`value` is NULL, or names a live row of the target inside the scope.

        The row found is locked (`FOR SHARE`) until the transaction ends: a
        concurrent soft delete of the parent, or a move out of the scope, waits
        for the write (and then sees its child), or the write waits for it (and
        then finds no live parent). SQLite's writers take turns, and it
        renders no lock.
        """
        found = (
            sa.select(sa.literal(1))
            .select_from(self.target.table)
            .where(self.target == value, *self.inside(parameter))
            .with_for_update(read=True)
            .exists()
        )
        return sa.or_(value.is_(None), found)


def guarded_references(
    table: sa.Table, scope: Collection[str]
) -> tuple[GuardedReference, ...]:
    """The single-column foreign keys of `table` whose target table has every `scope` column, or soft delete.

    A foreign key that includes a scoped column (`(org_id, project_id)` to
    `project (org_id, id)`) keeps its rows in the scope by itself, and one to
    a table without the scoped columns (a shared lookup table) has nothing to
    check unless that table has soft delete (a `deleted_at` column).
    """
    found = []
    for constraint in sorted(table.foreign_key_constraints, key=_constraint_order):
        (element, *others) = constraint.elements
        if others or element.parent.name in scope:
            continue
        target = element.column
        scoped = bool(scope) and all(name in target.table.c for name in scope)
        if scoped or _SOFT_DELETE in target.table.c:
            found.append(
                GuardedReference(
                    element.parent,
                    target,
                    _name(constraint.name),
                    tuple(scope) if scoped else (),
                )
            )
    return tuple(found)


def _constraint_order(constraint: sa.ForeignKeyConstraint) -> list[str]:
    return [c.name for c in constraint.columns]


def _name(name: Any) -> str | None:
    return None if name is None or not isinstance(name, str) else str(name)


class ReferenceGuard:
    """A table's guarded references: which a write must check, and the checks, run where the write runs."""

    def __init__(
        self,
        table: sa.Table,
        returning: Sequence[sa.ColumnElement[Any]],
        cache: StatementCache,
    ) -> None:
        self.table = table
        self.returning = tuple(returning)
        self._references: dict[tuple[str, ...], tuple[GuardedReference, ...]] = {}
        self._cache = cache

    def referring(
        self, scope: Mapping[str, Any] | None, rows: Sequence[Mapping[str, Any]]
    ) -> tuple[GuardedReference, ...]:
        """The guarded references some of `rows` set to a value (NULL needs no check)."""
        names = tuple(sorted(scope or ()))
        references = self._references.get(names)
        if references is None:
            references = self._references[names] = guarded_references(self.table, names)
        return tuple(
            r
            for r in references
            if any(row.get(r.column.name) is not None for row in rows)
        )

    def conditions(
        self,
        checked: Sequence[GuardedReference],
        value: Callable[[str], sa.ColumnElement[Any]],
        *,
        own: bool = False,
    ) -> list[sa.ColumnElement[bool]]:
        """Each checked reference's condition on the values `value` names.

        The scope is the written row's: its values' parameters in an INSERT,
        its own columns (`own`) in an UPDATE.
        """
        scope = self._column if own else self._value
        return [r.condition(value(r.column.name), scope) for r in checked]

    def insert(
        self,
        session: SessionLike,
        values: dict[str, Any],
        checked: Sequence[GuardedReference],
    ) -> Row:
        """`INSERT ... SELECT ... WHERE` each reference is inside the scope, `RETURNING` the row.

        Raises:
            ReferenceNotFound: a reference names no live row inside the scope.
        """
        names = tuple(values)
        key = (names, tuple(r.column.name for r in checked))

        def build() -> Prepared:
            select = sa.select(*(self._value(n) for n in names)).where(
                *self.conditions(checked, self._value)
            )
            return Prepared(
                sa.insert(self.table)
                .from_select(list(names), select)
                .returning(*self.returning)
            )

        statement = self._cache.get("guarded insert", key, build)
        rows = runner_of(session).all(statement, values)
        if not rows:
            raise self.not_found(session, values, checked, self._value)
        return rows[0]

    def not_found(
        self,
        session: SessionLike,
        params: Mapping[str, Any],
        checked: Sequence[GuardedReference],
        value: Callable[[str], sa.ColumnElement[Any]],
        *,
        where: sa.ColumnElement[bool] | None = None,
    ) -> ReferenceNotFound:
        """Which of the `checked` references failed: each one's condition, read back.

        With `where` (an UPDATE's row), the conditions are read on that row, in
        its own scope.
        """
        conditions = self.conditions(checked, value, own=where is not None)
        labels: list[Any] = [c.label(f"c{i}") for i, c in enumerate(conditions)]
        select: sa.Select[Any] = sa.select(*labels)
        if where is not None:
            select = select.select_from(self.table).where(where)
        row = runner_of(session).first(select, params) or {}
        failing = [r for i, r in enumerate(checked) if not row.get(f"c{i}")]
        failing = failing or list(checked)  # moved into the scope since: say all
        return ReferenceNotFound(
            self.table.name,
            tuple(r.column.name for r in failing),
            constraint=failing[0].constraint,
        )

    def check_rows(
        self,
        session: SessionLike,
        rows: Sequence[Mapping[str, Any]],
        checked: Sequence[GuardedReference],
    ) -> None:
        """Check every row's references before a write that cannot carry the conditions.

        The targets found are locked (`FOR SHARE`; SQLite locks the whole
        database for a writer) until the transaction ends, so none can leave
        the scope or be deleted before the write commits.

        Raises:
            ReferenceNotFound: naming the first row at fault.
        """
        for reference in checked:
            name = reference.column.name
            # Each row's own scoped values (the stamp): rows of one create share them.
            by_scope: dict[tuple[Any, ...], set[Any]] = {}
            for row in rows:
                if row.get(name) is not None:
                    key = tuple(row[n] for n in reference.scope)
                    by_scope.setdefault(key, set()).add(row[name])
            select = (
                sa.select(reference.target)
                .where(
                    reference.target.in_(sa.bindparam("wanted", expanding=True)),
                    *reference.inside(lambda n: sa.bindparam(f"scope_{n}")),
                )
                .with_for_update(read=True)
            )
            found: set[tuple[Any, ...]] = set()
            for key, wanted in by_scope.items():
                params = dict(
                    zip((f"scope_{n}" for n in reference.scope), key, strict=True)
                )
                params["wanted"] = list(wanted)
                for hit in runner_of(session).all(select, params):
                    found.add((*key, hit[reference.target.name]))
            for index, row in enumerate(rows):
                value = row.get(name)
                own = tuple(row[n] for n in reference.scope)
                if value is not None and (*own, value) not in found:
                    raise ReferenceNotFound(
                        self.table.name,
                        (name,),
                        constraint=reference.constraint,
                        row=index if len(rows) > 1 else None,
                    )

    def _value(self, name: str) -> sa.BindParameter[Any]:
        """The parameter of a column's value in an INSERT (the stamp, for a scoped column)."""
        return sa.bindparam(name, type_=self.table.c[name].type)

    def _column(self, name: str) -> sa.ColumnElement[Any]:
        """The written row's own column (in an UPDATE)."""
        return self.table.c[name]
