"""Read-your-writes markers: any commit through the package's engines in a request marks its client.

The marker (a cookie and a header) is the same on every backend; where the
marked reads go (the primary, not a replica) is tested on a PostgreSQL primary
and its replica in `tests/faults/test_replicas.py`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel, select

from sqlmodel_production import Database, transaction
from sqlmodel_production.api import (
    AsyncSessionDep,
    ReadYourWritesMiddleware,
    SessionDep,
    crud_router,
    install_error_handlers,
)
from sqlmodel_production.db.internal import WROTE
from tests.conftest import Target


class RywNote(SQLModel, table=True):
    __tablename__ = "ryw_note"
    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=50)


TABLES = [RywNote.__table__]  # type: ignore[attr-defined]
HEADER = "x-primary-until"


def handwritten_app(database: Database, async_: bool) -> FastAPI:
    """Hand-written endpoints over the package's sessions, and the router's, under the middleware."""
    app = FastAPI(lifespan=database.lifespan)
    install_error_handlers(app)
    app.include_router(crud_router(RywNote, prefix="/routed", async_=async_))

    def marked(request: Request) -> bool:
        return bool(request.scope.get(WROTE))

    if async_:

        @app.post("/notes")
        async def create(session: AsyncSessionDep, text: str) -> int:
            note = RywNote(text=text)
            session.add(note)
            await session.commit()
            assert note.id is not None
            return note.id

        @app.post("/notes/transaction")
        async def create_in_transaction(
            session: AsyncSessionDep, text: str, single: bool = False
        ) -> None:
            async for attempt in transaction(session, single_statement=single):
                async with attempt:
                    session.add(RywNote(text=text))

        @app.post("/notes/failed")
        async def fail(session: AsyncSessionDep) -> None:
            session.add(RywNote(text="never"))
            await session.flush()
            raise HTTPException(status_code=409, detail="no")

        @app.get("/notes")
        async def read(session: AsyncSessionDep, request: Request) -> dict[str, Any]:
            rows = (await session.exec(select(RywNote))).all()
            return {"count": len(rows), "marked": marked(request)}

    else:

        @app.post("/notes")
        def create(session: SessionDep, text: str) -> int:
            note = RywNote(text=text)
            session.add(note)
            session.commit()
            assert note.id is not None
            return note.id

        @app.post("/notes/transaction")
        def create_in_transaction(
            session: SessionDep, text: str, single: bool = False
        ) -> None:
            for attempt in transaction(session, single_statement=single):
                with attempt:
                    session.add(RywNote(text=text))

        @app.post("/notes/failed")
        def fail(session: SessionDep) -> None:
            session.add(RywNote(text="never"))
            session.flush()
            raise HTTPException(status_code=409, detail="no")

        @app.get("/notes")
        def read(session: SessionDep, request: Request) -> dict[str, Any]:
            rows = session.exec(select(RywNote)).all()
            return {"count": len(rows), "marked": marked(request)}

    @app.post("/core")
    def core() -> None:  # Core on the package's engine, no session
        with database.engine.begin() as conn:
            conn.execute(sa.insert(RywNote).values(text="core"))

    app.add_middleware(ReadYourWritesMiddleware, window=6)
    return app


@pytest.fixture
def client(database: Database, target: Target) -> Iterator[TestClient]:
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
    try:
        with TestClient(handwritten_app(database, target.async_)) as client:
            yield client
    finally:
        with database.engine.begin() as conn:
            SQLModel.metadata.drop_all(conn, tables=TABLES)


def assert_marks(response: Any) -> None:
    """The response tells its client, by cookie and by header, to read from the primary for a while."""
    assert response.status_code == 200, response.text
    until = float(response.headers[HEADER])
    assert time.time() < until <= time.time() + 6
    assert (
        f"smp_primary_until={response.headers[HEADER]}"
        in response.headers["set-cookie"]
    )


def assert_no_mark(response: Any) -> None:
    assert HEADER not in response.headers
    assert "set-cookie" not in response.headers


def test_a_handwritten_commit_marks_the_client(client: TestClient) -> None:
    assert_marks(client.post("/notes", params={"text": "a"}))


@pytest.mark.parametrize(
    "single", [False, True], ids=["transaction", "single_statement"]
)
def test_a_commit_by_transaction_marks_the_client(
    client: TestClient, single: bool
) -> None:
    assert_marks(
        client.post("/notes/transaction", params={"text": "b", "single": single})
    )
    assert client.get("/notes", headers={HEADER: "0"}).json()["count"] == 1


def test_a_commit_on_the_engine_marks_the_client(client: TestClient) -> None:
    assert_marks(client.post("/core"))


def test_the_routers_writes_mark_the_client(client: TestClient) -> None:
    assert_marks(client.post("/routed/", json={"text": "c"}))


def test_reads_and_rolled_back_writes_do_not_mark(client: TestClient) -> None:
    client.cookies.clear()
    assert_no_mark(client.get("/notes"))
    assert_no_mark(client.get("/routed/"))
    failed = client.post("/notes/failed")
    assert failed.status_code == 409
    assert_no_mark(failed)


def test_the_header_sent_back_marks_the_request_like_the_cookie(
    client: TestClient,
) -> None:
    written = client.post("/notes", params={"text": "d"})
    client.cookies.clear()  # a client without a cookie jar
    assert client.get("/notes").json() == {"count": 1, "marked": False}
    token = written.headers[HEADER]
    assert client.get("/notes", headers={HEADER: token}).json()["marked"] is True
    client.cookies.set("smp_primary_until", token)
    assert client.get("/notes").json()["marked"] is True
    client.cookies.clear()
    # A value out of the window (past, or further ahead than it), or not a time, is ignored.
    for stale in ("1", f"{time.time() + 3600:.3f}", "soon", "nan"):
        assert client.get("/notes", headers={HEADER: stale}).json()["marked"] is False
