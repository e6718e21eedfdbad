"""Health endpoints: `/health/live` and `/health/ready`, mountable by one call."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from sqlmodel_production._compat import greenlet_spawn
from sqlmodel_production.db.internal import connection_failed

if TYPE_CHECKING:
    from fastapi import APIRouter, params

    from sqlmodel_production.db import Database

__all__ = ["health_router"]


def health_router(
    database: Database,
    *,
    deadline: float = 2.0,
    retry_after: int = 5,
    async_: bool = True,
    prefix: str = "/health",
    details: Sequence[params.Depends] | None = None,
) -> APIRouter:
    """A router with a liveness and a readiness probe.

    `GET /health/live` answers 200 while the process runs, without touching the
    database (a restart does not fix a database outage). `GET /health/ready`
    answers 200 when the database answers `SELECT 1` within `deadline`
    seconds, else 503 with `Retry-After`, so a load balancer stops sending
    traffic until it recovers. A pooled connection that the server closed is
    dropped and the probe tries once more on a new one: a database that is up
    is reported ready. Readiness is the primary's, since reads fall back to it,
    and its answer says no more than that (it is public: whatever reaches the
    port can read it).

    With `details`, `GET /health/details` answers the same status with each
    read replica (`DATABASE_REPLICA_URLS`): its URL without the password,
    whether it serves reads (`usable`), its `lag` in seconds measured against
    the primary, whether it is `streaming` from the primary and its
    `replay_paused`, and the `error` saying why it serves no reads; only for
    requests that pass those dependencies (an admin check, a token).

    Args:
        database: the database to probe.
        deadline: seconds the database has to answer.
        retry_after: the `Retry-After` value of a 503, in seconds.
        async_: probe through the async engine (else the sync one, in a thread).
        prefix: where to mount the paths.
        details: the dependencies of `GET /health/details`; None: no such endpoint.

    Example:
        ```python
        app.include_router(health_router(database, details=[Depends(require_admin)]))
        ```
    """
    from fastapi import APIRouter
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    router = APIRouter(prefix=prefix, tags=["health"])

    async def ping_once() -> None:
        if async_:
            async with database.async_engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        else:
            await run_in_threadpool(_ping_sync, database)

    async def ping() -> None:
        try:
            await ping_once()
        except Exception as exc:
            if not connection_failed(exc):
                raise
            await ping_once()  # the pool dropped the dead connection: try a new one

    @router.get("/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    async def status() -> tuple[dict[str, Any], int]:
        try:
            await asyncio.wait_for(ping(), timeout=deadline)
        except Exception as exc:  # any failure means "not ready"; never a 500
            reason = "timeout" if isinstance(exc, TimeoutError) else "unavailable"
            return {"status": "unavailable", "database": reason}, 503
        return {"status": "ok", "database": "ok"}, 200

    def answer(body: dict[str, Any], status_code: int) -> Any:
        if status_code == 200:
            return body
        headers = {"Retry-After": str(retry_after)}
        return JSONResponse(body, status_code=status_code, headers=headers)

    unavailable: dict[int | str, dict[str, Any]] = {
        503: {"description": "The database did not answer in time"}
    }

    @router.get("/ready", responses=unavailable)
    async def ready() -> Any:
        return answer(*await status())

    if details is not None:

        @router.get("/details", responses=unavailable, dependencies=list(details))
        async def ready_in_detail() -> Any:
            replicas = await replica_nodes()
            body, status_code = await status()
            return answer({**body, **replicas}, status_code)

    async def replica_nodes() -> dict[str, Any]:
        """Each replica's state (readiness is the primary's: reads fall back to it)."""
        nodes = database.async_replicas if async_ else database.replicas
        if not len(nodes):
            return {}

        def check_all() -> list[dict[str, Any]]:
            return [asdict(nodes.check(index)) for index in range(len(nodes))]

        try:
            found = await asyncio.wait_for(
                greenlet_spawn(check_all) if async_ else run_in_threadpool(check_all),
                timeout=deadline,
            )
        except TimeoutError:
            found = [asdict(node) for node in nodes.nodes]
        for node in found:
            del node["checked_at"]
        return {"replicas": found}

    return router


def _ping_sync(database: Database) -> None:
    with database.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
