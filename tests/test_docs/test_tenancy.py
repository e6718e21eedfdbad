"""docs/tenancy.md, row-level security: the app of tutorial001 under the policies of tutorial002.

On PostgreSQL the migration runs through Alembic's operations, and the app
connects as a role of its own (neither a superuser nor BYPASSRLS, which bypass
every policy). MariaDB and SQLite refuse the app at start-up.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from fastapi.testclient import TestClient

from docs_src.tenancy import tutorial001, tutorial002
from sqlmodel_production import Backend, Database, DatabaseSettings
from sqlmodel_production.db import sync_url
from tests.conftest import SERVER_URLS, Target
from tests.test_docs._helpers import tables


def migrate(database: Database, step: str) -> None:
    """Run tutorial002's `upgrade` or `downgrade` as Alembic would, on the admin's connection."""
    with database.engine.begin() as conn:
        with Operations.context(MigrationContext.configure(conn)):
            getattr(tutorial002, step)()


@pytest.fixture
def app_role(database: Database) -> Iterator[str]:
    """A login role for the app, allowed to use the contracts table."""
    role = f"smp_docs_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(
        sa.make_url(SERVER_URLS[Backend.POSTGRESQL]).set(
            drivername="postgresql+psycopg"
        ),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    try:
        with tables(database, tutorial001.Contract):
            with database.engine.begin() as conn:
                conn.exec_driver_sql(
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON contracts TO {role}"
                )
                conn.exec_driver_sql(
                    f"GRANT USAGE ON SEQUENCE contracts_id_seq TO {role}"
                )
            yield role
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


@pytest.mark.only(Backend.POSTGRESQL)
def test_tutorial001_tutorial002_each_org_sees_its_contracts(
    target: Target, database: Database, app_role: str
) -> None:
    migrate(database, "upgrade")
    url = database.engine_url.set(username=app_role)
    as_app = Database(
        DatabaseSettings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=url.render_as_string(hide_password=False),
        )
    )
    acme, globex = {"X-Org": "1"}, {"X-Org": "2"}
    with TestClient(tutorial001.create_app(as_app, async_=target.async_)) as client:
        for title in ("lease", "supply"):
            assert (
                client.post(
                    "/contracts/", json={"title": title}, headers=acme
                ).status_code
                == 200
            )
        mine = client.post(
            "/contracts/", json={"title": "audit"}, headers=globex
        ).json()
        assert mine["org_id"] == 2
        assert [c["title"] for c in client.get("/contracts/", headers=acme).json()] == [
            "lease",
            "supply",
        ]
        assert client.get(f"/contracts/{mine['id']}", headers=acme).status_code == 404
        # The hand-written report has no WHERE: the policy counts the org's rows only.
        assert client.get("/reports/contracts", headers=acme).json() == {
            "org_id": 1,
            "contracts": 2,
        }
        assert client.get("/reports/contracts", headers=globex).json() == {
            "org_id": 2,
            "contracts": 1,
        }
    asyncio.run(as_app.dispose())
    # The downgrade takes the policy away: the role sees every row again.
    migrate(database, "downgrade")
    engine = sa.create_engine(sync_url(url.render_as_string(hide_password=False)))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM contracts")).scalar() == 3
    finally:
        engine.dispose()


@pytest.mark.only(Backend.MARIADB, Backend.SQLITE)
def test_tutorial001_refused_at_start_up_without_row_level_security(
    target: Target, database: Database
) -> None:
    app = tutorial001.create_app(database, async_=target.async_)
    with pytest.raises(RuntimeError, match="Row-level security needs PostgreSQL"):
        with TestClient(app):
            pass
