"""The benchmark's tables leave the scratch database with the test that loaded them.

`bench._data.load` makes the reference service's tables and the benchmark's own
(`bench_assignment`, whose foreign key to `hero` would keep other tests from
dropping `hero`).
"""

from collections.abc import Iterator

import pytest
from sqlmodel import SQLModel

from bench._data import TABLES
from sqlmodel_production import Database, DatabaseSettings


@pytest.fixture(autouse=True)
def _drop_bench_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    if "database_url" not in request.fixturenames:
        yield
        return
    url = request.getfixturevalue("database_url")  # set up first, so torn down after
    yield
    database = Database(DatabaseSettings(_env_file=None, database_url=url))
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
    database.engine.dispose()
