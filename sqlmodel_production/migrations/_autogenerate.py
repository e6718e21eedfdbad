"""What Alembic's autogenerate needs to write migrations that import and run anywhere.

Pure functions with Alembic's hook signatures: nothing here imports Alembic, so the
package does not need it installed.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from sqlmodel_production.models import utcnow

__all__ = ["alembic_options", "compare_server_default", "render_item"]

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


def alembic_options() -> dict[str, Any]:
    """Keyword arguments for `context.configure()` in a project's `env.py`.

    The two hooks above, server defaults compared, and batch operations
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
