"""The short way of generated routes: it skips FastAPI's dependency solving, and answers as FastAPI does.

The same router is served twice, on two tables of the same shape: on the short
way, and with the short way turned off (FastAPI's whole way). Every request,
good or bad, must get the same status, headers and body from both, with and
without a dependency of the app's.
"""

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Annotated, Any

import fastapi.dependencies.utils
import fastapi.routing
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException
from fastapi.testclient import TestClient
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.api import RowScope, crud_router, install_error_handlers
from sqlmodel_production.api._fast_route import ShortWay
from sqlmodel_production.models import IntPK, Versioned
from tests.conftest import Target


class Gadget(IntPK, Versioned):
    name: str = Field(max_length=20, index=True)
    price: Decimal = Field(default=Decimal("0"), max_digits=12, decimal_places=2)
    stock: int = 0
    active: bool = True
    owner: str = Field(default="ann", max_length=20)


class FrGadget(Gadget, table=True):
    __tablename__ = "fr_gadget"


class FrGadgetTwin(Gadget, table=True):
    __tablename__ = "fr_gadget_twin"


TABLES = [FrGadget.__table__, FrGadgetTwin.__table__]  # type: ignore[attr-defined]


def _nothing() -> None:
    """A dependency that does nothing."""


def _router(async_: bool, model: type[Gadget] = FrGadget, **options: Any) -> APIRouter:
    return crud_router(
        model,
        name="Gadget",
        prefix="/fr-gadgets",
        async_=async_,
        created_status=201,
        filters={"name": ["eq", "in"], "stock": ["ge"]},
        order_by=["name", "stock"],
        max_limit=50,
        **options,
    )


def _tenant(x_tenant: Annotated[int | None, Header(ge=1)] = None) -> int | None:
    """A dependency with a header of its own, which can fail validation."""
    if x_tenant == 403:
        raise HTTPException(status_code=403, detail="Not this tenant")
    return x_tenant


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Each time FastAPI solved dependencies: the path, and `all` or `dependencies` (only)."""
    calls: list[tuple[str, str]] = []
    solve = fastapi.dependencies.utils.solve_dependencies

    async def counting(*, request: Any, dependant: Any, **kw: Any) -> Any:
        if dependant.call is None:  # the short way's: the route's dependencies only
            calls.append((request.url.path, "dependencies"))
        elif getattr(dependant.call, "__smp_generated__", False):  # the endpoint's
            calls.append((request.url.path, "all"))
        return await solve(request=request, dependant=dependant, **kw)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    monkeypatch.setattr(fastapi.dependencies.utils, "solve_dependencies", counting)
    return calls


@pytest.fixture(params=["plain", "with a dependency"])
def clients(
    request: pytest.FixtureRequest,
    target: Target,
    make_database: Callable[..., Database],
) -> Iterator[tuple[TestClient, TestClient]]:
    """The router on the short way, and the same router on FastAPI's whole way."""
    with make_database().engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
    dependencies = [Depends(_tenant)] if request.param != "plain" else []
    apps = []
    for model, short_way in ((FrGadget, True), (FrGadgetTwin, False)):
        # Each app its own `Database`: each test client runs its own event loop.
        database = make_database()
        app = FastAPI(lifespan=database.lifespan)
        with pytest.MonkeyPatch.context() as patch:
            if not short_way:  # handlers are built as routes are made and included
                patch.setattr(ShortWay, "of", classmethod(lambda cls, route: None))
            app.include_router(_router(target.async_, model), dependencies=dependencies)
        install_error_handlers(app)
        apps.append(app)
    with TestClient(apps[0]) as short, TestClient(apps[1]) as full:
        yield short, full


def _seen(response: Any) -> tuple[int, dict[str, str], Any]:
    """What a client sees; the row's own id and a cursor (which names its table) are left out."""
    headers = {
        k: "(cursor)" if k == "x-next-cursor" else v
        for k, v in response.headers.items()
        if k not in ("date", "location", "content-length")
    }
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body.pop("id", None)
    if isinstance(body, list):
        body = [
            {k: v for k, v in row.items() if k != "id"}
            if isinstance(row, dict)
            else row
            for row in body
        ]
    return response.status_code, headers, body


JSON = {"content-type": "application/json"}
# Requests with a body: good ones, and every way a body can be refused.
WRITES: list[tuple[str, str, dict[str, str], bytes]] = [
    ("POST", "/fr-gadgets/", JSON, b'{"name": "a", "price": "9.99", "stock": 3}'),
    ("POST", "/fr-gadgets/", JSON, b'{"name": "b", "price": 1.1, "stock": 4.0}'),
    ("POST", "/fr-gadgets/", JSON, b'{"name": "bb", "stock": "4"}'),
    ("POST", "/fr-gadgets/", JSON, b'{"name": "bc", "stock": false}'),
    (
        "POST",
        "/fr-gadgets/",
        {"content-type": "application/json; charset=utf-8"},
        b'{"name": "c"}',
    ),
    (
        "POST",
        "/fr-gadgets/",
        {"content-type": "application/merge-patch+json"},
        b'{"name": "d"}',
    ),
    ("POST", "/fr-gadgets/", JSON, b'{"name": "e", "unknown": 1}'),
    ("POST", "/fr-gadgets/", JSON, b'{"name": "f", "price": "1.234"}'),
    ("POST", "/fr-gadgets/", JSON, b'{"name": "g", "stock": NaN}'),
    ("POST", "/fr-gadgets/", JSON, b'{"name": '),
    ("POST", "/fr-gadgets/", JSON, b""),
    ("POST", "/fr-gadgets/", JSON, b"[]"),
    ("POST", "/fr-gadgets/", JSON, b'{"stock": 1}'),
    ("POST", "/fr-gadgets/", {"content-type": "text/plain"}, b'{"name": "h"}'),
    ("POST", "/fr-gadgets/", {}, b'{"name": "i"}'),
    ("POST", "/fr-gadgets/", JSON, b'{"name": "' + b"x" * 30 + b'"}'),
    # What no database stores: a NUL, a lone surrogate (high, low, in a bulk row).
    ("POST", "/fr-gadgets/", JSON, b'{"name": "nul\\u0000"}'),
    ("POST", "/fr-gadgets/", JSON, b'{"name": "high\\ud800"}'),
    ("POST", "/fr-gadgets/", JSON, b'{"name": "low\\udfff", "owner": "\\u0000"}'),
    ("POST", "/fr-gadgets/bulk", JSON, b'[{"name": "ok"}, {"name": "\\u0000"}]'),
    ("POST", "/fr-gadgets/bulk", JSON, b'[{"name": "\\ud800"}]'),
    ("POST", "/fr-gadgets/bulk", JSON, b'[{"name": "j"}, {"name": "k", "stock": -1}]'),
    ("POST", "/fr-gadgets/bulk", JSON, b"[]"),
    ("POST", "/fr-gadgets/bulk", JSON, b'[{"name": "l"}, {"stock": "x"}]'),
    ("PATCH", "/fr-gadgets/1", JSON, b'{"stock": 7}'),
    ("PATCH", "/fr-gadgets/1", {**JSON, "if-match": '"1"'}, b'{"stock": 8}'),
    ("PATCH", "/fr-gadgets/1", {**JSON, "if-match": '"99"'}, b'{"stock": 9}'),
    ("PATCH", "/fr-gadgets/1", JSON, b'{"stock": "many"}'),
    ("PATCH", "/fr-gadgets/1", JSON, b'{"name": "a\\u0000"}'),
    ("PATCH", "/fr-gadgets/1", JSON, b'{"owner": "\\udbff"}'),
    ("PATCH", "/fr-gadgets/abc", JSON, b'{"stock": 1}'),
    ("PATCH", "/fr-gadgets/99999999999999999999", JSON, b'{"stock": 1}'),
    ("PATCH", "/fr-gadgets/424242", JSON, b'{"stock": 1}'),
    ("DELETE", "/fr-gadgets/424242", {}, b""),
    ("POST", "/fr-gadgets/", {**JSON, "x-tenant": "0"}, b'{"name": "m"}'),
    ("POST", "/fr-gadgets/", {**JSON, "x-tenant": "abc"}, b'{"name": "'),
    ("POST", "/fr-gadgets/", {**JSON, "x-tenant": "403"}, b'{"name": "n"}'),
    ("POST", "/fr-gadgets/", {**JSON, "x-tenant": "403"}, b'{"name": 1}'),
]
READS = [
    "/fr-gadgets/",
    "/fr-gadgets/?limit=2&order_by=-stock,name",
    "/fr-gadgets/?limit=2&order_by=name&count=true",
    "/fr-gadgets/?name=a",
    "/fr-gadgets/?name__in=a,b",
    "/fr-gadgets/?stock__ge=3&count=1",
    "/fr-gadgets/?limit=0",
    "/fr-gadgets/?limit=51",
    "/fr-gadgets/?limit=abc&offset=-1",
    "/fr-gadgets/?limit=1&limit=2",
    "/fr-gadgets/?nmae=a",
    "/fr-gadgets/?order_by=price",
    "/fr-gadgets/?cursor=garbage",
    "/fr-gadgets/?cursor=&order_by=",
    # A NUL in a string parameter; UTF-8 of a surrogate (not UTF-8 at all).
    "/fr-gadgets/?name=a%00b",
    "/fr-gadgets/?name__in=a&name__in=%00",
    "/fr-gadgets/?order_by=name%00",
    "/fr-gadgets/?name=%ED%A0%80",
    # Cursors of the wrong shape (length, alphabet, padding, size) and of the right one.
    "/fr-gadgets/?cursor=a",
    "/fr-gadgets/?cursor=WyJ%2B",
    "/fr-gadgets/?cursor=WyI%3D",
    "/fr-gadgets/?cursor=" + "A" * 4097,
    "/fr-gadgets/?cursor=AAAA",
    "/fr-gadgets/?cursor=%00AAA",
    # A cursor with an offset; with offset 0 (the default) it is no offset.
    "/fr-gadgets/?offset=1&cursor=AAAA",
    "/fr-gadgets/?offset=0&cursor=AAAA",
    "/fr-gadgets/?offset=1&cursor=",
    # A key named again; a key of the wrong shape; a number no column holds.
    "/fr-gadgets/?order_by=name,-name,%20name",
    "/fr-gadgets/?order_by=name,,stock",
    "/fr-gadgets/?order_by=name%09",
    "/fr-gadgets/?stock__ge=99999999999",
    "/fr-gadgets/1",
    "/fr-gadgets/2",
    "/fr-gadgets/0",
    "/fr-gadgets/abc",
    "/fr-gadgets/-5",
    "/fr-gadgets/?x_tenant=1",
]


def test_every_request_is_answered_as_fastapi_answers_it(
    clients: tuple[TestClient, TestClient],
) -> None:
    short, full = clients
    for method, path, headers, body in WRITES:
        a = short.request(method, path, headers=headers, content=body)
        b = full.request(method, path, headers=headers, content=body)
        assert _seen(a) == _seen(b), (method, path, body)
    for path in READS:
        a, b = short.get(path), full.get(path)
        assert _seen(a) == _seen(b), path
    for client in (short, full):
        etag = client.get("/fr-gadgets/1").headers["etag"]
        assert (
            client.get("/fr-gadgets/1", headers={"if-none-match": etag}).status_code
            == 304
        )
    pages = []
    for client in (short, full):
        first = client.get("/fr-gadgets/?limit=1&order_by=name")
        cursor = first.headers["x-next-cursor"]
        pages.append(client.get(f"/fr-gadgets/?limit=1&order_by=name&cursor={cursor}"))
    assert _seen(pages[0]) == _seen(pages[1])
    assert pages[0].json()[0]["name"] == "b"
    with_offset = [
        client.get(f"/fr-gadgets/?limit=1&order_by=name&offset=1&cursor={cursor}")
        for client in (short, full)
    ]
    assert _seen(with_offset[0]) == _seen(with_offset[1])
    assert with_offset[0].status_code == 422


@pytest.mark.only("sqlite")
def test_fastapi_solves_only_the_dependencies_and_only_of_routes_that_have_them(
    target: Target, database: Database, solved: list[tuple[str, str]]
) -> None:
    owners = {"owner": "ann"}
    scope = RowScope(lambda: owners, "owner")
    with database.engine.begin() as conn:
        SQLModel.metadata.create_all(conn, tables=TABLES)
    app = FastAPI(lifespan=database.lifespan)
    prefixes = ("/plain", "/router-dependency", "/included-with-one", "/scoped")
    app.include_router(_router(target.async_), prefix=prefixes[0])
    app.include_router(
        _router(target.async_, dependencies=[Depends(_nothing)]), prefix=prefixes[1]
    )
    app.include_router(
        _router(target.async_), prefix=prefixes[2], dependencies=[Depends(_nothing)]
    )
    app.include_router(_router(target.async_, scope=scope), prefix=prefixes[3])
    install_error_handlers(app)
    with TestClient(app) as client:
        for prefix in prefixes:
            created = client.post(f"{prefix}/fr-gadgets/", json={"name": "a"})
            assert created.status_code == 201, created.text
            key = created.json()["id"]
            assert client.get(f"{prefix}/fr-gadgets/{key}").status_code == 200
            assert client.get(f"{prefix}/fr-gadgets/?name=a").status_code == 200
            patched = client.patch(f"{prefix}/fr-gadgets/{key}", json={"stock": 2})
            assert patched.status_code == 200
            assert client.delete(f"{prefix}/fr-gadgets/{key}").status_code == 200
        # A bad request goes FastAPI's whole way, whose 422 it answers.
        assert client.get("/plain/fr-gadgets/?limit=0").status_code == 422
        # An override of the scope's dependency applies on the short way.
        created = client.post("/scoped/fr-gadgets/", json={"name": "b"}).json()
        app.dependency_overrides[scope.dependency] = lambda: {"owner": "bob"}
        assert client.get(f"/scoped/fr-gadgets/{created['id']}").status_code == 404
        assert client.get("/scoped/fr-gadgets/").json() == []
    counted = {
        (prefix, kind): sum(
            path.startswith(prefix) and way == kind for path, way in solved
        )
        for prefix in prefixes
        for kind in ("all", "dependencies")
    }
    # Simple dependencies (path, query and header parameters only) are called
    # directly; FastAPI solves them once they are overridden.
    assert counted == {
        ("/plain", "all"): 1,
        ("/plain", "dependencies"): 0,
        **{(p, "all"): 0 for p in prefixes[1:]},
        **{(p, "dependencies"): 0 for p in prefixes[1:3]},
        ("/scoped", "dependencies"): 2,
    }


@pytest.mark.only("sqlite")
def test_a_simple_dependency_runs_once_per_request_and_fastapi_answers_its_bad_header(
    target: Target, database: Database, solved: list[tuple[str, str]]
) -> None:
    calls: list[int | None] = []

    def counted(x_tenant: Annotated[int | None, Header(ge=1)] = None) -> None:
        calls.append(x_tenant)

    with database.engine.begin() as conn:
        SQLModel.metadata.create_all(conn, tables=TABLES)
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        _router(target.async_, dependencies=[Depends(counted)]),
        dependencies=[Depends(counted)],
    )
    install_error_handlers(app)
    with TestClient(app) as client:
        assert client.get("/fr-gadgets/", headers={"x-tenant": "3"}).json() == []
        assert calls == [3]  # used twice, run once (FastAPI's cache)
        bad = client.get("/fr-gadgets/", headers={"x-tenant": "0"})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["header", "x-tenant"]
    assert calls == [3]  # the refused request ran nothing
    # Its dependencies went to FastAPI's solving, whose errors make the 422.
    assert [way for _, way in solved] == ["dependencies"]
