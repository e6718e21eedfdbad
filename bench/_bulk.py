"""Bulk inserts: `create_many` (psycopg and asyncpg) vs a commit per row vs PostgreSQL `COPY`, in rows per second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import psycopg

from bench._data import _conninfo, hero_row
from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.crud import AsyncRepository, Repository
from sqlmodel_production.demo.app import hero_schemas
from sqlmodel_production.demo.models import Hero

__all__ = ["run_bulk"]

COLUMNS = ("name", "age", "team_id", "secret_name")


def _rows(n: int) -> list[dict[str, object]]:
    return [dict(zip(COLUMNS, hero_row(i), strict=True)) for i in range(1, n + 1)]


def _truncate(url: str) -> None:
    """Empty `hero`, then checkpoint, so no method pays for writing out the previous one's pages."""
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute("TRUNCATE hero RESTART IDENTITY CASCADE")
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            pass  # neither superuser nor pg_checkpoint: the rounds still alternate


def _timed(
    url: str, n: int, insert: Callable[[list[dict[str, object]]], None]
) -> dict[str, float]:
    _truncate(url)
    rows = _rows(n)
    start = time.perf_counter()
    insert(rows)
    seconds = time.perf_counter() - start
    with psycopg.connect(_conninfo(url)) as conn:
        (count,) = conn.execute("SELECT count(*) FROM hero").fetchone()  # type: ignore[misc]
    if count != n:
        raise AssertionError(f"expected {n} rows, found {count}")
    return {"rows": n, "seconds": seconds, "rows_per_s": n / seconds}


def run_bulk(
    url: str, *, rows: int, per_row: int, rounds: int = 3
) -> dict[str, dict[str, Any]]:
    """Time the three ways on the `hero` table (emptied before each; reload the data after).

    Each way runs once per round, in alternating order so drift hits all alike;
    a way's cell is its median round, with every round's rows per second in `rounds`.
    """
    database = Database(
        DatabaseSettings(_env_file=None, database_url=url, environment="production")
    )  # type: ignore[call-arg]
    repository = Repository(Hero, public=hero_schemas.Public)
    async_repository = AsyncRepository(repository)

    def create_many(rows: list[dict[str, object]]) -> None:
        with database.session() as session:
            repository.create_many(session, rows)
            session.commit()

    def create_many_async(rows: list[dict[str, object]]) -> None:
        async def insert() -> None:
            try:
                async with database.async_session() as session:
                    await async_repository.create_many(session, rows)
                    await session.commit()
            finally:
                await (
                    database.async_engine.dispose()
                )  # its connections belong to this loop

        asyncio.run(insert())

    def commit_per_row(rows: list[dict[str, object]]) -> None:
        # The hand-written create endpoint, in a loop: validate, add, commit, refresh.
        with database.session() as session:
            for row in rows:
                hero = Hero.model_validate(row)
                session.add(hero)
                session.commit()
                session.refresh(hero)

    def copy(rows: list[dict[str, object]]) -> None:
        with psycopg.connect(_conninfo(url)) as conn, conn.cursor() as cur:
            with cur.copy(f"COPY hero ({', '.join(COLUMNS)}) FROM STDIN") as out:
                for row in rows:
                    out.write_row(tuple(row.values()))

    ways = {
        "copy": (rows, copy),
        "create_many": (rows, create_many),
        "create_many_async": (rows, create_many_async),
        "commit_per_row": (per_row, commit_per_row),
    }
    runs: dict[str, list[dict[str, float]]] = {key: [] for key in ways}
    try:
        for round_ in range(rounds):
            for key in list(ways) if round_ % 2 == 0 else list(ways)[::-1]:
                n, insert = ways[key]
                runs[key].append(_timed(url, n, insert))
    finally:
        database.engine.dispose()
    return {key: _median(cells) for key, cells in runs.items()}


def _median(cells: list[dict[str, float]]) -> dict[str, Any]:
    """The round with the median rows per second (the lower middle of an even count)."""
    ordered = sorted(cells, key=lambda cell: cell["rows_per_s"])
    middle = ordered[(len(ordered) - 1) // 2]
    return middle | {"rounds": [round(cell["rows_per_s"]) for cell in cells]}
