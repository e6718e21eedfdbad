"""Row-level security as a second wall: PostgreSQL keeps each request inside its scope, sync and async.

The app connects as a role of its own that is neither a superuser nor
`BYPASSRLS` (both bypass every policy), directly on 5432 and through PgBouncer
in transaction mode on 6432. PgBouncer lets in only the users of its auth file
(`postgres`, `root`): through it the app logs in as `root`, whose sessions in
this test's database take the app's role (`ALTER ROLE root IN DATABASE ... SET
role`), so every statement is the role's there too. Each test module run makes
its own database and role.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header
from fastapi.testclient import TestClient
from sqlalchemy.pool import NullPool
from sqlmodel import Field, Session, SQLModel, text

from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.api import (
    AsyncSessionDep,
    RowScope,
    SessionDep,
    crud_router,
    get_session,
    install_error_handlers,
    link_router,
)
from sqlmodel_production.db import Backend, EngineInfo, classify, sync_url
from sqlmodel_production.db.internal import STATE_KEY
from sqlmodel_production.migrations import row_security_policies
from tests._topology import at_port, require, scratch_database
from tests.conftest import SERVER_URLS, Target

pytestmark = pytest.mark.only(Backend.POSTGRESQL)


class RlsTask(SQLModel, table=True):
    __tablename__ = "rls_task"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(index=True)
    title: str = Field(max_length=50)


class RlsTag(SQLModel, table=True):
    __tablename__ = "rls_tag"
    id: int = Field(primary_key=True)
    org_id: int = Field(index=True)


class RlsTaskTag(SQLModel, table=True):
    """A link table: no org of its own, its two sides each under the policies."""

    __tablename__ = "rls_task_tag"
    task_id: int = Field(foreign_key="rls_task.id", primary_key=True)
    tag_id: int = Field(foreign_key="rls_tag.id", primary_key=True)


TABLE = RlsTask.__table__  # type: ignore[attr-defined]
POLICIES = row_security_policies(RlsTask, {"org_id": "app.org_id"})
TAG_POLICIES = row_security_policies(RlsTag, {"org_id": "app.org_id"})
LINKED = [RlsTag.__table__, RlsTaskTag.__table__]  # type: ignore[attr-defined]
ROWS = {1: ["a1", "b1", "c1"], 2: ["a2", "b2"]}


@dataclass(frozen=True)
class Server:
    admin: str
    """The test database as `postgres` (a superuser: policies do not apply)."""
    role: str
    direct: str
    """As the app's role, on 5432."""
    pooled: str
    """As `root` through PgBouncer, which takes the app's role in this database."""

    def url(self, via: str) -> str:
        return self.direct if via == "direct" else self.pooled


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    require("pgbouncer")
    role = f"smp_rls_{uuid.uuid4().hex[:10]}"
    root = sa.create_engine(
        sync_url(SERVER_URLS[Backend.POSTGRESQL]), isolation_level="AUTOCOMMIT"
    )
    with root.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    try:
        with scratch_database() as admin:
            name = sa.make_url(admin).database
            engine = sa.create_engine(sync_url(admin))
            with engine.begin() as conn:
                SQLModel.metadata.create_all(conn, tables=[TABLE, *LINKED])
                for statement in (*POLICIES.upgrade, *TAG_POLICIES.upgrade):
                    conn.exec_driver_sql(statement)
                conn.exec_driver_sql(
                    "GRANT SELECT, INSERT, UPDATE, DELETE "
                    f"ON rls_task, rls_tag, rls_task_tag TO {role}"
                )
                conn.exec_driver_sql(
                    f"GRANT USAGE ON SEQUENCE rls_task_id_seq TO {role}"
                )
                conn.exec_driver_sql(
                    f"ALTER ROLE root IN DATABASE {name} SET role = {role}"
                )
            engine.dispose()
            direct = sa.make_url(admin).set(username=role)
            pooled = sa.make_url(at_port(admin, 6432)).set(username="root")
            yield Server(
                admin,
                role,
                direct.render_as_string(hide_password=False),
                pooled.render_as_string(hide_password=False),
            )
    finally:
        with root.connect() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        root.dispose()


@pytest.fixture
def rows(server: Server) -> dict[int, list[int]]:
    """The table holds `ROWS` again (as the superuser); each org's ids."""
    engine = sa.create_engine(sync_url(server.admin))
    ids: dict[int, list[int]] = {}
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "TRUNCATE rls_task, rls_tag, rls_task_tag RESTART IDENTITY"
        )
        conn.execute(
            sa.insert(RlsTag), [{"id": 1, "org_id": 1}, {"id": 2, "org_id": 2}]
        )
        for org, titles in ROWS.items():
            for title in titles:
                ids.setdefault(org, []).append(
                    conn.execute(
                        sa.insert(TABLE)
                        .values(org_id=org, title=title)
                        .returning(TABLE.c.id)
                    ).scalar_one()
                )
    engine.dispose()
    return ids


def current_org(x_org: str = Header()) -> Mapping[str, Any]:
    """`1`, `1,2` (both, creates go to the first) or `*` (every org, creates go to 1)."""
    if x_org == "*":
        return {"org_id": RowScope.all(stamp=1)}
    orgs = [int(org) for org in x_org.split(",")]
    if len(orgs) == 1:
        return {"org_id": orgs[0]}
    return {"org_id": RowScope.any_of(*orgs, stamp=orgs[0])}


ORG_SCOPE = RowScope(current_org, "org_id", database_settings={"org_id": "app.org_id"})
RAW = text(
    "SELECT id, org_id, current_setting('app.org_id', true) AS setting "
    "FROM rls_task ORDER BY id"
)
SETTING = text("SELECT current_setting('app.org_id', true) AS setting")
Scope = Annotated[Mapping[str, Any], Depends(ORG_SCOPE.in_database)]


def make_app(database: Database, async_: bool) -> FastAPI:
    """The generated routes, and hand-written ones with and without the scope in the database."""
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(RlsTask, prefix="/tasks", scope=ORG_SCOPE, async_=async_)
    )
    app.include_router(
        link_router(
            RlsTaskTag,
            parent=RlsTask,
            child=RlsTag,
            parent_prefix="/tagged",
            child_prefix="/tags",
            scope=ORG_SCOPE,
            async_=async_,
        )
    )
    install_error_handlers(app)
    if async_:

        @app.get("/raw")
        async def raw(session: AsyncSessionDep, scope: Scope) -> list[dict[str, Any]]:
            return [dict(row) for row in (await session.exec(RAW)).mappings()]

        @app.get("/unscoped")
        async def unscoped(session: AsyncSessionDep) -> dict[str, Any]:
            rows = (await session.exec(RAW)).all()
            setting = (await session.exec(SETTING)).scalar_one()
            return {"rows": len(rows), "setting": setting}

        @app.post("/forge/{org_id}")
        async def forge(session: AsyncSessionDep, scope: Scope, org_id: int) -> RlsTask:
            task = RlsTask(org_id=org_id, title="forged")
            session.add(task)
            await session.commit()
            return task

    else:

        @app.get("/raw")
        def raw(session: SessionDep, scope: Scope) -> list[dict[str, Any]]:
            return [dict(row) for row in session.exec(RAW).mappings()]

        @app.get("/unscoped")
        def unscoped(session: SessionDep) -> dict[str, Any]:
            rows = session.exec(RAW).all()
            setting = session.exec(SETTING).scalar_one()
            return {"rows": len(rows), "setting": setting}

        @app.post("/forge/{org_id}")
        def forge(session: SessionDep, scope: Scope, org_id: int) -> RlsTask:
            task = RlsTask(org_id=org_id, title="forged")
            session.add(task)
            session.commit()
            return task

    return app


@pytest.fixture(params=["direct", "pgbouncer"])
def via(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def settings_for(server: Server, via: str, **more: Any) -> DatabaseSettings:
    pooler = "pgbouncer" if via == "pgbouncer" else "none"
    return DatabaseSettings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=server.url(via),
        database_pooler=pooler,
        **more,
    )


@pytest.fixture
def serve(
    target: Target, server: Server, via: str, rows: dict[int, list[int]]
) -> Iterator[Callable[..., TestClient]]:
    made: list[tuple[TestClient, Database]] = []

    def serve(**more: Any) -> TestClient:
        database = Database(settings_for(server, via, **more))
        client = TestClient(make_app(database, target.async_)).__enter__()
        made.append((client, database))
        return client

    yield serve
    for client, database in made:
        client.__exit__(None, None, None)
        asyncio.run(database.dispose())


def test_the_app_role_is_subject_to_the_policies(server: Server, via: str) -> None:
    """Neither a superuser nor BYPASSRLS, directly and through PgBouncer; alone it sees no row."""
    engine = sa.create_engine(sync_url(server.url(via)))
    try:
        with engine.connect() as conn:
            found = conn.execute(
                sa.text(
                    "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user"
                )
            ).one()
            assert tuple(found) == (server.role, False, False)
            assert conn.execute(sa.text("SELECT count(*) FROM rls_task")).scalar() == 0
    finally:
        engine.dispose()


@pytest.mark.usefixtures("rows")
def test_the_policies_read_one_value_several_or_all_and_go_away(server: Server) -> None:
    def visible(conn: sa.Connection, value: str | None) -> list[int]:
        with conn.begin():
            if value is not None:
                conn.execute(
                    sa.text("SELECT set_config('app.org_id', :value, true)"),
                    {"value": value},
                )
            return list(
                conn.execute(
                    sa.text("SELECT org_id FROM rls_task ORDER BY id")
                ).scalars()
            )

    app = sa.create_engine(sync_url(server.direct))
    admin = sa.create_engine(sync_url(server.admin))
    try:
        with app.connect() as conn:
            assert visible(conn, '{"1"}') == [1, 1, 1]
            assert visible(conn, '{"2","1"}') == [1, 1, 1, 2, 2]
            assert visible(conn, "*") == [1, 1, 1, 2, 2]
            assert visible(conn, "") == []
            assert visible(conn, None) == []
            with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
                with conn.begin():
                    conn.execute(
                        sa.text("SELECT set_config('app.org_id', '{\"1\"}', true)")
                    )
                    conn.execute(
                        sa.text("INSERT INTO rls_task (org_id, title) VALUES (2, 'x')")
                    )
        with admin.begin() as conn:
            for statement in POLICIES.downgrade:
                conn.exec_driver_sql(statement)
        with app.connect() as conn:
            assert visible(conn, None) == [1, 1, 1, 2, 2]
    finally:
        with admin.begin() as conn:
            for statement in POLICIES.upgrade:
                conn.exec_driver_sql(statement)
        app.dispose()
        admin.dispose()


def test_generated_routes_work_under_the_policies(
    serve: Callable[..., TestClient], rows: dict[int, list[int]]
) -> None:
    client = serve()
    one, two = {"x-org": "1"}, {"x-org": "2"}
    listed = client.get("/tasks/", headers=one).json()
    assert [task["id"] for task in listed] == rows[1]
    assert client.get(f"/tasks/{rows[1][0]}", headers=one).status_code == 200
    assert client.get(f"/tasks/{rows[2][0]}", headers=one).status_code == 404
    created = client.post("/tasks/", json={"title": "new"}, headers=one)
    assert created.status_code == 200, created.text
    assert created.json()["org_id"] == 1
    new = created.json()["id"]
    patched = client.patch(f"/tasks/{new}", json={"title": "newer"}, headers=one)
    assert patched.json()["title"] == "newer"
    assert (
        client.patch(f"/tasks/{new}", json={"title": "x"}, headers=two).status_code
        == 404
    )
    assert client.delete(f"/tasks/{new}", headers=two).status_code == 404
    assert client.delete(f"/tasks/{new}", headers=one).json() == {"ok": True}
    assert client.get(f"/tasks/{new}", headers=one).status_code == 404
    bulk = client.post(
        "/tasks/bulk", json=[{"title": "x"}, {"title": "y"}], headers=two
    )
    assert [task["org_id"] for task in bulk.json()] == [2, 2]
    # Several orgs and every org: the setting carries them, the policy lets them through.
    assert len(client.get("/tasks/", headers={"x-org": "2,1"}).json()) == 7
    assert len(client.get("/tasks/", headers={"x-org": "*"}).json()) == 7
    assert (
        client.post("/tasks/", json={"title": "s"}, headers={"x-org": "2,1"}).json()[
            "org_id"
        ]
        == 2
    )


def test_link_routes_work_under_the_policies(
    serve: Callable[..., TestClient], rows: dict[int, list[int]]
) -> None:
    """Links, their reads and lists, each side inside the scope; the other org's is a 404."""
    client = serve()
    one, two = {"x-org": "1"}, {"x-org": "2"}
    task = rows[1][0]
    linked = client.put(f"/tagged/{task}/tags/1", json={}, headers=one)
    assert linked.status_code == 200, linked.text
    assert client.put(f"/tagged/{task}/tags/2", json={}, headers=one).status_code == 404
    assert client.put(f"/tagged/{task}/tags/1", json={}, headers=two).status_code == 404
    read = client.get(f"/tagged/{task}", headers=one).json()
    assert [tag["id"] for tag in read["tags"]] == [1]
    assert [
        t["id"] for t in client.get(f"/tagged/{task}/tags", headers=one).json()
    ] == [1]
    assert [t["id"] for t in client.get("/tags/1/tagged", headers=one).json()] == [task]
    assert client.get("/tags/1/tagged", headers=two).status_code == 404
    assert client.delete(f"/tagged/{task}/tags/1", headers=one).json() == {"ok": True}


def test_a_raw_select_sees_only_the_scope_and_nothing_without_it(
    serve: Callable[..., TestClient], rows: dict[int, list[int]]
) -> None:
    client = serve()
    for org in (1, 2):
        found = client.get("/raw", headers={"x-org": str(org)}).json()
        assert [row["id"] for row in found] == rows[org]
        assert {row["setting"] for row in found} == {f'{{"{org}"}}'}
    both = client.get("/raw", headers={"x-org": "1,2"}).json()
    assert [row["id"] for row in both] == rows[1] + rows[2]
    # No scope in the database: no row, and no setting left by an earlier request.
    unscoped = client.get("/unscoped").json()
    assert unscoped["rows"] == 0
    assert unscoped["setting"] in ("", None)


def test_a_row_of_another_scope_is_refused_by_the_database_with_a_403(
    serve: Callable[..., TestClient], server: Server
) -> None:
    client = serve()
    refused = client.post("/forge/2", headers={"x-org": "1"})
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "Forbidden: the rls_task row is outside the rows this request may write",
        "code": "row_security_violation",
    }
    assert client.post("/forge/1", headers={"x-org": "1"}).status_code == 200
    engine = sa.create_engine(sync_url(server.admin))
    try:
        with engine.connect() as conn:
            forged = conn.execute(
                sa.text("SELECT org_id FROM rls_task WHERE title = 'forged'")
            ).scalars()
            assert list(forged) == [1]
    finally:
        engine.dispose()


# --- many requests of two tenants at once, through PgBouncer ------------------------


@asynccontextmanager
async def asgi_client(app: FastAPI, database: Database) -> Any:
    """An httpx client on `app` in this event loop, with the database's lifespan run around it."""
    async with database.lifespan(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            scope["state"] = dict(state)
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t"
        ) as client:
            yield client


def test_a_thousand_interleaved_requests_of_two_tenants_through_pgbouncer(
    target: Target, server: Server, rows: dict[int, list[int]]
) -> None:
    """Lists, reads, creates, raw SELECTs and unscoped probes of orgs 1 and 2, 40 at a time."""
    database = Database(settings_for(server, "pgbouncer", pool_size=8))
    app = make_app(database, target.async_)
    kinds = ["list", "read own", "read other", "create", "raw", "unscoped"]
    plan = [(kinds[n // 2 % len(kinds)], 1 + n % 2) for n in range(1000)]
    random.Random(19).shuffle(plan)
    leaks: list[str] = []
    done: dict[str, int] = dict.fromkeys(kinds, 0)

    async def request(client: httpx.AsyncClient, kind: str, org: int) -> None:
        other = 3 - org
        headers = {"x-org": str(org)}
        if kind == "list":
            answer = await client.get("/tasks/?limit=100", headers=headers)
            found = [task["org_id"] for task in answer.json()]
        elif kind == "read own":
            answer = await client.get(f"/tasks/{rows[org][0]}", headers=headers)
            found = [answer.json()["org_id"]]
        elif kind == "read other":
            answer = await client.get(f"/tasks/{rows[other][0]}", headers=headers)
            found = [] if answer.status_code == 404 else [other]
        elif kind == "create":
            answer = await client.post("/tasks/", json={"title": "t"}, headers=headers)
            found = [answer.json()["org_id"]]
        elif kind == "raw":
            answer = await client.get("/raw", headers=headers)
            found = [row["org_id"] for row in answer.json()]
            if {row["setting"] for row in answer.json()} != {f'{{"{org}"}}'}:
                leaks.append(f"raw of {org}: {answer.json()}")
        else:
            answer = await client.get("/unscoped")
            probe = answer.json()
            if probe["rows"] or probe["setting"] not in ("", None):
                leaks.append(f"unscoped: {probe}")
            found = []
        if answer.status_code not in (200, 404) or other in found:
            leaks.append(f"{kind} of {org}: {answer.status_code} {answer.text[:200]}")
        if kind != "unscoped" and kind != "read other" and not found:
            leaks.append(f"{kind} of {org}: nothing")
        done[kind] += 1

    async def main() -> None:
        gate = asyncio.Semaphore(40)
        async with asgi_client(app, database) as client:

            async def one(kind: str, org: int) -> None:
                async with gate:
                    await request(client, kind, org)

            await asyncio.gather(*(one(kind, org) for kind, org in plan))
        await database.dispose()

    asyncio.run(main())
    assert leaks == []
    assert sum(done.values()) == 1000
    assert min(done.values()) >= 166
    # Every server connection PgBouncer hands out afterwards holds no setting.
    engine = sa.create_engine(sync_url(server.pooled), pool_size=10)
    try:
        connections = [engine.connect() for _ in range(10)]
        for conn in connections:
            setting = conn.execute(SETTING).scalar()
            assert setting in ("", None)
            conn.close()
    finally:
        engine.dispose()
    admin = sa.create_engine(sync_url(server.admin))
    try:
        with admin.connect() as conn:
            created = conn.execute(
                sa.text(
                    "SELECT org_id, count(*) FROM rls_task WHERE title = 't' GROUP BY 1"
                )
            ).all()
        assert sorted(tuple(row) for row in created) == [(1, 83), (2, 83)]
    finally:
        admin.dispose()


# --- replicas --------------------------------------------------------------------------


def test_reads_on_a_replica_set_the_scope_there(
    target: Target, server: Server, rows: dict[int, list[int]]
) -> None:
    """The policies replicate; a read sent to the replica sets the scope in its read-only transaction."""
    require("replica")
    replica = sa.make_url(at_port(server.direct, 5433)).render_as_string(
        hide_password=False
    )
    engine = sa.create_engine(sync_url(at_port(server.admin, 5433)))
    try:
        for _ in range(200):  # the replica replays the database, the role and the rows
            try:
                with engine.connect() as conn:
                    if (
                        conn.execute(sa.text("SELECT count(*) FROM rls_task")).scalar()
                        == 5
                    ):
                        break
            except sa.exc.DBAPIError:
                pass
            time.sleep(0.05)
    finally:
        engine.dispose()
    database = Database(
        settings_for(
            server,
            "direct",
            database_replica_urls=[replica],
            replica_max_lag=3600,
            replica_check_interval=0.05,
        )
    )
    seen: list[tuple[str, str]] = []

    def record(info: EngineInfo) -> None:
        @sa.event.listens_for(info.engine, "before_cursor_execute")
        def _statement(*args: Any) -> None:
            seen.append((info.node, args[2]))

    database.on_engine(record)
    with TestClient(make_app(database, target.async_)) as client:
        for _ in range(50):
            seen.clear()
            listed = client.get("/tasks/", headers={"x-org": "2"}).json()
            if any(node == "replica" and "rls_task" in sql for node, sql in seen):
                break
    asyncio.run(database.dispose())
    assert [task["id"] for task in listed] == rows[2]
    on_replica = [sql for node, sql in seen if node == "replica"]
    assert any("set_config" in sql for sql in on_replica), seen
    assert any("rls_task" in sql for sql in on_replica), seen


# --- MariaDB and SQLite: no row-level security ------------------------------------------


@pytest.mark.only(Backend.MARIADB, Backend.SQLITE)
@pytest.mark.parametrize("kind", ["router", "hand-written"])
def test_a_database_without_row_level_security_refuses_to_start(
    target: Target, database_url: str, kind: str
) -> None:
    database = Database(DatabaseSettings(_env_file=None, database_url=database_url))  # type: ignore[call-arg]
    app = FastAPI(lifespan=database.lifespan)
    if kind == "router":
        app.include_router(
            crud_router(RlsTask, prefix="/tasks", scope=ORG_SCOPE, async_=target.async_)
        )
    else:

        @app.get("/raw")
        def raw(session: SessionDep, scope: Scope) -> None: ...

    with pytest.raises(RuntimeError) as refused:
        with TestClient(app):
            pass
    backend = target.backend.value
    path = "/tasks/" if kind == "router" else "/raw"
    assert str(refused.value).startswith(
        f"Row-level security needs PostgreSQL; this database is {backend}, which has "
        "no row-level security policies"
    )
    assert path in str(refused.value)
    asyncio.run(database.dispose())


@pytest.mark.only(Backend.MARIADB, Backend.SQLITE)
def test_without_the_lifespan_the_first_scoped_transaction_is_refused(
    target: Target, database_url: str
) -> None:
    """An app that runs no lifespan gets the same refusal from its first scoped request."""
    # No pool: the connections of the app's event loop are closed there.
    database = Database(
        DatabaseSettings(_env_file=None, database_url=database_url),  # type: ignore[call-arg]
        poolclass=NullPool,
    )
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=[TABLE])
        SQLModel.metadata.create_all(conn, tables=[TABLE])
    app = FastAPI()
    app.include_router(
        crud_router(RlsTask, prefix="/tasks", scope=ORG_SCOPE, async_=target.async_)
    )

    async def without_lifespan(scope: Any, receive: Any, send: Any) -> None:
        scope["state"] = {STATE_KEY: database}
        await app(scope, receive, send)

    with TestClient(without_lifespan) as client:
        with pytest.raises(RuntimeError, match="Row-level security needs PostgreSQL"):
            client.get("/tasks/", headers={"x-org": "1"})
        with pytest.raises(RuntimeError, match="Row-level security needs PostgreSQL"):
            client.post("/tasks/", json={"title": "x"}, headers={"x-org": "1"})
    with database.engine.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(TABLE)).scalar() == 0
        SQLModel.metadata.drop_all(conn, tables=[TABLE])
    asyncio.run(database.dispose())


# --- the option itself ------------------------------------------------------------------


def test_row_scope_database_settings_are_checked() -> None:
    with pytest.raises(ValueError, match=r"names \['team_id'\], which are not scoped"):
        RowScope(current_org, "org_id", database_settings={"team_id": "app.team_id"})
    with pytest.raises(ValueError, match="'org' is not a custom setting name"):
        RowScope(current_org, "org_id", database_settings={"org_id": "org"})
    with pytest.raises(ValueError, match="has no database_settings"):
        _ = RowScope(current_org, "org_id").in_database
    assert (
        ORG_SCOPE.in_database is ORG_SCOPE.in_database
    )  # FastAPI runs it once a request


def test_the_settings_of_one_value_several_and_all() -> None:
    assert ORG_SCOPE.settings_of({"org_id": 7}) == {"app.org_id": '{"7"}'}
    several = {"org_id": RowScope.any_of(9, 7, stamp=7)}
    assert ORG_SCOPE.settings_of(several) == {"app.org_id": '{"7","9"}'}
    assert ORG_SCOPE.settings_of({"org_id": RowScope.ALL}) == {"app.org_id": "*"}


def test_a_missing_grant_is_not_a_row_security_violation(server: Server) -> None:
    """42501 is also "permission denied": that is the app's bug, left unclassified (a 500)."""
    engine = sa.create_engine(sync_url(server.direct))
    try:
        with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError) as denied:
            conn.execute(sa.text("SELECT * FROM pg_authid"))
    finally:
        engine.dispose()
    assert "permission denied" in str(denied.value)
    assert classify(denied.value) is None


# --- a session a dependency already used --------------------------------------------------


def org_of_user(x_org: int = Header()) -> int:
    return x_org


async def org_after_a_query(
    session: AsyncSessionDep, org: int = Depends(org_of_user)
) -> Mapping[str, Any]:
    # As an authentication dependency would: a query on the request's session first.
    await session.exec(text("SELECT 1"))
    return {"org_id": org}


def org_after_a_sync_query(
    session: SessionDep, org: int = Depends(org_of_user)
) -> Mapping[str, Any]:
    session.exec(text("SELECT 1"))
    return {"org_id": org}


def test_a_transaction_a_dependency_began_gets_the_settings_too(
    target: Target, server: Server, via: str, rows: dict[int, list[int]]
) -> None:
    """The scope's dependency queried the session first: its transaction gets the settings late, not never."""
    dependency = org_after_a_query if target.async_ else org_after_a_sync_query
    scope = RowScope(dependency, "org_id", database_settings={"org_id": "app.org_id"})
    database = Database(settings_for(server, via))
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(RlsTask, prefix="/tasks", scope=scope, async_=target.async_)
    )
    in_database = Depends(scope.in_database)
    if target.async_:

        @app.get("/raw")
        async def raw(session: AsyncSessionDep, org: Any = in_database) -> list[int]:
            return list((await session.exec(RAW)).scalars())

    else:

        @app.get("/raw")
        def raw(session: SessionDep, org: Any = in_database) -> list[int]:
            return list(session.exec(RAW).scalars())

    with TestClient(app) as client:
        for org in (1, 2):
            headers = {"x-org": str(org)}
            listed = client.get("/tasks/", headers=headers).json()
            assert [task["id"] for task in listed] == rows[org]
            assert client.get("/raw", headers=headers).json() == rows[org]
            created = client.post("/tasks/", json={"title": "late"}, headers=headers)
            assert created.json()["org_id"] == org
    asyncio.run(database.dispose())


def test_a_session_that_joins_an_outer_transaction_gets_the_settings(
    server: Server, rows: dict[int, list[int]]
) -> None:
    """A test's rolled-back session (an override of get_session) joins a transaction begun before the request."""
    engine = sa.create_engine(sync_url(server.direct))
    database = Database(settings_for(server, "direct"))
    with engine.connect() as conn:
        outer = conn.begin()

        def rolled_back() -> Iterator[Session]:
            with Session(
                bind=conn, join_transaction_mode="create_savepoint"
            ) as session:
                yield session

        app = make_app(database, async_=False)
        app.dependency_overrides[get_session] = rolled_back
        with TestClient(app) as client:
            for org in (1, 2):
                headers = {"x-org": str(org)}
                listed = client.get("/tasks/", headers=headers).json()
                assert [task["id"] for task in listed] == rows[org]
                created = client.post(
                    "/tasks/", json={"title": "kept?"}, headers=headers
                )
                assert created.json()["org_id"] == org
        outer.rollback()
    engine.dispose()
    asyncio.run(database.dispose())
