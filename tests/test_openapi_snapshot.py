"""The OpenAPI documents the routers generate, byte for byte, against a stored copy.

A change of the routers' inside must not change what clients see, and sync and
async routers document the same API. Where a change of the document is meant,
regenerate the copies and review their diff:
`SMP_UPDATE_OPENAPI=1 .venv/bin/python -m pytest tests/test_openapi_snapshot.py`.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import APIRouter, Depends, FastAPI

from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.api import crud_router

STORED = Path(__file__).parent / "openapi"


def _demo(async_: bool) -> FastAPI:
    from sqlmodel_production.demo.app import create_app

    database = Database(DatabaseSettings(_env_file=None, database_url="sqlite://"))  # type: ignore[call-arg]
    return create_app(database, async_=async_)


def _options(async_: bool) -> list[APIRouter]:
    """The options no other app here sets."""
    from tests.api.test_router import RtDoc, RtItem, require_token

    return [
        crud_router(
            RtItem,
            prefix="/items",
            async_=async_,
            name="Thing",
            tags=["things"],
            search=["name", "note"],
            order_by=["name", "rank"],
            default_order=["-rank"],
            filters={"rank": ("lt", "ge", "is_null")},
            max_limit=20,
            created_status=201,
            deleted_status=204,
            route_dependencies={"delete": [Depends(require_token)]},
            exclude=["bulk"],
        ),
        crud_router(
            RtDoc,
            prefix="/docs",
            async_=async_,
            require_if_match=True,
            dependencies=[Depends(require_token)],
            max_body_size=1024,
        ),
    ]


def _routers_of(module: str) -> Callable[[bool], list[APIRouter]]:
    """The `routers(async_)` of a test module that serves them."""
    return importlib.import_module(f"tests.api.{module}").routers  # type: ignore[no-any-return]


def _app(routers: Callable[[bool], list[APIRouter]]) -> Callable[[bool], FastAPI]:
    def build(async_: bool) -> FastAPI:
        app = FastAPI()
        for router in routers(async_):
            app.include_router(router)
        return app

    return build


APPS: dict[str, Callable[[bool], FastAPI]] = {
    "demo": _demo,
    "column-types": _app(_routers_of("test_column_types")),
    "scoped": _app(_routers_of("test_scope")),
    "options": _app(_options),
}


@pytest.mark.parametrize("async_", [True, False], ids=["async", "sync"])
@pytest.mark.parametrize("name", APPS)
def test_openapi_is_unchanged(name: str, async_: bool) -> None:
    document = json.dumps(APPS[name](async_).openapi(), indent=1, sort_keys=True) + "\n"
    stored = STORED / f"{name}.json"
    if os.environ.get("SMP_UPDATE_OPENAPI") == "1":
        stored.write_text(document)
    assert stored.exists(), f"no stored copy: run with SMP_UPDATE_OPENAPI=1 ({stored})"
    assert document == stored.read_text()
