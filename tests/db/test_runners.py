"""Statements on a pooled connection (`pooled_runner`, `Prepared`) on the real servers, sync and async.

Every read is checked against the same statement run through a SQLAlchemy
`Connection`: the rows must be equal, value for value and type for type.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.util import greenlet_spawn

from sqlmodel_production import Database
from sqlmodel_production.db import Backend
from sqlmodel_production.db._driver import run_prepared
from sqlmodel_production.db._prepared import Prepared, Row, direct_safe
from sqlmodel_production.db._runners import (
    DIRECT_READS,
    ConnectionRunner,
    PooledRunner,
    RunOn,
    SessionState,
    WorkKind,
    pooled_runner,
    session_state,
    where_to_run,
)
from sqlmodel_production.db._settings import Pooler
from sqlmodel_production.diagnostics import record_queries
from sqlmodel_production.models import UTCDateTime
from tests._topology import at_port, require
from tests.conftest import Target
from tests.db.test_ping import kill, server_id

T = TypeVar("T")


class Mood(enum.Enum):
    calm = "calm"
    angry = "angry"


metadata = sa.MetaData()
things = sa.Table(
    "rd_thing",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("token", sa.Uuid, nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False),
    sa.Column("mood", sa.Enum(Mood), nullable=False),
    sa.Column("data", sa.JSON, nullable=True),
    sa.Column("price", sa.Numeric(10, 2), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)
ROWS = [
    {
        "id": i,
        "name": f"thing {i}",
        "token": uuid.UUID(int=i),
        "seen_at": dt.datetime(2026, 1, i, 12, 30, tzinfo=dt.UTC),
        "mood": Mood.calm if i % 2 else Mood.angry,
        "data": {"n": i, "tags": ["a", "b"]} if i != 2 else None,
        "price": Decimal(f"{i}.25"),
        "active": i % 2 == 1,
    }
    for i in (1, 2, 3)
]

by_token = Prepared(sa.select(things).where(things.c.token == sa.bindparam("token")))
since = Prepared(
    sa.select(things.c.id, things.c.seen_at)
    .where(things.c.seen_at >= sa.bindparam("since", type_=UTCDateTime))
    .order_by(things.c.id)
)
by_mood = Prepared(
    sa.select(things.c.name).where(things.c.mood == Mood.angry).order_by(things.c.id)
)
# An expanding IN is rendered per execution: it runs through a `Connection`.
among = Prepared(
    sa.select(things.c.id)
    .where(things.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(things.c.id)
)


@pytest.fixture
def database(make_database: Callable[..., Database]) -> Iterator[Database]:
    database = make_database(pool_size=1, max_overflow=0, pool_ping_after=60)
    metadata.create_all(database.engine)
    with database.engine.begin() as conn:
        conn.execute(things.insert(), ROWS)
    database.engine.dispose()
    yield database
    metadata.drop_all(database.engine)


Step = Callable[[sa.Engine], Any]


def direct(fn: Callable[[PooledRunner], T]) -> Callable[[sa.Engine], T]:
    """A step: `fn` on direct reads of the engine."""

    def step(engine: sa.Engine) -> T:
        with pooled_runner(engine) as reads:
            return fn(reads)

    return step


def connected(fn: Callable[[sa.Connection], T]) -> Callable[[sa.Engine], T]:
    """A step: `fn` on a `Connection` checked out of the engine."""

    def step(engine: sa.Engine) -> T:
        with engine.connect() as conn:
            return fn(conn)

    return step


def run(database: Database, async_: bool, *steps: Step) -> list[Any]:
    """Run the steps in turn on the sync engine, or on the async one (in its greenlet, one event loop)."""
    if not async_:
        return [step(database.engine) for step in steps]
    engine = database.async_engine

    async def main() -> list[Any]:
        try:
            return [await greenlet_spawn(step, engine.sync_engine) for step in steps]
        finally:
            await engine.dispose()

    return asyncio.run(main())


def backend_id(reads: PooledRunner) -> int:
    """The server's id of the connection the reads run on."""
    function = (
        sa.func.pg_backend_pid()
        if reads.engine.dialect.name == "postgresql"
        else sa.func.connection_id()
    )
    row = reads.first(Prepared(sa.select(function.label("id"))))
    assert row is not None
    return int(row["id"])


def every_read(reads: Any) -> dict[str, Any]:
    return {
        "by_token": reads.first(by_token, {"token": uuid.UUID(int=3)}),
        "missing": reads.first(by_token, {"token": uuid.UUID(int=9)}),
        "since": reads.all(
            since, {"since": dt.datetime(2026, 1, 2, 12, 30, tzinfo=dt.UTC)}
        ),
        "by_mood": reads.all(by_mood),
        "among": reads.all(among, {"ids": [1, 3]}),
        "built": reads.all(sa.select(things.c.price).order_by(things.c.id)),
    }


def test_rows_equal_those_read_through_a_connection(
    target: Target, database: Database
) -> None:
    """The first read of a statement runs on a cursor, later ones (asyncpg) through the driver's `fetch`."""
    expected, got, again = run(
        database,
        target.async_,
        connected(lambda conn: every_read(ConnectionRunner(conn))),
        direct(every_read),
        direct(every_read),
    )
    assert expected["by_token"] == ROWS[2]
    assert expected["missing"] is None
    assert got == expected
    assert again == expected
    for name, rows in (*got.items(), *again.items()):
        if isinstance(rows, list):
            for row, want in zip(rows, expected[name], strict=True):
                assert list(map(type, row.values())) == list(map(type, want.values()))
    for read in (got, again):
        assert isinstance(read["by_token"]["token"], uuid.UUID)
        assert read["by_token"]["seen_at"].tzinfo is not None
        assert read["by_token"]["mood"] is Mood.calm
        assert isinstance(read["by_token"]["price"], Decimal)


def insert_of(table: sa.Table, names: list[str]) -> Prepared:
    return Prepared(
        sa.insert(table)
        .values({n: sa.bindparam(n, type_=table.c[n].type) for n in names})
        .returning(*table.c)
    )


def test_an_insert_returning_gives_the_rows_a_connection_gives(
    target: Target, database: Database
) -> None:
    """INSERT ... RETURNING as `Prepared` (the router's single-statement create): same values and types."""
    row = {**ROWS[0], "id": 10, "token": uuid.UUID(int=10)}
    insert = insert_of(things, list(row))

    def through_connection(conn: sa.Connection) -> Any:
        inserted = ConnectionRunner(conn).first(insert, {**row, "id": 11})
        conn.rollback()
        return inserted

    expected, got = run(
        database,
        target.async_,
        connected(through_connection),
        direct(lambda reads: reads.first(insert, row)),
    )
    assert insert.form(database.engine.dialect) is not None  # ran on the driver
    assert {**expected, "id": 10} == got == row
    assert list(map(type, got.values())) == list(map(type, expected.values()))


def test_a_python_side_default_is_computed_through_a_connection(
    target: Target, database: Database
) -> None:
    stamped = sa.Table(
        "rd_stamped",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("label", sa.String(20), nullable=False, default=lambda: "default"),
    )
    stamped.create(database.engine)
    try:
        insert = insert_of(stamped, ["id"])
        assert insert.form(database.engine.dialect) is None
        [row] = run(
            database, target.async_, direct(lambda r: r.first(insert, {"id": 1}))
        )
        assert row == {"id": 1, "label": "default"}
    finally:
        stamped.drop(database.engine)
        metadata.remove(stamped)


def test_every_statement_is_recorded(target: Target, database: Database) -> None:
    def read(reads: PooledRunner) -> Any:
        with record_queries() as recording:
            every_read(reads)
        return recording

    [recording] = run(database, target.async_, direct(read))
    # Four prepared statements run on the driver, two through a Connection.
    assert recording.count == 6, recording.report()
    assert "rd_thing" in str(recording.report())


def test_an_unmarked_listener_sends_every_read_through_a_connection(
    target: Target, database: Database
) -> None:
    seen: list[Any] = []

    def foreign(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if "rd_thing" in sql:  # not SQLite's BEGIN
            seen.append(conn)

    @direct_safe
    def ours(
        conn: Any, cursor: Any, sql: str, params: Any, context: Any, _: bool
    ) -> None:
        if "rd_thing" in sql:
            seen.append(conn)

    def read(reads: PooledRunner) -> Any:
        return reads.all(by_mood)

    engine = database.async_engine.sync_engine if target.async_ else database.engine
    sa.event.listen(engine, "after_cursor_execute", ours)
    try:
        run(database, target.async_, direct(read))
        assert seen == [None]  # called by PooledRunner itself
        seen.clear()
        sa.event.listen(engine, "before_cursor_execute", foreign)
        [rows] = run(database, target.async_, direct(read))
    finally:
        sa.event.remove(engine, "after_cursor_execute", ours)
        if sa.event.contains(engine, "before_cursor_execute", foreign):
            sa.event.remove(engine, "before_cursor_execute", foreign)
    assert rows == [{"name": "thing 2"}]
    assert len(seen) == 2
    assert all(isinstance(conn, sa.Connection) for conn in seen)


@pytest.mark.only(Backend.POSTGRESQL)
def test_postgresql_reads_outside_a_transaction_and_restores_the_connection(
    target: Target, database: Database
) -> None:
    clock = Prepared(sa.select(sa.func.clock_timestamp().label("at")))
    started = Prepared(sa.select(sa.func.now().label("at")))

    def read(reads: PooledRunner) -> tuple[int, bool]:
        first = backend_id(reads)
        ran_at = reads.first(clock)
        began_at = reads.first(started)
        assert ran_at is not None and began_at is not None
        # In one transaction, now() would be its start, before the first read ran.
        return first, began_at["at"] > ran_at["at"]

    def after(conn: sa.Connection) -> tuple[int, str, int]:
        level = conn.get_isolation_level()
        conn.execute(things.insert(), {**ROWS[0], "id": 99})
        conn.rollback()
        count = conn.execute(
            sa.select(sa.func.count()).where(things.c.id == 99)
        ).scalar_one()
        return server_id(conn), level, count

    (first, own_transaction), restored = run(
        database, target.async_, direct(read), connected(after)
    )
    assert own_transaction
    # The same server session, back in the pool, runs transactions again.
    assert restored == (first, "READ COMMITTED", 0)


@pytest.mark.only(Backend.POSTGRESQL)
def test_behind_pgbouncer_reads_run_outside_a_transaction(
    target: Target, database: Database, make_database: Callable[..., Database]
) -> None:
    """With a pooler no read begins a transaction: both drivers run in autocommit there too."""
    require("pgbouncer")
    pooled = make_database(
        database_url=at_port(str(database.settings.database_url), 6432),
        database_pooler=Pooler.PGBOUNCER,
    )
    # A setting made for the rest of the transaction: the next read sees it only in the same one.
    mark = Prepared(sa.select(sa.func.set_config("smp.mark", "set", True).label("m")))
    seen = Prepared(sa.select(sa.func.current_setting("smp.mark", True).label("m")))

    def read(reads: PooledRunner) -> tuple[Any, list[Row]]:
        reads.first(mark)
        row = reads.first(seen)
        assert row is not None
        return row["m"], reads.all(by_mood)

    # Twice: a statement's first run (asyncpg describes it) and a later one.
    (first, rows), (again, _) = run(pooled, target.async_, direct(read), direct(read))
    assert first != "set" and again != "set"
    assert rows == [{"name": "thing 2"}]


@pytest.mark.only(Backend.POSTGRESQL, Backend.MARIADB)
def test_a_lost_connection_raises_a_disconnect_and_is_not_pooled_again(
    target: Target, database: Database
) -> None:
    def lose(reads: PooledRunner) -> tuple[int, sa.exc.DBAPIError]:
        session = backend_id(reads)
        kill(database, session)
        with pytest.raises(sa.exc.DBAPIError) as raised:
            reads.all(by_mood)
        return session, raised.value

    (lost, error), (again, rows) = run(
        database,
        target.async_,
        direct(lose),
        direct(lambda reads: (backend_id(reads), reads.all(by_mood))),
    )
    assert error.connection_invalidated
    assert again != lost
    assert rows == [{"name": "thing 2"}]


def test_run_prepared_runs_in_the_connections_transaction(
    target: Target, database: Database
) -> None:
    """A bare `Connection` is begun as `execute` would begin it: rollback and commit act on the write."""
    rows = [{**ROWS[0], "id": i, "token": uuid.UUID(int=i)} for i in (20, 21)]
    insert = insert_of(things, list(rows[0]))

    def write(conn: sa.Connection) -> Any:
        with record_queries() as recording:
            rolled_back = run_prepared(conn, insert, rows[0])
        began = conn.in_transaction()
        conn.rollback()
        committed = run_prepared(conn, insert, rows[1])
        conn.commit()
        return rolled_back, committed, began, recording.count

    def ids(conn: sa.Connection) -> list[int]:
        query = sa.select(things.c.id).where(things.c.id >= 20)
        return list(conn.execute(query).scalars())

    (rolled_back, committed, began, count), found = run(
        database, target.async_, connected(write), connected(ids)
    )
    assert insert.form(database.engine.dialect) is not None  # ran on the driver
    assert (rolled_back, committed) == ([rows[0]], [rows[1]])
    assert began
    assert count == 1  # the engine's listeners saw it
    assert found == [21]


def test_run_prepared_raises_sqlalchemys_error_and_the_transaction_recovers(
    target: Target, database: Database
) -> None:
    insert = insert_of(things, list(ROWS[0]))

    def write(conn: sa.Connection) -> Any:
        with pytest.raises(sa.exc.IntegrityError) as raised:
            run_prepared(conn, insert, ROWS[0])  # id 1 exists
        conn.rollback()
        again = run_prepared(conn, insert, {**ROWS[0], "id": 30})
        conn.rollback()
        return raised.value, again

    [(error, again)] = run(database, target.async_, connected(write))
    assert not error.connection_invalidated
    assert again == [{**ROWS[0], "id": 30}]


@pytest.mark.only(Backend.POSTGRESQL, Backend.MARIADB)
def test_run_prepared_on_a_lost_connection_invalidates_the_connection(
    target: Target, database: Database
) -> None:
    def lose(conn: sa.Connection) -> Any:
        kill(database, server_id(conn))
        with pytest.raises(sa.exc.DBAPIError) as raised:
            run_prepared(conn, by_token, {"token": uuid.UUID(int=1)})
        return raised.value, conn.invalidated

    [(error, invalidated)] = run(database, target.async_, connected(lose))
    assert error.connection_invalidated
    assert invalidated


TENANT = "smp_tenant"


@pytest.fixture
def tenant(
    target: Target, database: Database, tmp_path: Any
) -> Iterator[dict[str | None, str]]:
    """A schema of its own (an attached database on SQLite) holding `rd_thing` with one row."""
    engines = [database.engine, database.async_engine.sync_engine]
    attach = f"ATTACH DATABASE '{tmp_path / 'tenant.db'}' AS {TENANT}"

    def attach_tenant(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(attach)
        cursor.close()

    create = {
        "postgresql": f"CREATE SCHEMA {TENANT}",
        "mysql": f"CREATE DATABASE {TENANT}",
    }
    drop = {
        "postgresql": f"DROP SCHEMA IF EXISTS {TENANT} CASCADE",
        "mysql": f"DROP DATABASE IF EXISTS {TENANT}",
    }
    name = database.engine.dialect.name

    def on_sqlite(action: Callable[..., None]) -> None:
        for engine in engines:
            action(engine, "connect", attach_tenant)

    def on_server(*statements: str) -> None:
        with database.engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)

    if name == "sqlite":
        on_sqlite(sa.event.listen)
    else:
        on_server(drop[name], create[name])
    translated = database.engine.execution_options(schema_translate_map={None: TENANT})
    with translated.begin() as conn:
        metadata.create_all(conn)
        conn.execute(things.insert(), {**ROWS[0], "id": 7, "name": "tenant thing"})
    database.engine.dispose()
    try:
        yield {None: TENANT}
    finally:
        if name == "sqlite":
            on_sqlite(sa.event.remove)
        else:
            on_server(drop[name])
        database.engine.dispose()


def test_a_schema_translate_map_is_applied_to_prepared_statements(
    target: Target, database: Database, tenant: dict[str | None, str]
) -> None:
    """Statements compiled once still go to the schema the engine or connection maps to."""
    names = Prepared(sa.select(things.c.id, things.c.name).order_by(things.c.id))
    insert = insert_of(things, list(ROWS[0]))

    def read(engine: sa.Engine) -> Any:
        with pooled_runner(
            engine.execution_options(schema_translate_map=tenant)
        ) as reads:
            return reads.all(names)

    def write(engine: sa.Engine) -> Any:
        with engine.connect() as conn:
            conn = conn.execution_options(schema_translate_map=tenant)
            inserted = run_prepared(conn, insert, {**ROWS[1], "id": 8})
            conn.commit()
            return inserted, ConnectionRunner(conn).all(names)

    default = direct(lambda reads: reads.all(names))
    got, (inserted, after), untouched = run(
        database, target.async_, read, write, default
    )
    assert got == [{"id": 7, "name": "tenant thing"}]
    assert inserted == [{**ROWS[1], "id": 8}]
    assert after == [*got, {"id": 8, "name": ROWS[1]["name"]}]
    assert untouched == [{"id": r["id"], "name": r["name"]} for r in ROWS]


def test_with_echo_every_statement_is_logged(
    target: Target, make_database: Callable[..., Database], caplog: Any
) -> None:
    """Echo is SQLAlchemy's log of each statement it runs: statements go through a `Connection` to be in it."""
    database = make_database(echo=True)
    metadata.create_all(database.engine)
    insert = insert_of(things, list(ROWS[0]))

    def write(conn: sa.Connection) -> Any:
        row = run_prepared(conn, insert, {**ROWS[0], "id": 40})
        conn.rollback()
        return row

    caplog.set_level("INFO", logger="sqlalchemy.engine")
    try:
        run(
            database,
            target.async_,
            direct(lambda reads: reads.all(by_mood)),
            connected(write),
        )
    finally:
        metadata.drop_all(database.engine)
    logged = [r.getMessage() for r in caplog.records if "rd_thing" in r.getMessage()]
    assert any(m.startswith("SELECT") for m in logged), logged
    assert any(m.startswith("INSERT") for m in logged), logged


@pytest.mark.parametrize("event", ["before_execute", "after_execute", "handle_error"])
def test_execution_listeners_see_every_statement(
    target: Target, database: Database, event: str
) -> None:
    """Only a `Connection` calls these: with one on the engine, statements go through it."""
    seen: list[str] = []

    def listener(first: Any, *args: Any, **kwargs: Any) -> None:
        # handle_error gets the exception context; the others the Connection first.
        seen.append(event if event == "handle_error" else type(first).__name__)

    insert = insert_of(things, list(ROWS[0]))

    def duplicate(conn: sa.Connection) -> Any:
        with pytest.raises(sa.exc.IntegrityError):
            run_prepared(conn, insert, ROWS[0])
        conn.rollback()

    engine = database.async_engine.sync_engine if target.async_ else database.engine
    sa.event.listen(engine, event, listener)
    try:
        if event == "handle_error":
            run(database, target.async_, connected(duplicate))
            assert seen == ["handle_error"]
        else:
            run(database, target.async_, direct(lambda reads: reads.all(by_mood)))
            assert seen == ["Connection"]
    finally:
        sa.event.remove(engine, event, listener)


# --- where a unit of work runs ---------------------------------------------------------

W, S = WorkKind, SessionState


@pytest.mark.parametrize(
    ("work", "session", "autocommit", "where"),
    [
        # No session, or only the request's untouched own one: a pooled connection.
        (W.READ, S.NONE, False, RunOn.POOLED),
        (W.READ, S.UNTOUCHED, False, RunOn.POOLED),
        (W.SINGLE_WRITE, S.NONE, True, RunOn.POOLED),
        (W.SINGLE_WRITE, S.UNTOUCHED, True, RunOn.POOLED),
        # A single write where a statement cannot autocommit: a transaction.
        (W.SINGLE_WRITE, S.NONE, False, RunOn.NEW_TRANSACTION),
        (W.SINGLE_WRITE, S.UNTOUCHED, False, RunOn.NEW_TRANSACTION),
        # Any session given to the request: work sees what it sees.
        (W.READ, S.IDLE, True, RunOn.SESSION),
        (W.READ, S.IN_TRANSACTION, True, RunOn.SESSION),
        (W.ORM_READ, S.NONE, True, RunOn.SESSION),
        (W.ORM_READ, S.UNTOUCHED, True, RunOn.SESSION),
        (W.SINGLE_WRITE, S.IDLE, True, RunOn.NEW_TRANSACTION),
        (W.WRITE, S.NONE, True, RunOn.NEW_TRANSACTION),
        (W.WRITE, S.UNTOUCHED, True, RunOn.NEW_TRANSACTION),
        (W.WRITE, S.IDLE, True, RunOn.NEW_TRANSACTION),
        # A transaction in progress cannot be run again: join it, no retry.
        (W.WRITE, S.IN_TRANSACTION, True, RunOn.OPEN_TRANSACTION),
        (W.SINGLE_WRITE, S.IN_TRANSACTION, True, RunOn.OPEN_TRANSACTION),
    ],
)
def test_where_to_run(
    work: WorkKind, session: SessionState, autocommit: bool, where: RunOn
) -> None:
    assert where_to_run(work, session, autocommit=autocommit) is where


def test_session_state_tells_the_sessions_apart(
    backend: Backend, database: Database
) -> None:
    assert session_state(None) is SessionState.NONE
    with database.session() as own:
        assert session_state(own) is SessionState.UNTOUCHED
        own.execute(sa.text("SELECT 1"))
        assert session_state(own) is SessionState.IN_TRANSACTION
    with sa.orm.Session(database.engine) as given:
        assert session_state(given) is SessionState.IDLE
    with database.engine.connect() as conn, sa.orm.Session(bind=conn) as bound:
        bound.info[DIRECT_READS] = True  # bound to a connection: never untouched
        assert session_state(bound) is SessionState.IDLE
