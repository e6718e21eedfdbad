"""The raw floor: Starlette + an asyncpg pool + orjson, no ORM, no validation.

It sends the statements our router sends (minus the transaction and pool
chatter) and answers the same bytes, so the gap between it and a contestant is
the cost of the stack, not of different work.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HERO = "name, age, team_id, id"
TEAM = "name, headquarters, id"
GET_HERO = f"SELECT {HERO} FROM hero WHERE id = $1"
GET_TEAM = f"SELECT {TEAM} FROM team WHERE id = $1"
TEAM_HEROES = f"SELECT {HERO} FROM hero WHERE team_id = $1"
PAGE = f"SELECT {HERO} FROM hero ORDER BY id LIMIT $1 OFFSET $2"
PAGE_AFTER = f"SELECT {HERO} FROM hero WHERE id > $1 ORDER BY id LIMIT $2"
CREATE = (
    "INSERT INTO hero (name, age, team_id, secret_name) VALUES ($1, $2, $3, $4) "
    f"RETURNING {HERO}"
)
PATCHABLE = ("name", "age", "team_id", "secret_name")
# The router's cursor: base64url(JSON [signature of the order, last id]).
_SIGNATURE = base64.urlsafe_b64encode(
    hashlib.blake2s(b"v1:hero.id", digest_size=6).digest()
).decode()


def _json(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(content), status_code, headers, "application/json")


def _not_found(what: str) -> Response:
    return _json({"detail": f"{what} not found"}, 404)


def encode_cursor(last_id: int) -> str:
    text = orjson.dumps([_SIGNATURE, last_id])
    return base64.urlsafe_b64encode(text).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    return int(orjson.loads(raw)[1])


async def read_hero(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as connection:
        hero = await connection.fetchrow(GET_HERO, int(request.path_params["id"]))
        if hero is None:
            return _not_found("Hero")
        team = None
        if hero["team_id"] is not None:
            team = dict(await connection.fetchrow(GET_TEAM, hero["team_id"]))
    return _json({**hero, "team": team})


async def read_heroes(request: Request) -> Response:
    params = request.query_params
    limit = int(params.get("limit", 100))
    cursor = params.get("cursor")
    pool: asyncpg.Pool = request.app.state.pool
    if cursor is not None:
        rows = await pool.fetch(PAGE_AFTER, decode_cursor(cursor), limit + 1)
    else:
        rows = await pool.fetch(PAGE, limit + 1, int(params.get("offset", 0)))
    headers = {}
    if len(rows) > limit:
        rows.pop()
        headers["X-Next-Cursor"] = encode_cursor(rows[-1]["id"])
    return _json([dict(row) for row in rows], headers=headers)


async def create_hero(request: Request) -> Response:
    body = orjson.loads(await request.body())
    row = await request.app.state.pool.fetchrow(
        CREATE, body["name"], body.get("age"), body.get("team_id"), body["secret_name"]
    )
    return _json(dict(row))


async def update_hero(request: Request) -> Response:
    body = orjson.loads(await request.body())
    keys = [key for key in PATCHABLE if key in body]
    sets = ", ".join(f"{key} = ${n}" for n, key in enumerate(keys, 2))
    statement = f"UPDATE hero SET {sets} WHERE id = $1 RETURNING {HERO}"
    row = await request.app.state.pool.fetchrow(
        statement, int(request.path_params["id"]), *(body[key] for key in keys)
    )
    return _not_found("Hero") if row is None else _json(dict(row))


async def read_team(request: Request) -> Response:
    team_id = int(request.path_params["id"])
    async with request.app.state.pool.acquire() as connection:
        team = await connection.fetchrow(GET_TEAM, team_id)
        if team is None:
            return _not_found("Team")
        heroes = await connection.fetch(TEAM_HEROES, team_id)
    return _json({**team, "heroes": [dict(hero) for hero in heroes]})


def create_app() -> Starlette:
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Behind PgBouncer in transaction mode no statement may outlive its transaction.
        pooled = os.environ.get("DATABASE_POOLER") == "pgbouncer"
        app.state.pool = await asyncpg.create_pool(
            url, min_size=5, max_size=15, statement_cache_size=0 if pooled else 100
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    return Starlette(
        routes=[
            Route("/heroes/", read_heroes, methods=["GET"]),
            Route("/heroes/", create_hero, methods=["POST"]),
            Route("/heroes/{id:int}", read_hero, methods=["GET"]),
            Route("/heroes/{id:int}", update_hero, methods=["PATCH"]),
            Route("/teams/{id:int}", read_team, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
