"""`compare_server_default`: a `utcnow()` default matches what each database echoes back, and only that."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sqlmodel_production import Database
from sqlmodel_production.db import Backend
from sqlmodel_production.migrations import alembic_options, render_item
from sqlmodel_production.models import UTCDateTime, utcnow
from tests.conftest import Target, run_on_connection

metadata = sa.MetaData()
stamps = sa.Table(
    "mg_stamps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False, server_default=utcnow()),
)

# A default another tool set: the database clock, but not the one `utcnow()` names
# (on MariaDB, session-local time).
OTHER_DEFAULT = {
    Backend.POSTGRESQL: [
        "ALTER TABLE mg_stamps ALTER COLUMN created_at SET DEFAULT LOCALTIMESTAMP"
    ],
    Backend.MARIADB: [
        "ALTER TABLE mg_stamps MODIFY created_at DATETIME(6) NOT NULL "
        "DEFAULT CURRENT_TIMESTAMP(6)"
    ],
    Backend.SQLITE: [
        "DROP TABLE mg_stamps",
        "CREATE TABLE mg_stamps (id INTEGER PRIMARY KEY, "
        "created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    ],
}


def default_changes(conn: sa.Connection) -> list[Any]:
    """What `alembic check` would find on `mg_stamps`: its default changes."""
    context = MigrationContext.configure(
        conn,
        opts={
            **alembic_options(),
            "target_metadata": metadata,
            "include_name": lambda name, kind, _parent: (
                kind != "table" or name == "mg_stamps"
            ),
        },
    )
    found = compare_metadata(context, metadata)
    return [
        change
        for group in found
        for change in (group if isinstance(group, list) else [group])
        if change[0] == "modify_default"
    ]


@pytest.fixture
def created(database: Database) -> Any:
    with database.engine.begin() as conn:
        metadata.drop_all(conn)
        metadata.create_all(conn)
    yield database
    with database.engine.begin() as conn:
        metadata.drop_all(conn)


def test_utcnow_default_matches_itself_and_not_another(
    target: Target, created: Database
) -> None:
    assert run_on_connection(created, target.async_, default_changes) == []
    with created.engine.begin() as conn:
        for statement in OTHER_DEFAULT[target.backend]:
            conn.exec_driver_sql(statement)
    (change,) = run_on_connection(created, target.async_, default_changes)
    assert change[2:4] == ("mg_stamps", "created_at")


class _Context:
    def __init__(self) -> None:
        self.imports: set[str] = set()


def test_render_item_imports_the_types_it_names_and_leaves_sqlalchemys() -> None:
    context = _Context()
    assert render_item("type", UTCDateTime(), context) is False
    assert render_item("type", sa.Integer(), context) is False
    assert context.imports == {"import sqlmodel_production.models"}
    default = stamps.c.created_at.server_default
    assert render_item("server_default", default, context) == (
        "sqlmodel_production.models.utcnow()"
    )
    assert render_item("server_default", sa.DefaultClause("0"), context) is False


def test_the_package_needs_no_alembic_to_import() -> None:
    code = "import sys, sqlmodel_production.migrations; print('alembic' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
