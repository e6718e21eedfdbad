"""The pytest plugin: query-count assertions, the n_plus_one and leak fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production import Database
from sqlmodel_production.testing import assert_max_queries, assert_queries
from tests.conftest import Target

from ._app import seeded
from ._run import run
from .test_n_plus_one import (
    ROSTERS,
    team_rosters_fixed,
    team_rosters_fixed_async,
)


def test_assert_queries_passes_and_fails_with_the_statements(
    target: Target, database: Database
) -> None:
    def sync_fn(session: Session) -> str:
        with assert_queries(2), assert_max_queries(2):
            assert team_rosters_fixed(session) == ROSTERS
        with pytest.raises(AssertionError) as raised, assert_queries(1):
            team_rosters_fixed(session)
        return str(raised.value)

    async def async_fn(session: AsyncSession) -> str:
        with assert_queries(2), assert_max_queries(2):
            assert await team_rosters_fixed_async(session) == ROSTERS
        with pytest.raises(AssertionError) as raised, assert_max_queries(1):
            await team_rosters_fixed_async(session)
        return str(raised.value)

    with seeded(database):
        message = run(database, target.async_, sync_fn, async_fn)
    first, second, third = message.splitlines()
    expected = "expected at most 1:" if target.async_ else "expected 1:"
    assert first == f"2 queries ran, {expected}"
    assert second.startswith(
        "1. SELECT dgteam.id, dgteam.name FROM dgteam ORDER BY dgteam.id  [tests/diagnostics/"
    )
    assert second.endswith(
        " in team_rosters_fixed_async]" if target.async_ else " in team_rosters_fixed]"
    )
    assert third.startswith("2. SELECT ") and "dghero" in third


def test_n_plus_one_fixture_clean(
    target: Target, database: Database, n_plus_one: object
) -> None:
    async def async_fn(session: AsyncSession) -> object:
        return await team_rosters_fixed_async(session)

    with seeded(database):
        assert run(database, target.async_, team_rosters_fixed, async_fn) == ROSTERS


def run_pytest(tmp_path: Path, source: str, **env_vars: str) -> str:
    """Run a test file in a fresh pytest process (the plugin loads by its entry point)."""
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(source))
    root = Path(__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), **env_vars}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "test_inner.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout


@pytest.mark.sqlite
def test_n_plus_one_fixture_fails_the_test(tmp_path: Path) -> None:
    output = run_pytest(
        tmp_path,
        """
        from sqlmodel_production import Database, DatabaseSettings
        from tests.diagnostics._app import seeded
        from tests.diagnostics.test_n_plus_one import team_rosters, team_rosters_fixed

        def make(tmp_path):
            return Database(DatabaseSettings(_env_file=None, database_url=f"sqlite:///{tmp_path}/t.db"))

        def test_problem(tmp_path, n_plus_one):
            database = make(tmp_path)
            with seeded(database), database.session() as session:
                try:
                    team_rosters(session)
                except Exception:
                    pass  # swallowed: the fixture fails the test all the same
            database.engine.dispose()

        def test_fixed(tmp_path, n_plus_one):
            database = make(tmp_path)
            with seeded(database), database.session() as session:
                team_rosters_fixed(session)
            database.engine.dispose()

        def test_uncaught(tmp_path, n_plus_one):
            database = make(tmp_path)
            try:
                with seeded(database), database.session() as session:
                    team_rosters(session)
            finally:
                database.engine.dispose()
        """,
    )
    # Swallowed: an error at teardown; uncaught: a failure, and no second report.
    assert "1 failed, 2 passed, 1 error" in output, output
    assert "ERROR at teardown of test_problem" in output
    assert "FAILED test_inner.py::test_uncaught" in output
    assert "ERROR at teardown of test_uncaught" not in output
    assert "N+1 queries: DgTeam.heroes was lazy-loaded 2 times from " in output
    assert "test_n_plus_one.py:" in output
    assert (
        "in team_rosters; load it with the query that fetched the parents: "
        ".options(selectinload(DgTeam.heroes))."
    ) in output


@pytest.mark.sqlite
def test_n_plus_one_fixture_repeated_statements(tmp_path: Path) -> None:
    output = run_pytest(
        tmp_path,
        """
        import asyncio

        import pytest
        from sqlmodel import select

        from sqlmodel_production import Database, DatabaseSettings
        from tests.diagnostics._app import DgHero, seeded

        def make(tmp_path):
            return Database(DatabaseSettings(_env_file=None, database_url=f"sqlite:///{tmp_path}/t.db"))

        async def six_gets(database):
            async with database.async_session() as session:
                for hero_id in range(1, 7):
                    await session.get(DgHero, hero_id)
            await database.dispose()

        def test_async_get_loop(tmp_path, n_plus_one):
            database = make(tmp_path)
            with seeded(database):
                asyncio.run(six_gets(database))

        def test_select_loop(tmp_path, n_plus_one):
            database = make(tmp_path)
            with seeded(database), database.session() as session:
                for hero_id in range(1, 4):
                    session.exec(select(DgHero).where(DgHero.id == hero_id)).one()
            database.engine.dispose()

        @pytest.mark.n_plus_one(repeated_queries=False)
        def test_opted_out(tmp_path, n_plus_one):
            database = make(tmp_path)
            with seeded(database):
                asyncio.run(six_gets(database))

        def one_hero(session, hero_id):
            return session.exec(select(DgHero).where(DgHero.id == hero_id)).one()

        def test_two_calls_are_no_loop(tmp_path, n_plus_one):
            database = make(tmp_path)
            with seeded(database), database.session() as session:
                one_hero(session, 1)
                one_hero(session, 2)
            database.engine.dispose()
        """,
    )
    # Each N+1 is reported once: the test fails at the statement, not again at teardown.
    assert output.splitlines()[-1].startswith("2 failed, 2 passed"), output
    assert "error" not in output.splitlines()[-1], output
    assert "FAILED test_inner.py::test_async_get_loop" in output
    assert "FAILED test_inner.py::test_select_loop" in output
    assert (
        "N+1 queries: session.get(DgHero, ...) ran 2 times in a loop from test_inner.py:"
    ) in output
    assert "N+1 queries: ran 2 times in a loop from test_inner.py:" in output


ASYNC_TESTS_WITH_N_PLUS_ONE = """
import os

import pytest

from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.diagnostics import NPlusOneError
from tests.diagnostics._app import seeded
from tests.diagnostics.test_n_plus_one import team_rosters, team_rosters_fixed

pytestmark = pytest.mark.anyio
ASYNC = os.environ["INNER_ASYNC"] == "1"


@pytest.fixture
async def database():  # async, and set up before n_plus_one
    url = os.environ["INNER_DATABASE_URL"]
    database = Database(DatabaseSettings(_env_file=None, database_url=url))
    with seeded(database):
        yield database
    await database.dispose()


async def rosters(database, fn):
    if ASYNC:
        async with database.async_session() as session:
            return await session.run_sync(fn)
    with database.session() as session:
        return fn(session)


async def test_raises_at_the_lazy_load(database, n_plus_one):
    with pytest.raises(NPlusOneError, match="DgTeam.heroes was lazy-loaded 2 times"):
        await rosters(database, team_rosters)


async def test_swallowed(database, n_plus_one):
    try:
        await rosters(database, team_rosters)
    except NPlusOneError:
        pass  # the fixture fails the test all the same


async def test_fixed(database, n_plus_one):
    await rosters(database, team_rosters_fixed)
"""


def test_n_plus_one_fixture_fails_async_tests(
    target: Target, database_url: str, tmp_path: Path
) -> None:
    output = run_pytest(
        tmp_path,
        ASYNC_TESTS_WITH_N_PLUS_ONE,
        INNER_ASYNC="1" if target.async_ else "0",
        INNER_DATABASE_URL=database_url,
    )
    # Raised at the lazy load, and each test with an N+1 fails at teardown.
    assert output.splitlines()[-1].startswith("3 passed, 2 errors"), output
    assert "ERROR at teardown of test_raises_at_the_lazy_load" in output
    assert "ERROR at teardown of test_swallowed" in output
    assert "N+1 queries: DgTeam.heroes was lazy-loaded 2 times from " in output


@pytest.mark.sqlite
def test_no_connection_leaks_fixture_fails_the_test(tmp_path: Path) -> None:
    output = run_pytest(
        tmp_path,
        """
        from sqlmodel_production import Database, DatabaseSettings
        import sqlalchemy as sa

        def leaky(database):
            conn = database.engine.connect()
            conn.execute(sa.text("SELECT 1"))

        def fixed(database):
            with database.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))

        def make(tmp_path):
            return Database(DatabaseSettings(_env_file=None, database_url=f"sqlite:///{tmp_path}/t.db"))

        def test_leaky(tmp_path, no_connection_leaks):
            database = make(tmp_path)
            no_connection_leaks(database.engine)
            leaky(database)

        def test_fixed(tmp_path, no_connection_leaks):
            database = make(tmp_path)
            no_connection_leaks(database.engine)
            fixed(database)
            database.engine.dispose()
        """,
    )
    assert "2 passed, 1 error" in output, output
    assert "ERROR at teardown of test_leaky" in output
    assert "Connection leak: a connection checked out at " in output
    assert "test_inner.py:6 in leaky" in output
    assert " in leaky was garbage-collected without being returned" in output
