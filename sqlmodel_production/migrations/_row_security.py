"""The row-level security policies of a scoped table, as SQL for a migration (PostgreSQL; pure, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from sqlmodel_production.db.internal import ALL_ROWS, check_setting_name

__all__ = ["RowSecurityPolicies", "row_security_policies"]


@dataclass(frozen=True)
class RowSecurityPolicies:
    """The statements that turn a table's row-level security on, and off again.

    Attributes:
        upgrade: enable and force row-level security, create the policy.
        downgrade: drop the policy, stop forcing and disable row-level security.
    """

    upgrade: tuple[str, ...]
    downgrade: tuple[str, ...]


def row_security_policies(
    table: Any, settings: Mapping[str, str], *, name: str | None = None
) -> RowSecurityPolicies:
    """The statements that make PostgreSQL keep a table's rows inside the request's scope.

    The policy lets a statement read, update and delete only the rows whose
    scoped columns hold one of the values of their setting in the current
    transaction, and write only such rows: what
    `RowScope(..., database_settings=settings)` sets with
    `set_config(setting, values, true)`. A setting of `*` (`RowScope.ALL`)
    allows every row; one not set in the transaction allows none.

    Row-level security is also forced: without `FORCE`, the role that owns the
    table (often the one the app connects as, when it also ran the
    migrations) is not subject to its policies. Superusers and roles with
    `BYPASSRLS` always are exempt: connect the app as a role that is neither.

    Args:
        table: the table model (or `Table`).
        settings: `{column: setting}`, as the `RowScope`'s `database_settings`.
        name: the policy's name; `<table>_scope` by default.

    Returns:
        The `upgrade` and `downgrade` statements, to run with `op.execute`.

    Raises:
        ValueError: no settings, a column the table does not have, or a
            setting name PostgreSQL would refuse.

    Example:
        ```python
        policies = row_security_policies(Task, {"org_id": "app.org_id"})

        def upgrade() -> None:
            for statement in policies.upgrade:
                op.execute(statement)
        ```
    """
    found: sa.Table = getattr(table, "__table__", table)
    if not settings:
        raise ValueError("row_security_policies needs {column: setting}, one at least")
    dialect: sa.Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    quote = dialect.identifier_preparer
    conditions = []
    for column_name, setting in settings.items():
        if column_name not in found.c:
            raise ValueError(
                f"row_security_policies: {found.name} has no column {column_name!r}"
            )
        column = found.c[column_name]
        value = f"current_setting('{check_setting_name(setting)}', true)"
        array = f"{column.type.compile(dialect=dialect)}[]"
        conditions.append(
            f"CASE {value} WHEN '{ALL_ROWS}' THEN true "
            f"ELSE {quote.quote(column.name)} = ANY (nullif({value}, '')::{array}) END"
        )
    condition = " AND ".join(conditions)
    target = quote.format_table(found)
    policy = quote.quote(name or f"{found.name}_scope")
    return RowSecurityPolicies(
        upgrade=(
            f"ALTER TABLE {target} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {target} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY {policy} ON {target} USING ({condition}) "
            f"WITH CHECK ({condition})",
        ),
        downgrade=(
            f"DROP POLICY IF EXISTS {policy} ON {target}",
            f"ALTER TABLE {target} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {target} DISABLE ROW LEVEL SECURITY",
        ),
    )
