"""`transaction()` on a session that already did something: reads are joined, writes refused clearly."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Field, SQLModel, select

from sqlmodel_production import Database
from sqlmodel_production.db import Backend, transaction
from sqlmodel_production.diagnostics import explain_error
from tests.conftest import Target


class TjUser(SQLModel, table=True):
    __tablename__ = "tj_user"
    id: int = Field(primary_key=True)
    name: str = Field(max_length=20)


class TjNote(SQLModel, table=True):
    __tablename__ = "tj_note"
    id: int = Field(primary_key=True)
    author_id: int
    text: str = Field(max_length=20)


TABLES = [TjUser.__table__, TjNote.__table__]  # type: ignore[attr-defined]


@pytest.fixture
def tables(database: Database) -> Iterator[Database]:
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
        conn.execute(sa.insert(TjUser), [{"id": 1, "name": "ada"}])
    yield database
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)


def notes(database: Database) -> list[tuple[int, str]]:
    with database.engine.connect() as conn:
        query = sa.select(TjNote.id, TjNote.text).order_by(TjNote.id)
        return [tuple(r) for r in conn.execute(query)]  # type: ignore[arg-type, misc]


def test_a_read_before_the_loop_is_joined_and_stays_loaded(
    target: Target, tables: Database
) -> None:
    """An auth dependency loaded the user through the request's session, then the endpoint writes."""
    if not target.async_:
        with tables.session() as session:
            user = session.exec(select(TjUser)).one()  # the dependency's read
            for attempt in transaction(session):
                with attempt:
                    session.add(TjNote(id=1, author_id=user.id, text="hi"))
            assert "name" in user.__dict__  # not expired by ending the read
            assert user.name == "ada"
    else:

        async def main() -> None:
            try:
                async with tables.async_session() as session:
                    user = (await session.exec(select(TjUser))).one()
                    async for attempt in transaction(session):
                        async with attempt:
                            session.add(TjNote(id=1, author_id=user.id, text="hi"))
                    assert (
                        user.name == "ada"
                    )  # a lazy refresh would raise MissingGreenlet
            finally:
                await tables.async_engine.dispose()

        asyncio.run(main())
    assert notes(tables) == [(1, "hi")]


@pytest.mark.parametrize("how", ["added", "changed", "flushed", "orm-update"])
def test_writes_before_the_loop_are_refused_with_the_way_out(
    target: Target, tables: Database, how: str
) -> None:
    def write(session: Any) -> Any:
        if how == "added":
            session.add(TjNote(id=9, author_id=1, text="early"))
        elif how == "changed":
            session.get(TjUser, 1).name = "bob"
        elif how == "flushed":
            session.add(TjNote(id=9, author_id=1, text="early"))
            session.flush()
        else:
            session.execute(sa.update(TjUser).values(name="bob"))

    message = "writes in progress .* Commit them first"
    if not target.async_:
        with tables.session() as session:
            write(session)
            with pytest.raises(sa.exc.InvalidRequestError, match=message) as caught:
                for attempt in transaction(session):
                    with attempt:
                        session.add(TjNote(id=1, author_id=1, text="hi"))
        [explained] = explain_error(str(caught.value))  # `sqlmodel-production explain`
        assert explained.key == "transaction-after-writes"
    else:

        async def main() -> None:
            try:
                async with tables.async_session() as session:
                    await session.run_sync(write)
                    with pytest.raises(sa.exc.InvalidRequestError, match=message):
                        async for attempt in transaction(session):
                            async with attempt:
                                session.add(TjNote(id=1, author_id=1, text="hi"))
            finally:
                await tables.async_engine.dispose()

        asyncio.run(main())
    assert notes(tables) == []


def test_after_a_commit_the_loop_begins_freely(
    backend: Backend, tables: Database
) -> None:
    with tables.session() as session:
        session.add(TjNote(id=9, author_id=1, text="early"))
        session.commit()
        for attempt in transaction(session):
            with attempt:
                session.add(TjNote(id=1, author_id=1, text="hi"))
    assert notes(tables) == [(1, "hi"), (9, "early")]
