"""The contestants, as ASGI app factories for `uvicorn --factory` (and for the smoke test).

Every app reads `DATABASE_URL` and `ENVIRONMENT` from the environment, as
`sqlmodel-production demo` does; the floor (`bench._floor`) reads `DATABASE_URL` only.
"""

from __future__ import annotations

from fastapi import FastAPI

from sqlmodel_production import Database
from sqlmodel_production.demo.app import create_app
from sqlmodel_production.demo.handwritten import create_app as create_handwritten_app

__all__ = ["CONTESTANTS", "Contestant"]


def router_async() -> FastAPI:
    """Our router factory, async endpoints (the `demo` default)."""
    return create_app(Database(), async_=True)


def router_sync() -> FastAPI:
    """Our router factory, sync endpoints (`demo --sync`)."""
    return create_app(Database(), async_=False)


def handwritten_sync() -> FastAPI:
    """The hand-written sync endpoints (`Session`, ORM objects, `response_model`)."""
    return create_handwritten_app(Database(), async_=False)


def handwritten_async() -> FastAPI:
    """The hand-written async endpoints (`AsyncSession`)."""
    return create_handwritten_app(Database(), async_=True)


class Contestant:
    """One app under test: a label and the `module:factory` uvicorn serves."""

    def __init__(self, key: str, label: str, factory: str, *, cursor: bool) -> None:
        self.key = key
        self.label = label
        self.factory = factory
        self.cursor = cursor  # whether it serves keyset pages


CONTESTANTS = [
    Contestant(
        "floor",
        "raw floor (Starlette + asyncpg + orjson)",
        "bench._floor:create_app",
        cursor=True,
    ),
    Contestant(
        "router_async", "router, async", "bench._apps:router_async", cursor=True
    ),
    Contestant("router_sync", "router, sync", "bench._apps:router_sync", cursor=True),
    Contestant(
        "handwritten_async",
        "hand-written, async",
        "bench._apps:handwritten_async",
        cursor=False,
    ),
    Contestant(
        "handwritten_sync",
        "hand-written, sync",
        "bench._apps:handwritten_sync",
        cursor=False,
    ),
]
