"""Alembic support: hooks for autogenerate, the engines an `env.py` runs on, row-level security policies.

See docs/migrations.md and docs/tenancy.md.

Nothing here imports Alembic; the package never runs migrations by itself.
"""

from ._autogenerate import alembic_options as alembic_options
from ._autogenerate import compare_server_default as compare_server_default
from ._autogenerate import process_revision_directives as process_revision_directives
from ._autogenerate import render_item as render_item
from ._engines import async_migration_engine as async_migration_engine
from ._engines import migration_engine as migration_engine
from ._row_security import RowSecurityPolicies as RowSecurityPolicies
from ._row_security import row_security_policies as row_security_policies

__all__ = [
    "RowSecurityPolicies",
    "alembic_options",
    "async_migration_engine",
    "compare_server_default",
    "migration_engine",
    "process_revision_directives",
    "render_item",
    "row_security_policies",
]
