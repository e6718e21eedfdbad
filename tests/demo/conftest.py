from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import SQLModel

from sqlmodel_production import Database
from sqlmodel_production.demo import models
from sqlmodel_production.demo.app import create_app
from sqlmodel_production.demo.handwritten import create_app as create_handwritten_app
from tests.conftest import Target

TABLES = [
    models.Team.__table__,
    models.Hero.__table__,
    models.Mission.__table__,
    models.HeroMissionLink.__table__,
]


def create_tables(database: Database) -> None:
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)


def drop_tables(database: Database) -> None:
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
    asyncio.run(database.dispose())


FLAVORS = {"factory": create_app, "handwritten": create_handwritten_app}


@pytest.fixture(params=list(FLAVORS))
def flavor(request: pytest.FixtureRequest) -> str:
    """The router-built service or the hand-written one: both must pass the same contract."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def client(target: Target, database: Database, flavor: str) -> Iterator[TestClient]:
    """The reference service on the target backend, sync or async endpoints to match the driver."""
    create_tables(database)
    app = FLAVORS[flavor](database, async_=target.async_)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        drop_tables(database)
