"""The plugin's database fixtures, run as a user runs them: a pytest process of its own.

The inner test files commit rows, read each other's tables and serve an app
with the test's session; the outer test then looks at the database itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from sqlmodel_production import Database
from tests.conftest import Target

ROOT = Path(__file__).parents[2]

MODELS = """
from fastapi import FastAPI
from sqlmodel import Field, SQLModel, select

from sqlmodel_production.testing import override_session


class SmpItem(SQLModel, table=True):
    __tablename__ = "smp_item"  # made by the outer test: left alone by smp_tables
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)


class SmpNote(SQLModel, table=True):
    __tablename__ = "smp_note"  # made and dropped by smp_tables
    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=50)


app = FastAPI()
BY_ID = select(SmpItem).order_by(SmpItem.id)
"""

SYNC_TESTS = """
import pytest
from fastapi.testclient import TestClient

from sqlmodel_production.api import SessionDep


@app.get("/items")
def list_items(session: SessionDep) -> list[str]:
    return [item.name for item in session.exec(BY_ID)]


@app.post("/items/{name}")
def create_item(session: SessionDep, name: str) -> str:
    session.add(SmpItem(name=name))
    session.commit()
    return name


@pytest.fixture
def client(smp_session):
    with override_session(app, smp_session), TestClient(app) as client:
        yield client


def names(session):
    return [item.name for item in session.exec(BY_ID)]


def test_commits_inside_the_test(smp_session):
    smp_session.add(SmpItem(name="first"))
    smp_session.add(SmpNote(text="a note"))
    smp_session.commit()
    assert names(smp_session) == ["first"]


def test_the_next_test_sees_none_of_it(smp_session):
    assert names(smp_session) == []
    assert smp_session.exec(select(SmpNote)).all() == []
    smp_session.add(SmpItem(name="second"))
    smp_session.commit()
    assert names(smp_session) == ["second"]


def test_a_rollback_keeps_the_earlier_commit(smp_session):
    smp_session.add(SmpItem(name="kept"))
    smp_session.commit()
    smp_session.add(SmpItem(name="undone"))
    smp_session.rollback()
    assert names(smp_session) == ["kept"]


def test_the_app_shares_the_session(smp_session, client):
    smp_session.add(SmpItem(name="from the test"))
    smp_session.commit()
    assert client.get("/items").json() == ["from the test"]
    assert client.post("/items/from the app").status_code == 200
    assert names(smp_session) == ["from the test", "from the app"]


def test_the_override_is_gone_after_the_block(smp_session):
    with override_session(app, smp_session):
        pass
    assert app.dependency_overrides == {}
"""

ASYNC_TESTS = """
import httpx2 as httpx
import pytest

from sqlmodel_production.api import AsyncSessionDep

pytestmark = pytest.mark.anyio


@app.get("/items")
async def list_items(session: AsyncSessionDep) -> list[str]:
    return [item.name for item in (await session.exec(BY_ID)).all()]


@app.post("/items/{name}")
async def create_item(session: AsyncSessionDep, name: str) -> str:
    session.add(SmpItem(name=name))
    await session.commit()
    return name


@pytest.fixture
async def client(smp_async_session):
    transport = httpx.ASGITransport(app=app)
    with override_session(app, smp_async_session):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


async def names(session):
    return [item.name for item in (await session.exec(BY_ID)).all()]


async def test_commits_inside_the_test(smp_async_session):
    smp_async_session.add(SmpItem(name="first"))
    smp_async_session.add(SmpNote(text="a note"))
    await smp_async_session.commit()
    assert await names(smp_async_session) == ["first"]


async def test_the_next_test_sees_none_of_it(smp_async_session):
    assert await names(smp_async_session) == []
    assert (await smp_async_session.exec(select(SmpNote))).all() == []
    smp_async_session.add(SmpItem(name="second"))
    await smp_async_session.commit()
    assert await names(smp_async_session) == ["second"]


async def test_a_rollback_keeps_the_earlier_commit(smp_async_session):
    smp_async_session.add(SmpItem(name="kept"))
    await smp_async_session.commit()
    smp_async_session.add(SmpItem(name="undone"))
    await smp_async_session.rollback()
    assert await names(smp_async_session) == ["kept"]


async def test_the_app_shares_the_session(smp_async_session, client):
    smp_async_session.add(SmpItem(name="from the test"))
    await smp_async_session.commit()
    assert (await client.get("/items")).json() == ["from the test"]
    assert (await client.post("/items/from the app")).status_code == 200
    assert await names(smp_async_session) == ["from the test", "from the app"]


async def test_the_override_is_gone_after_the_block(smp_async_session):
    with override_session(app, smp_async_session):
        pass
    assert app.dependency_overrides == {}
"""


def run_pytest(
    tmp_path: Path, source: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a test file in a fresh pytest process (the plugin loads by its entry point)."""
    (tmp_path / "test_inner.py").write_text(source)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("SMP_TEST_DATABASE_URL", None)  # only what the test gives
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider"]
        + [*args, "test_inner.py"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )


def items_table() -> sa.Table:
    return sa.Table(
        "smp_item",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )


def test_every_test_is_rolled_back_and_the_app_shares_its_session(
    target: Target, database: Database, database_url: str, tmp_path: Path
) -> None:
    items = items_table()
    with database.engine.begin() as conn:
        items.create(conn)
    try:
        # Sync tests find the database by the option, async ones by the environment.
        if target.async_:
            result = run_pytest(
                tmp_path,
                MODELS + ASYNC_TESTS,
                env={"SMP_TEST_DATABASE_URL": database_url},
            )
        else:
            result = run_pytest(
                tmp_path, MODELS + SYNC_TESTS, f"--smp-database-url={database_url}"
            )
        assert result.stdout.splitlines()[-1].startswith("5 passed"), (
            result.stdout + result.stderr
        )
        with database.engine.connect() as conn:
            left = conn.execute(sa.select(sa.func.count()).select_from(items))
            tables = sa.inspect(conn).get_table_names()
        assert left.scalar_one() == 0  # every committed row rolled back
        assert "smp_item" in tables  # there before the run: left alone
        assert "smp_note" not in tables  # made for the run: dropped after it
    finally:
        with database.engine.begin() as conn:
            items.drop(conn)


@pytest.mark.sqlite
def test_without_a_database_the_fixture_says_how_to_give_one(tmp_path: Path) -> None:
    result = run_pytest(
        tmp_path,
        textwrap.dedent(
            """
            def test_needs_a_database(smp_session):
                pass
            """
        ),
    )
    assert "1 error" in result.stdout, result.stdout
    assert (
        "No test database for the smp_* fixtures: pass --smp-database-url=URL, set "
        "SMP_TEST_DATABASE_URL, or override the session-scoped smp_database fixture "
        "in conftest.py."
    ) in result.stdout


@pytest.mark.sqlite
def test_the_option_wins_over_the_environment(tmp_path: Path) -> None:
    option_url = f"sqlite:///{tmp_path / 'option.db'}"
    result = run_pytest(
        tmp_path,
        textwrap.dedent(
            f"""
            def test_url(smp_database_url, smp_database):
                assert smp_database_url == {option_url!r}
                assert smp_database.settings.database_url == smp_database_url
            """
        ),
        f"--smp-database-url={option_url}",
        env={"SMP_TEST_DATABASE_URL": "sqlite:///elsewhere.db"},
    )
    assert result.stdout.splitlines()[-1].startswith("1 passed"), result.stdout
