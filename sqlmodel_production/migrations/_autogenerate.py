"""What Alembic's autogenerate needs to write migrations that import and run anywhere.

Functions with Alembic's hook signatures. Only the hooks themselves import Alembic,
when Alembic calls them: the package does not need it installed.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from sqlmodel_production.models import utcnow

__all__ = [
    "alembic_options",
    "compare_server_default",
    "process_revision_directives",
    "render_item",
]

_PUBLIC_MODELS = "sqlmodel_production.models"


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Alembic's `render_item` hook: migrations that import what they name, with portable defaults.

    - A column type from outside SQLAlchemy (`UTCDateTime`, SQLModel's `AutoString`,
      a type of your own) is written as Alembic writes it, `module.Type(...)`, and
      its module is imported at the top of the migration.
    - A `utcnow()` server default is written as `sqlmodel_production.models.utcnow()`,
      not as the SQL the generating database spells it in: the migration then sets a
      UTC default on whichever database it runs.

    Returns:
        The Python source for `obj`, or False to let Alembic render it.
    """
    imports = getattr(autogen_context, "imports", None)
    if kind == "type":
        module = type(obj).__module__
        if not module.startswith("sqlalchemy.") and module != "builtins":
            if imports is not None:
                imports.add(f"import {module}")
        return False
    if kind == "server_default" and isinstance(_default_expression(obj), utcnow):
        if imports is not None:
            imports.add(f"import {_PUBLIC_MODELS}")
        return f"{_PUBLIC_MODELS}.utcnow()"
    return False


def compare_server_default(
    context: Any,
    inspected_column: sa.Column[Any],
    metadata_column: sa.Column[Any],
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Alembic's `compare_server_default` hook: a `utcnow()` default against the database's.

    The database reports the default it holds as SQL (`now()`, `utc_timestamp(6)`,
    `(strftime(...))`); it matches when it is what `utcnow()` compiles to there, so a
    default set by another tool (`CURRENT_TIMESTAMP`, local time on MariaDB) shows as
    drift in `alembic check`.

    Returns:
        True when they differ, False when they match, None for any other default
        (Alembic compares those itself).
    """
    expression = _default_expression(metadata_column.server_default)
    if not isinstance(expression, utcnow):
        return None
    if inspected_default is None:
        return True
    expected = str(expression.compile(dialect=context.dialect))
    return _normalized(inspected_default) != _normalized(expected)


def process_revision_directives(
    context: Any, revision: Any, directives: list[Any]
) -> None:
    """Alembic's `process_revision_directives` hook: migrations that run on the three databases.

    - An `alter_column` that keeps the column's type names the model's type as
      `existing_type=`. Autogenerate writes the type the generating database reports
      (`postgresql.TIMESTAMP(timezone=True)`), and MariaDB restates the whole column
      from it: run there, the migration would turn a `DATETIME(6)` into a `TIMESTAMP`.
      A change of type keeps the reported old type: review it before running the
      migration on another database.
    - A table dropped is dropped without first dropping its indexes one by one:
      MariaDB refuses to drop the index a foreign key uses, and the indexes go with
      the table anyway. (Autogenerate writes both, in every downgrade of a new table.)

    Call it from a hook of your own if you have one.
    """
    metadata = context.opts.get("target_metadata")
    for script in directives:
        for container in (script.upgrade_ops, script.downgrade_ops):
            _without_index_drops_of_dropped_tables(container)
            if metadata is not None:
                _model_types(container, metadata)


def _model_types(container: Any, metadata: sa.MetaData) -> None:
    from alembic.operations import ops

    for op in container.ops:
        if isinstance(op, ops.OpContainer):
            _model_types(op, metadata)
        elif isinstance(op, ops.AlterColumnOp) and op.modify_type is None:
            schema = f"{op.schema}." if op.schema else ""
            table = metadata.tables.get(f"{schema}{op.table_name}")
            if table is not None and op.column_name in table.c:
                op.existing_type = table.c[op.column_name].type


def _without_index_drops_of_dropped_tables(container: Any) -> None:
    from alembic.operations import ops

    dropped = {
        (op.schema, op.table_name)
        for op in container.ops
        if isinstance(op, ops.DropTableOp)
    }
    kept = []
    for op in container.ops:
        if isinstance(op, ops.ModifyTableOps) and (op.schema, op.table_name) in dropped:
            op.ops = [o for o in op.ops if not isinstance(o, ops.DropIndexOp)]
            if not op.ops:
                continue
        elif isinstance(op, ops.DropIndexOp) and (op.schema, op.table_name) in dropped:
            continue
        kept.append(op)
    container.ops = kept


def alembic_options() -> dict[str, Any]:
    """Keyword arguments for `context.configure()` in a project's `env.py`.

    The three hooks above, server defaults compared, and batch operations
    (`render_as_batch`), which SQLite needs to alter a table and which PostgreSQL
    and MariaDB run as plain `ALTER TABLE`: one migration serves the three.

    Example:
        ```python
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            **alembic_options(),
        )
        ```
    """
    return {
        "render_item": render_item,
        "compare_server_default": compare_server_default,
        "process_revision_directives": process_revision_directives,
        "render_as_batch": True,
    }


def _default_expression(default: Any) -> Any:
    """The SQL expression of a column's server default (a `DefaultClause`), if it has one."""
    return getattr(default, "arg", None)


def _normalized(sql: str) -> str:
    """SQL text as databases echo it back: case, spaces, quotes and outer parentheses aside."""
    text = re.sub(r"\s+", "", sql).lower()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return text.replace('"', "'")
