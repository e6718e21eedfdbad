"""Loading a row's relationships with Core statements built once (no ORM on the read path)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from sqlmodel_production.db._places import Place
from sqlmodel_production.db._prepared import Prepared
from sqlmodel_production.models import SoftDelete

__all__ = ["RelatedLoad", "related_load"]


class RelatedLoad:
    """Reads one relationship of a row with a Core statement built once.

    For a relationship on foreign keys (many-to-one, one-to-many): the related
    rows' Public columns, in the relationship's `order_by` if it has one, else
    by the related primary key.
    """

    def __init__(
        self,
        name: str,
        statement: sa.Select[Any],
        keys: list[sa.Column[Any]],
        uselist: bool,
    ) -> None:
        self.name = name
        self.statement = Prepared(statement)
        self.keys = keys
        self.uselist = uselist

    def __call__(self, reads: Place, row: Mapping[Any, Any]) -> Any:
        params = {f"k{i}": row[key.name] for i, key in enumerate(self.keys)}
        if any(value is None for value in params.values()):
            return [] if self.uselist else None
        if self.uselist:
            return reads.all(self.statement, params)
        return reads.first(self.statement, params)


def related_load(
    model: type[SQLModel], key: str, schema: type[SQLModel]
) -> RelatedLoad | None:
    """A Core loader for `model.key`, or None where only the ORM can load it (a link table)."""
    relationship = getattr(model, key).property
    if relationship.secondary is not None:
        return None
    table = relationship.mapper.local_table
    own = model.__table__  # type: ignore[attr-defined]
    pairs = relationship.local_remote_pairs
    if not all(local.table is own and remote.table is table for local, remote in pairs):
        return None
    columns = [table.c[name] for name in schema.model_fields if name in table.c]
    statement = sa.select(*columns).where(
        *[remote == sa.bindparam(f"k{i}") for i, (_, remote) in enumerate(pairs)]
    )
    if issubclass(relationship.mapper.class_, SoftDelete):
        statement = statement.where(
            table.c.deleted_at.is_(None)
        )  # as the routes leave them out
    # The relationship's own order, else the related key: the same answer every time.
    statement = statement.order_by(
        *(relationship.order_by or table.primary_key.columns)
    )
    return RelatedLoad(
        key, statement, [local for local, _ in pairs], relationship.uselist
    )
