"""What a parent's soft delete does to its children, by relationship: cascade, or refuse while live ones exist.

`on_delete={"tasks": "cascade"}` marks a project's live tasks deleted with the
project, in its transaction; `on_delete={"tasks": "refuse"}` leaves the project
alone while it has live tasks (`LiveChildren`, a 409 on the routes). The rules
are checked when the repository is built, so a wrong name or a child without
soft delete is a start-up error, never a request's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import RelationshipDirection
from sqlmodel import SQLModel

from sqlmodel_production.models import utcnow

__all__ = ["ChildAction", "ChildRule", "child_rules"]

ChildAction = Literal["cascade", "refuse"]
"""What a parent's soft delete does to the live rows of one of its to-many relationships."""

_SOFT_DELETE = "deleted_at"


@dataclass(frozen=True)
class ChildRule:
    """One to-many relationship of a soft-deletable parent, and what its soft delete does to it.

    Attributes:
        name: the relationship's name on the parent (`"tasks"`).
        action: `"cascade"` or `"refuse"`.
        column: the child's foreign key column to the parent's primary key.
        deleted_at: the child's soft-delete mark; None for a child without soft
            delete (any of its rows is live).
    """

    name: str
    action: ChildAction
    column: sa.Column[Any]
    deleted_at: sa.Column[Any] | None

    @property
    def table(self) -> sa.Table:
        table = self.column.table
        assert isinstance(table, sa.Table)
        return table

    @property
    def constraint(self) -> str | None:
        """The children's foreign key constraint's declared name, if it has one."""
        for fk in self.column.foreign_keys:
            name = fk.constraint.name if fk.constraint is not None else None
            if isinstance(name, str):
                return name
        return None

    def live(self, parent: sa.ColumnElement[Any]) -> sa.Exists:
        """Whether the parent (its key, `parent`) has live children here."""
        where = [self.column == parent]
        if self.deleted_at is not None:
            where.append(self.deleted_at.is_(None))
        return sa.exists().where(*where)

    def cascade(self, parent: sa.BindParameter[Any]) -> sa.Update:
        """The UPDATE marking the parent's live children deleted now."""
        assert self.deleted_at is not None
        return (
            sa.update(self.table)
            .where(self.column == parent, self.deleted_at.is_(None))
            .values({self.deleted_at.name: utcnow()})
        )


def child_rules(
    model: type[SQLModel],
    pk: sa.Column[Any],
    on_delete: Mapping[str, ChildAction],
    *,
    soft_delete: bool,
) -> tuple[ChildRule, ...]:
    """The rules of `on_delete`, checked against the model's relationships.

    Raises:
        TypeError: the parent has no soft delete, or a cascade's child has none.
        ValueError: a name that is not a one-to-many relationship of `model` by
            one foreign key column to its primary key, or an action other than
            `"cascade"` and `"refuse"`.
    """
    if not on_delete:
        return ()
    label = model.__name__
    if not soft_delete:
        raise TypeError(
            f"on_delete needs soft delete on {label}: add the SoftDelete mixin "
            "(a hard delete's children are the foreign key's business: "
            "Field(foreign_key=..., ondelete='CASCADE'))"
        )
    relationships = sa.inspect(model).relationships
    rules = []
    for name, action in on_delete.items():
        if action not in get_args(ChildAction):
            raise ValueError(
                f"on_delete[{name!r}] of {label} must be 'cascade' or 'refuse', "
                f"not {action!r}"
            )
        if name not in relationships:
            known = ", ".join(sorted(relationships.keys())) or "none"
            raise ValueError(
                f"on_delete names {name!r}, which is not a relationship of {label} "
                f"(its relationships: {known})"
            )
        relationship = relationships[name]
        pairs = relationship.local_remote_pairs or []
        if (
            relationship.direction is not RelationshipDirection.ONETOMANY
            or relationship.secondary is not None
            or len(pairs) != 1
            or pairs[0][0] is not pk
        ):
            raise ValueError(
                f"on_delete[{name!r}] of {label}: only a one-to-many relationship "
                f"whose children refer to {label}'s primary key by one foreign "
                "key column has children to cascade to or to refuse for"
            )
        column = pairs[0][1]
        child = relationship.mapper.class_.__name__
        child_table = column.table
        deleted_at = (
            child_table.c[_SOFT_DELETE] if _SOFT_DELETE in child_table.c else None
        )
        if action == "cascade" and deleted_at is None:
            raise TypeError(
                f"on_delete={{{name!r}: 'cascade'}} of {label} needs soft delete on "
                f"{child}: add the SoftDelete mixin to {child}, or choose 'refuse'"
            )
        rules.append(ChildRule(name, action, column, deleted_at))
    return tuple(rules)
