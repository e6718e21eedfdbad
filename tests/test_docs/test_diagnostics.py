"""docs/diagnostics.md: recording queries, catching an N+1, the middleware, the pytest plugin."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from docs_src.diagnostics import tutorial001, tutorial002, tutorial004
from docs_src.diagnostics.tutorial001 import Club, Member

# The sample test functions of the page, collected and run here with the fixtures below.
from docs_src.diagnostics.tutorial003 import test_ready as test_ready
from docs_src.diagnostics.tutorial003 import test_team_page as test_team_page
from sqlmodel_production import Backend, Database
from sqlmodel_production.diagnostics import NPlusOneError
from tests.conftest import Target
from tests.test_docs._helpers import in_session, tables

ROSTERS = {"Preventers": ["Rusty-Man", "Tarantula"], "Z-Force": ["Deadpond"]}


@pytest.fixture
def teams(database: Database) -> Iterator[None]:
    with tables(database, Club, Member):
        with database.session() as session:
            for name, members in ROSTERS.items():
                team = Club(name=name)
                session.add(team)
                session.add_all(Member(name=m, team=team) for m in members)
            session.commit()
        yield


@pytest.fixture
def client(backend: Backend, database: Database, teams: None) -> Iterator[TestClient]:
    with TestClient(tutorial002.create_app(database)) as client:
        yield client


def test_tutorial001_record_queries(
    target: Target, database: Database, teams: None
) -> None:
    members = in_session(database, target.async_, tutorial001.list_members)
    assert sorted(m.name for m in members) == ["Deadpond", "Rusty-Man", "Tarantula"]


def test_tutorial001_an_n_plus_one_is_raised_at_the_lazy_load(
    target: Target, database: Database, teams: None
) -> None:
    def both(session: Session) -> str:
        assert tutorial001.rosters(session) == ROSTERS
        session.expunge_all()
        with pytest.raises(NPlusOneError) as raised:
            tutorial001.rosters_n_plus_one(session)
        return str(raised.value)

    message = in_session(database, target.async_, both)
    assert message.startswith(
        "N+1 queries: Club.members was lazy-loaded 2 times from "
        "docs_src/diagnostics/tutorial001.py:"
    )
    assert message.endswith(".options(selectinload(Club.members)).")


def test_tutorial002_server_timing_health_and_404(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    response = client.get("/teams/1")
    assert response.json() == {
        "id": 1,
        "name": "Preventers",
        "members": [
            {"id": 1, "name": "Rusty-Man", "team_id": 1},
            {"id": 2, "name": "Tarantula", "team_id": 1},
        ],
    }
    timing = response.headers["server-timing"]
    assert timing.startswith("db;dur=") and timing.endswith(';desc="2 queries"')
    assert client.get("/teams/99").json() == {"detail": "Team not found"}
    assert client.get("/health/live").json() == {"status": "ok"}
    assert client.get("/health/ready").json() == {"status": "ok", "database": "ok"}
    assert [r.getMessage() for r in caplog.records] == []  # no N+1, nothing slow


def test_tutorial004_refresh_and_populate_existing_see_another_sessions_write(
    target: Target, database: Database, teams: None
) -> None:
    def rename(team_id: int | None, name: str) -> None:
        with database.session() as other:  # another session, another connection
            team = other.get(Club, team_id)
            assert team is not None
            team.name = name
            other.commit()

    def stale_then_fresh(session: Session) -> list[str]:
        seen = []
        team = session.exec(select(Club).order_by(Club.id)).first()
        assert team is not None
        session.commit()
        rename(team.id, "Renamed")
        again = session.exec(select(Club).order_by(Club.id)).first()
        assert again is team
        seen.append(team.name)  # the identity map still holds the old name
        seen.append(tutorial004.reload_team(session, team).name)
        session.commit()  # SQLite: no open transaction while the other session writes
        rename(team.id, "Renamed again")
        fresh = tutorial004.reload_teams(session)
        assert fresh[0] is team
        seen += [t.name for t in fresh]
        return seen

    assert in_session(database, target.async_, stale_then_fresh) == [
        "Preventers",
        "Renamed",
        "Renamed again",
        "Z-Force",
    ]


def test_tutorial005_each_test_is_rolled_back_and_the_app_shares_its_session(
    backend: Backend, database: Database, database_url: str
) -> None:
    root = Path(__file__).parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        + [f"--smp-database-url={database_url}", "docs_src/diagnostics/tutorial005.py"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.stdout.splitlines()[-1].startswith("2 passed"), (
        result.stdout + result.stderr
    )
    existing = sa.inspect(database.engine).get_table_names()
    assert Club.__tablename__ not in existing  # made for the run, dropped after it
