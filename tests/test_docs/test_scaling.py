"""docs/scaling.md: an app behind PgBouncer with a read replica, and read-only sessions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from docs_src.scaling import tutorial001, tutorial002, tutorial003
from sqlmodel_production import Backend, Database, DatabaseSettings
from tests._topology import at_port, require
from tests.test_docs._helpers import tables

pytestmark = pytest.mark.only(Backend.POSTGRESQL)


@pytest.fixture
def scaled(backend: Backend, database_url: str) -> Iterator[Database]:
    """The tutorial's settings: the primary through PgBouncer, the replica beside it."""
    require("pgbouncer")
    require("replica")
    direct = Database(DatabaseSettings(_env_file=None, database_url=database_url))  # type: ignore[call-arg]
    database = Database(
        DatabaseSettings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=at_port(database_url, 6432),
            database_pooler="pgbouncer",
            database_replica_urls=[at_port(database_url, 5433)],
            replica_max_lag=3600,
        )
    )
    with tables(direct, tutorial001.Note):
        yield database
        asyncio.run(database.dispose())
    asyncio.run(direct.dispose())


def test_the_app_writes_through_pgbouncer_and_reads_its_writes(
    scaled: Database,
) -> None:
    with TestClient(tutorial001.create_app(scaled)) as client:
        created = client.post("/notes/", json={"text": "hello"})
        assert created.status_code == 200, created.text
        assert "smp_primary_until" in created.headers["set-cookie"]
        assert client.get(f"/notes/{created.json()['id']}").json() == created.json()


def test_read_only_sessions_count_on_a_replica(scaled: Database) -> None:
    with TestClient(tutorial001.create_app(scaled)) as client:
        for text in ("a", "b"):
            client.post("/notes/", json={"text": text})
    for _ in range(200):  # the replica replays the two inserts
        if tutorial002.count_notes(scaled) == 2:
            break
    assert tutorial002.count_notes(scaled) == 2

    async def count_async() -> int:
        try:
            return await tutorial002.count_notes_async(scaled)
        finally:
            # Async connections belong to this event loop: close them before it ends.
            await scaled.dispose()

    assert asyncio.run(count_async()) == 2


def test_a_handwritten_commit_marks_a_client_without_cookies(scaled: Database) -> None:
    with TestClient(tutorial003.create_app(scaled)) as client:
        created = client.post("/drafts", params={"text": "mine"})
        assert created.status_code == 200, created.text
        token = created.headers["X-Primary-Until"]
        client.cookies.clear()  # a client without a cookie jar sends the header back
        read = client.get(
            f"/drafts/{created.json()['id']}", headers={"X-Primary-Until": token}
        )
        assert read.json() == created.json()
        assert "x-primary-until" not in read.headers  # a read marks nothing
