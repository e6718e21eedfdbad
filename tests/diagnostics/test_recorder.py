"""The query recorder on the real databases, sync and async."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sqlmodel_production import Database, crud_router, install_error_handlers
from sqlmodel_production.api import AsyncSessionDep, SessionDep
from sqlmodel_production.diagnostics import (
    DiagnosticsMiddleware,
    QueryRecording,
    log_slow_queries,
    record_queries,
)
from tests.conftest import Target

from ._app import DgHero, DgTeam, line_of, seeded
from ._run import run


def heroes_one_by_one(session: Session) -> None:
    for hero_id in (1, 2, 3):
        session.exec(select(DgHero).where(DgHero.id == hero_id)).all()  # query


async def heroes_one_by_one_async(session: AsyncSession) -> None:
    for hero_id in (1, 2, 3):
        (await session.exec(select(DgHero).where(DgHero.id == hero_id))).all()  # query


def test_counts_times_fingerprints_and_finds_the_caller(
    target: Target, database: Database
) -> None:
    def sync_fn(session: Session) -> None:
        with record_queries() as recording:
            heroes_one_by_one(session)
        check(recording, heroes_one_by_one)

    async def async_fn(session: AsyncSession) -> None:
        with record_queries() as recording:
            await heroes_one_by_one_async(session)
        check(recording, heroes_one_by_one_async)

    def check(recording, fn) -> None:  # type: ignore[no-untyped-def]
        assert recording.count == 3, recording.report()
        assert len(recording.fingerprints()) == 1
        assert "dghero" in next(iter(recording.fingerprints())).lower()
        assert recording.duration > 0
        filename, lineno = line_of(fn, "query")
        assert {(q.caller.filename, q.caller.lineno) for q in recording} == {
            (filename, lineno)
        }
        assert all(q.caller.function == fn.__name__ for q in recording)

    with seeded(database):
        run(database, target.async_, sync_fn, async_fn)


def test_nested_blocks_and_nothing_outside(target: Target, database: Database) -> None:
    def sync_fn(session: Session) -> tuple[int, int]:
        session.exec(select(DgTeam)).all()
        with record_queries() as outer:
            session.exec(select(DgTeam)).all()
            with record_queries() as inner:
                session.exec(select(DgHero)).all()
        session.exec(select(DgTeam)).all()
        return outer.count, inner.count

    async def async_fn(session: AsyncSession) -> tuple[int, int]:
        await session.exec(select(DgTeam))
        with record_queries() as outer:
            await session.exec(select(DgTeam))
            with record_queries() as inner:
                await session.exec(select(DgHero))
        await session.exec(select(DgTeam))
        return outer.count, inner.count

    with seeded(database):
        assert run(database, target.async_, sync_fn, async_fn) == (2, 1)


def test_concurrent_scopes_never_see_each_other(
    target: Target, database: Database
) -> None:
    def sync_worker(n: int) -> int:
        with database.session() as session, record_queries() as recording:
            for _ in range(n):
                session.exec(select(DgTeam)).all()
        return recording.count

    async def async_worker(n: int) -> int:
        async with database.async_session() as session:
            with record_queries() as recording:
                for _ in range(n):
                    await session.exec(select(DgTeam))
                    await asyncio.sleep(0)
        return recording.count

    async def async_main() -> list[int]:
        try:
            return list(await asyncio.gather(*(async_worker(n) for n in (1, 2, 3, 4))))
        finally:
            await database.dispose()

    with seeded(database):
        if target.async_:
            counts = asyncio.run(async_main())
        else:
            with ThreadPoolExecutor(4) as pool:
                counts = list(pool.map(sync_worker, (1, 2, 3, 4)))
    assert counts == [1, 2, 3, 4]


def make_app(database: Database, *, server_timing: bool) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.add_middleware(DiagnosticsMiddleware, server_timing=server_timing)

    @app.get("/sync/teams")
    def sync_teams(session: SessionDep, request: Request) -> dict[str, int]:
        teams = session.exec(select(DgTeam)).all()
        total = session.exec(select(func.count(col(DgHero.id)))).one()
        return {
            "teams": len(teams),
            "heroes": total,
            "queries": request.state.queries.count,
        }

    @app.get("/async/teams")
    async def async_teams(session: AsyncSessionDep, request: Request) -> dict[str, int]:
        teams = (await session.exec(select(DgTeam))).all()
        total = (await session.exec(select(func.count(col(DgHero.id))))).one()
        return {
            "teams": len(teams),
            "heroes": total,
            "queries": request.state.queries.count,
        }

    return app


@pytest.mark.parametrize("server_timing", [True, False], ids=["timing", "no-timing"])
def test_middleware_records_per_request(
    target: Target, database: Database, server_timing: bool
) -> None:
    path = "/async/teams" if target.async_ else "/sync/teams"
    with seeded(database):
        with TestClient(make_app(database, server_timing=server_timing)) as client:
            responses = [client.get(path) for _ in range(2)]
    for response in responses:
        assert response.status_code == 200
        assert response.json() == {"teams": 3, "heroes": 6, "queries": 2}
        if server_timing:
            name, dur, desc = response.headers["server-timing"].split(";")
            assert (name, desc) == ("db", 'desc="2 queries"')
            assert float(dur.removeprefix("dur=")) > 0
        else:
            assert "server-timing" not in response.headers


def test_slow_query_log(
    target: Target, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    engine = database.async_engine if target.async_ else database.engine
    remove_fast = log_slow_queries(engine, threshold=3600)
    remove_all = log_slow_queries(engine, threshold=0)
    caplog.set_level(logging.WARNING, logger="sqlmodel_production.diagnostics")
    try:
        with seeded(database):
            run(database, target.async_, heroes_one_by_one, heroes_one_by_one_async)
    finally:
        remove_fast()
        remove_all()
    fn = heroes_one_by_one_async if target.async_ else heroes_one_by_one
    filename, lineno = line_of(fn, "query")
    records = [
        r
        for r in caplog.records
        if r.caller and r.caller.function == fn.__name__ and "SELECT" in r.fingerprint
    ]
    assert len(records) == 3
    for record in records:
        assert record.getMessage().startswith("slow query (")
        assert f"at {record.caller}: SELECT" in record.getMessage()
        assert (record.caller.filename, record.caller.lineno) == (filename, lineno)
        assert "dghero" in record.fingerprint.lower()
        assert "?" in record.fingerprint and "= 1" not in record.fingerprint


class DgTag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)


@contextmanager
def tags_table(database: Database) -> Iterator[None]:
    table = DgTag.__table__  # type: ignore[attr-defined]
    with database.engine.begin() as conn:
        table.create(conn)
    try:
        yield
    finally:
        with database.engine.begin() as conn:
            table.drop(conn)


def add_tag(session: Session) -> None:
    session.add(DgTag(name="duplicate"))
    session.commit()


async def add_tag_async(session: AsyncSession) -> None:
    session.add(DgTag(name="duplicate"))
    await session.commit()


def test_a_failed_statement_is_recorded(target: Target, database: Database) -> None:
    def sync_fn(session: Session) -> QueryRecording:
        add_tag(session)
        with record_queries() as recording, pytest.raises(IntegrityError):
            add_tag(session)
        return recording

    async def async_fn(session: AsyncSession) -> QueryRecording:
        await add_tag_async(session)
        with record_queries() as recording, pytest.raises(IntegrityError):
            await add_tag_async(session)
        return recording

    with tags_table(database):
        recording = run(database, target.async_, sync_fn, async_fn)
    assert recording.count == 1, recording.report()
    (query,) = recording
    assert query.statement.startswith("INSERT INTO dgtag")
    assert query.duration == 0.0
    fn = add_tag_async if target.async_ else add_tag
    assert query.caller is not None and query.caller.function == fn.__name__


def test_server_timing_counts_the_insert_of_a_409(
    target: Target, database: Database
) -> None:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(crud_router(DgTag, prefix="/tags", async_=target.async_))
    install_error_handlers(app)
    app.add_middleware(DiagnosticsMiddleware, server_timing=True)
    with tags_table(database), TestClient(app) as client:
        created = client.post("/tags/", json={"name": "duplicate"})
        refused = client.post("/tags/", json={"name": "duplicate"})
    assert (created.status_code, refused.status_code) == (200, 409), refused.text
    assert created.headers["server-timing"].endswith(';desc="1 query"')
    assert refused.headers["server-timing"] == 'db;dur=0.000;desc="1 query"'
