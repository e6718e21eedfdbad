"""The N+1 detector: a small app with the problem, the detector finding it, the fix clean."""

from __future__ import annotations

import logging
import os

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.orm import selectinload
from sqlmodel import Session, insert, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production import Database
from sqlmodel_production.api import AsyncSessionDep, SessionDep
from sqlmodel_production.diagnostics import (
    AsyncLazyLoadError,
    DiagnosticsMiddleware,
    NPlusOneError,
    NPlusOneWarning,
    RepeatedLoadKind,
    RepeatedQueryWarning,
    detect_n_plus_one,
    record_queries,
)
from tests.conftest import Target

from ._app import DgHero, DgTeam, line_of, seeded
from ._run import run


# The app with the problem, sync and async.
def team_rosters(session: Session) -> dict[str, list[str]]:
    teams = session.exec(select(DgTeam).order_by(DgTeam.id)).all()
    return {team.name: [hero.name for hero in team.heroes] for team in teams}  # lazy


async def team_rosters_async(session: AsyncSession) -> dict[str, list[str]]:
    teams = (await session.exec(select(DgTeam).order_by(DgTeam.id))).all()
    return {team.name: [hero.name for hero in team.heroes] for team in teams}  # lazy


def hero_teams(session: Session) -> list[str | None]:
    heroes = session.exec(select(DgHero).order_by(DgHero.id)).all()
    return [hero.team.name if hero.team else None for hero in heroes]  # lazy


# The fixed app.
def team_rosters_fixed(session: Session) -> dict[str, list[str]]:
    statement = select(DgTeam).order_by(DgTeam.id).options(selectinload(DgTeam.heroes))  # type: ignore[arg-type]
    teams = session.exec(statement).all()
    return {team.name: [hero.name for hero in team.heroes] for team in teams}


async def team_rosters_fixed_async(session: AsyncSession) -> dict[str, list[str]]:
    statement = select(DgTeam).order_by(DgTeam.id).options(selectinload(DgTeam.heroes))  # type: ignore[arg-type]
    teams = (await session.exec(statement)).all()
    return {team.name: [hero.name for hero in team.heroes] for team in teams}


ROSTERS = {f"team {t}": [f"hero {t}.0", f"hero {t}.1"] for t in range(3)}


def assert_names_the_problem(message: str, fn: object, marker: str = "lazy") -> None:
    filename, lineno = line_of(fn, marker)  # type: ignore[arg-type]
    assert "DgTeam.heroes" in message
    assert f"{filename.rpartition('/')[2]}:{lineno} in {fn.__name__}" in message  # type: ignore[attr-defined]
    assert ".options(selectinload(DgTeam.heroes))" in message


def test_lazy_load_loop_is_found(target: Target, database: Database) -> None:
    def sync_fn(session: Session) -> None:
        with pytest.raises(NPlusOneError) as raised, detect_n_plus_one("raise"):
            team_rosters(session)
        assert raised.value.finding.kind is RepeatedLoadKind.LAZY_LOAD
        assert raised.value.finding.subject == "DgTeam.heroes"
        assert str(raised.value).startswith(
            "N+1 queries: DgTeam.heroes was lazy-loaded 2 times from "
        )
        assert_names_the_problem(str(raised.value), team_rosters)

    async def async_fn(session: AsyncSession) -> None:
        # On an AsyncSession the first lazy load already fails: say why and how to fix it.
        with pytest.raises(AsyncLazyLoadError) as raised, detect_n_plus_one("raise"):
            await team_rosters_async(session)
        assert isinstance(raised.value, MissingGreenlet)
        assert str(raised.value).startswith("DgTeam.heroes was lazy-loaded at ")
        assert_names_the_problem(str(raised.value), team_rosters_async)
        # Inside run_sync lazy loads work, and are an N+1 again.
        with pytest.raises(NPlusOneError) as n_plus_one, detect_n_plus_one("raise"):
            await session.run_sync(team_rosters)
        assert_names_the_problem(str(n_plus_one.value), team_rosters)

    with seeded(database):
        run(database, target.async_, sync_fn, async_fn)


def test_fixed_app_is_clean(target: Target, database: Database) -> None:
    def sync_fn(session: Session) -> tuple[object, ...]:
        with detect_n_plus_one("raise") as detector, record_queries() as recording:
            rosters = team_rosters_fixed(session)
        return rosters, detector.findings, recording.count

    async def async_fn(session: AsyncSession) -> tuple[object, ...]:
        with detect_n_plus_one("raise") as detector, record_queries() as recording:
            rosters = await team_rosters_fixed_async(session)
        return rosters, detector.findings, recording.count

    with seeded(database):
        assert run(database, target.async_, sync_fn, async_fn) == (ROSTERS, [], 2)


def test_many_to_one_suggests_joinedload(target: Target, database: Database) -> None:
    def check(session: Session) -> None:
        with pytest.raises(NPlusOneError) as raised, detect_n_plus_one("raise"):
            hero_teams(session)
        assert raised.value.finding.subject == "DgHero.team"
        assert ".options(joinedload(DgHero.team))" in str(raised.value)
        assert str(raised.value.finding.caller.lineno) in str(
            line_of(hero_teams, "lazy")[1]
        )  # type: ignore[union-attr]

    async def async_fn(session: AsyncSession) -> None:
        await session.run_sync(check)

    with seeded(database):
        run(database, target.async_, check, async_fn)


def test_warn_mode_points_at_the_users_line(target: Target, database: Database) -> None:
    def check(session: Session) -> None:
        with (
            pytest.warns(NPlusOneWarning) as caught,
            detect_n_plus_one("warn") as detector,
        ):
            assert team_rosters(session) == ROSTERS
        assert [f.count for f in detector.n_plus_one] == [3]
        assert (caught[0].filename, caught[0].lineno) == line_of(team_rosters, "lazy")
        assert_names_the_problem(str(caught[0].message), team_rosters)

    async def async_fn(session: AsyncSession) -> None:
        await session.run_sync(check)

    with seeded(database):
        run(database, target.async_, check, async_fn)


def test_log_mode(
    target: Target, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    def check(session: Session) -> None:
        with detect_n_plus_one("log"):
            assert team_rosters(session) == ROSTERS

    async def async_fn(session: AsyncSession) -> None:
        await session.run_sync(check)

    caplog.set_level(logging.WARNING, logger="sqlmodel_production.diagnostics")
    with seeded(database):
        run(database, target.async_, check, async_fn)
    [record] = caplog.records
    assert record.finding.count == 3
    assert_names_the_problem(record.getMessage(), team_rosters)


def insert_heroes(session: Session) -> None:
    for i in range(3):
        session.add(DgHero(name=f"added {i}"))
        session.flush()
    for i in range(3):
        session.exec(insert(DgHero).values(name=f"inserted {i}"))
    session.add_all([DgHero(name=f"batched {i}") for i in range(3)])
    session.commit()


def test_no_false_alarm_on_inserts(target: Target, database: Database) -> None:
    def check(session: Session) -> None:
        with detect_n_plus_one("raise") as detector:
            insert_heroes(session)
        assert detector.findings == []

    async def async_fn(session: AsyncSession) -> None:
        await session.run_sync(check)

    with seeded(database):
        run(database, target.async_, check, async_fn)


def heroes_by_id(session: Session) -> list[str]:
    return [session.get(DgHero, i).name for i in (1, 2, 3)]  # type: ignore[union-attr]  # get


async def heroes_by_id_async(session: AsyncSession) -> list[str]:
    return [(await session.get(DgHero, i)).name for i in (1, 2, 3)]  # type: ignore[union-attr]  # get


def test_session_get_loop_is_a_softer_finding(
    target: Target, database: Database
) -> None:
    def check(detector, caught, fn) -> None:  # type: ignore[no-untyped-def]
        [finding] = detector.findings
        assert (finding.kind, finding.subject, finding.count) == (
            RepeatedLoadKind.REPEATED_GET,
            "DgHero",
            3,
        )
        assert detector.n_plus_one == []
        assert (caught[0].filename, caught[0].lineno) == line_of(fn, "get")
        assert str(caught[0].message).startswith(
            "Repeated query: session.get(DgHero, ...) ran 3 times from "
        )
        assert "select(DgHero).where(DgHero.id.in_(ids))" in str(caught[0].message)

    def sync_fn(session: Session) -> None:
        with (
            pytest.warns(RepeatedQueryWarning) as caught,
            detect_n_plus_one("raise") as detector,
        ):
            heroes_by_id(session)
        check(detector, caught, heroes_by_id)

    async def async_fn(session: AsyncSession) -> None:
        with (
            pytest.warns(RepeatedQueryWarning) as caught,
            detect_n_plus_one("raise") as detector,
        ):
            await heroes_by_id_async(session)
        check(detector, caught, heroes_by_id_async)

    with seeded(database):
        run(database, target.async_, sync_fn, async_fn)


def hero_name(session: Session, hero_id: int) -> str:
    return session.get(DgHero, hero_id).name  # type: ignore[union-attr]  # helper


def two_hero_names(session: Session) -> list[str]:
    return [hero_name(session, 1), hero_name(session, 2)]


def test_repeated_get_in_a_loop_raises_when_counted(
    target: Target, database: Database
) -> None:
    def sync_fn(session: Session) -> str:
        # Two calls of a helper are not a loop: a softer finding, warned about.
        with (
            pytest.warns(RepeatedQueryWarning, match="in hero_name"),
            detect_n_plus_one("raise", repeated_queries=True),
        ):
            assert two_hero_names(session) == ["hero 0.0", "hero 0.1"]
            with pytest.raises(NPlusOneError) as raised:
                heroes_by_id(session)
        return str(raised.value)

    async def async_fn(session: AsyncSession) -> str:
        with (
            pytest.warns(RepeatedQueryWarning, match="in hero_name"),
            detect_n_plus_one("raise", repeated_queries=True),
        ):
            await session.run_sync(two_hero_names)
            with pytest.raises(NPlusOneError) as raised:
                await heroes_by_id_async(session)
        return str(raised.value)

    with seeded(database):
        message = run(database, target.async_, sync_fn, async_fn)
    fn = heroes_by_id_async if target.async_ else heroes_by_id
    file, line = line_of(fn, "get")
    assert message.startswith(
        "N+1 queries: session.get(DgHero, ...) ran 2 times in a loop from "
    ), message
    assert f"{os.path.relpath(file)}:{line} in " in message
    assert message.endswith("select(DgHero).where(DgHero.id.in_(ids)).")


def make_app(database: Database) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.add_middleware(DiagnosticsMiddleware, n_plus_one="raise")

    @app.get("/sync/rosters")
    def sync_rosters(session: SessionDep) -> dict[str, list[str]]:
        return team_rosters(session)

    @app.get("/sync/rosters-fixed")
    def sync_rosters_fixed(session: SessionDep) -> dict[str, list[str]]:
        return team_rosters_fixed(session)

    @app.get("/async/rosters")
    async def async_rosters(session: AsyncSessionDep) -> dict[str, list[str]]:
        return await team_rosters_async(session)

    @app.get("/async/rosters-fixed")
    async def async_rosters_fixed(session: AsyncSessionDep) -> dict[str, list[str]]:
        return await team_rosters_fixed_async(session)

    return app


def test_middleware_finds_n_plus_one_per_request(
    target: Target, database: Database
) -> None:
    prefix = "/async" if target.async_ else "/sync"
    error = AsyncLazyLoadError if target.async_ else NPlusOneError
    with seeded(database), TestClient(make_app(database)) as client:
        for _ in range(2):  # a request's loads never count towards the next one's
            response = client.get(f"{prefix}/rosters-fixed")
            assert (response.status_code, response.json()) == (200, ROSTERS)
        with pytest.raises(error) as raised:
            client.get(f"{prefix}/rosters")
    assert_names_the_problem(
        str(raised.value), team_rosters_async if target.async_ else team_rosters
    )


def test_the_former_names_of_a_repeated_load_still_import() -> None:
    from sqlmodel_production import diagnostics

    with pytest.warns(DeprecationWarning, match="Finding is renamed RepeatedLoad"):
        assert diagnostics.Finding is diagnostics.RepeatedLoad
    with pytest.warns(
        DeprecationWarning, match="FindingKind is renamed RepeatedLoadKind"
    ):
        assert diagnostics.FindingKind is diagnostics.RepeatedLoadKind
