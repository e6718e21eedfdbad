"""Statement builders more than one backend shares (SQLAlchemy Core, run on the `Connection` given)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sqlmodel_production.db._prepared import Row, RunPrepared, dicts


@functools.lru_cache(maxsize=256)
def insert_statement(
    table: sa.Table, returning: tuple[sa.ColumnElement[Any], ...], *, sort: bool
) -> sa.Insert:
    """`INSERT ... RETURNING`, built once: its parameters name the columns given at execution."""
    return sa.insert(table).returning(*returning, sort_by_parameter_order=sort)


def insert_values(
    connection: sa.Connection,
    table: sa.Table,
    names: tuple[str, ...],
    batch: list[Row],
    returning: tuple[sa.ColumnElement[Any], ...],
    run: RunPrepared,
) -> list[Row]:
    """Batched `INSERT ... VALUES ... RETURNING`, rows returned in parameter order (SQLAlchemy's insertmanyvalues).

    The statement is rendered per batch, so it runs through the `Connection`, not `run`.
    """
    statement = insert_statement(table, returning, sort=True)
    return dicts(connection.execute(statement, batch))


def by_key(table: sa.Table, batch: list[Row], returned: list[Row]) -> list[Row]:
    """Put the rows of one INSERT back in the order of its parameters, by primary key.

    A key the caller gave is matched directly; a generated one ascends in the
    order the rows were inserted.
    """
    (key,) = (c.name for c in table.primary_key.columns)
    if key in batch[0]:
        found = {row[key]: row for row in returned}
        return [found[row[key]] for row in batch]
    return sorted(returned, key=lambda row: row[key])


def upsert_on_conflict(
    insert: Any,
    connection: sa.Connection,
    table: sa.Table,
    values: Mapping[str, Any],
    on: Sequence[str],
    changes: Sequence[str],
    returning: Sequence[sa.ColumnElement[Any]],
    guard: Sequence[str] = (),
) -> Row | None:
    """`INSERT ... ON CONFLICT (on) DO UPDATE ... WHERE guard ... RETURNING` with the dialect's `insert`."""
    statement = insert(table).values(dict(values))
    statement = statement.on_conflict_do_update(
        index_elements=[table.c[k] for k in on],
        set_={k: statement.excluded[k] for k in changes},
        where=sa.and_(*(table.c[k] == statement.excluded[k] for k in guard))
        if guard
        else None,
    ).returning(*returning)
    row = connection.execute(statement).mappings().one_or_none()
    return None if row is None else dict(row)
