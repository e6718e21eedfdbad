"""Pins of the upstream internals `sqlmodel_production._compat` wraps: each fails when one moves.

Each test checks what the package relies on: the private name is there, with
the signature it is called with, and a small real call behaves as the package
expects. No database server: SQLite in memory where a test needs one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import sqlite3
from collections.abc import Callable
from typing import Annotated, Any

import greenlet  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
import sqlalchemy.util
from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.routing import APIRoute
from pydantic import (
    BaseModel,
    Field,
    Json,
    field_serializer,
    field_validator,
    model_validator,
)
from sqlalchemy import event, exc
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.compiler import SQLCompiler
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Message

from sqlmodel_production import _compat
from sqlmodel_production.models import UTCDateTime


def _parameters(fn: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(fn).parameters)


# SQLAlchemy: the greenlet bridge


def test_greenlet_spawn_runs_sync_code_that_awaits() -> None:
    assert _parameters(sqlalchemy.util.greenlet_spawn) == [
        "fn",
        "args",
        "_require_await",
        "kwargs",
    ]

    def work(a: int, *, b: int) -> int:
        return _compat.await_(asyncio.sleep(0, result=a)) + b

    assert asyncio.run(_compat.greenlet_spawn(work, 2, b=3)) == 5


def test_greenlet_spawn_passes_errors_through() -> None:
    def fail() -> None:
        _compat.await_(asyncio.sleep(0))
        raise LookupError("from the greenlet")

    with pytest.raises(LookupError, match="from the greenlet"):
        asyncio.run(_compat.greenlet_spawn(fail))


def test_await_outside_the_greenlet_raises_missing_greenlet() -> None:
    # SQLAlchemy 2.1's name; the package falls back to `await_only` on 2.0.
    assert _parameters(sqlalchemy.util.await_) == ["awaitable"]
    coroutine = asyncio.sleep(0)
    with pytest.raises(exc.MissingGreenlet):
        _compat.await_(coroutine)
    assert coroutine.cr_frame is None  # closed: no "never awaited" warning


def test_in_greenlet_only_under_greenlet_spawn() -> None:
    from sqlalchemy.util.concurrency import in_greenlet

    assert _parameters(in_greenlet) == []
    assert _compat.in_greenlet() is False
    assert asyncio.run(_compat.greenlet_spawn(_compat.in_greenlet)) is True


def test_greenlets_of_greenlet_spawn_carry_the_marker() -> None:
    def current_and_parent() -> tuple[Any, Any]:
        current = greenlet.getcurrent()
        return current, current.parent

    spawned, parent = asyncio.run(_compat.greenlet_spawn(current_and_parent))
    assert _compat.is_sqlalchemy_greenlet(spawned) is True
    # The walk to the user's line goes on in the parent, where the event loop runs.
    assert parent is greenlet.getcurrent()
    assert _compat.is_sqlalchemy_greenlet(parent) is False
    assert _compat.is_sqlalchemy_greenlet(greenlet.greenlet(lambda: None)) is False


# SQLAlchemy: engine, pool and dialect internals


def test_queue_pool_max_overflow_is_the_overflow_limit() -> None:
    engine = sa.create_engine(
        "sqlite://", poolclass=QueuePool, pool_size=1, max_overflow=1, pool_timeout=0.01
    )
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    assert _compat.queue_pool_max_overflow(pool) == 1
    first, second = engine.raw_connection(), engine.raw_connection()
    with pytest.raises(exc.TimeoutError):  # pool_size + max_overflow are out
        engine.raw_connection()
    first.close()
    second.close()
    engine.dispose()
    unbounded = sa.create_engine("sqlite://", poolclass=QueuePool, pool_size=0)
    assert isinstance(unbounded.pool, QueuePool)
    assert _compat.queue_pool_max_overflow(unbounded.pool) == -1


def test_raise_dbapi_error_wraps_and_runs_handle_error_listeners() -> None:
    assert _parameters(sa.Connection._handle_dbapi_exception_noconnection)[:3] == [
        "e",
        "dialect",
        "engine",
    ]
    engine = sa.create_engine("sqlite://")
    seen: list[sa.engine.ExceptionContext] = []
    event.listen(engine, "handle_error", seen.append)
    error = sqlite3.OperationalError("unable to open database file")
    with pytest.raises(exc.OperationalError) as raised:
        try:
            raise error
        except sqlite3.Error as caught:
            _compat.raise_dbapi_error(caught, engine)
    assert raised.value.orig is error
    assert raised.value.connection_invalidated is False
    (context,) = seen
    assert context.engine is engine
    assert context.connection is None
    assert context.original_exception is error
    assert context.sqlalchemy_exception is raised.value


def test_raise_dbapi_error_raises_what_a_listener_returns_and_flags_disconnects() -> (
    None
):
    engine = sa.create_engine("sqlite://")

    class Lost(Exception):
        pass

    disconnects: list[bool] = []

    @event.listens_for(engine, "handle_error")
    def replace(context: sa.engine.ExceptionContext) -> Exception:
        disconnects.append(context.is_disconnect)
        return Lost()  # what `mark_lost_connections` does

    # SQLite's dialect recognizes this message as a disconnect.
    error = sqlite3.ProgrammingError("Cannot operate on a closed database.")
    with pytest.raises(Lost):
        try:
            raise error
        except sqlite3.Error as caught:
            _compat.raise_dbapi_error(caught, engine)
    assert disconnects == [True]


def test_raise_adapted_error_translates_asyncpg_errors() -> None:
    asyncpg = pytest.importorskip("asyncpg")
    from sqlalchemy.dialects.postgresql.asyncpg import (
        AsyncAdapt_asyncpg_connection,
        PGDialect_asyncpg,
    )

    assert _parameters(AsyncAdapt_asyncpg_connection._handle_exception) == [
        "self",
        "error",
    ]

    class ClosedConnection:
        """Stands in for an asyncpg connection the server closed: the adapter asks only this."""

        def is_closed(self) -> bool:
            return True

    dbapi = PGDialect_asyncpg.import_dbapi()
    adapted = AsyncAdapt_asyncpg_connection(dbapi, ClosedConnection())
    adapted._transaction = object()
    error = asyncpg.exceptions.UniqueViolationError("duplicate key value")
    with pytest.raises(dbapi.IntegrityError) as raised:
        _compat.raise_adapted_error(adapted, error)
    assert raised.value.__cause__ is error
    assert raised.value.sqlstate == "23505"
    assert adapted._transaction is None  # a closed connection has no transaction
    with pytest.raises(dbapi.InterfaceError):
        _compat.raise_adapted_error(
            adapted, asyncpg.exceptions.InterfaceError("connection is closed")
        )
    socket_error = ConnectionResetError("reset by peer")
    with pytest.raises(ConnectionResetError) as passed:  # OSErrors pass through
        _compat.raise_adapted_error(adapted, socket_error)
    assert passed.value is socket_error


@pytest.mark.parametrize(
    ("type_", "affinity"),
    [
        (sa.String(30), sa.String),
        (sa.Text(), sa.String),
        (postgresql.VARCHAR(3), sa.String),
        (sa.Enum("a", "b"), sa.String),  # hence the package's own Enum check
        (sa.BigInteger(), sa.Integer),
        (sa.Boolean(), sa.Boolean),
        (sa.Numeric(10, 2), sa.Numeric),
        (sa.Double(), sa.Float),
        (postgresql.TIMESTAMP(), sa.DateTime),
        (mysql.DATETIME(fsp=6), sa.DateTime),
        (UTCDateTime(), sa.DateTime),  # a TypeDecorator answers for its impl
        (sa.Date(), sa.Date),
        (sa.Time(), sa.Time),
        (postgresql.UUID(), sa.Uuid),
        (sa.Interval(), sa.Interval),
        (sa.JSON(), sa.JSON),
        (postgresql.ARRAY(sa.Integer), sa.ARRAY),
    ],
    ids=repr,
)
def test_type_affinity_is_the_generic_type(
    type_: sa.types.TypeEngine[Any], affinity: type[Any]
) -> None:
    assert _compat.type_affinity(type_) is affinity


# SQLAlchemy: custom SQL constructs


@_compat.traverse_clauses("left", "right")
class _Either(sa.ColumnElement[bool]):
    inherit_cache = True
    type = sa.Boolean()

    def __init__(
        self, left: sa.ColumnElement[bool], right: sa.ColumnElement[bool]
    ) -> None:
        self.left = left
        self.right = right


@_compat.implicitly_boolean
class _Condition(_Either):
    inherit_cache = True


@compiles(_Either)
def _compile_either(element: _Either, compiler: SQLCompiler, **kw: Any) -> str:
    left = compiler.process(element.left, **kw)
    return f"({left} OR {compiler.process(element.right, **kw)})"


_numbers = sa.Table("numbers", sa.MetaData(), sa.Column("n", sa.Integer))


def test_traverse_clauses_makes_children_part_of_the_cache_key() -> None:
    from sqlalchemy.sql.visitors import InternalTraversal

    n = _numbers.c.n
    left, right = n == 1, n == 2
    assert _Either._traverse_internals == [
        ("left", InternalTraversal.dp_clauseelement),
        ("right", InternalTraversal.dp_clauseelement),
    ]
    assert list(_Either(left, right).get_children()) == [left, right]
    same_shape = _Either(n == 3, n == 4)._generate_cache_key()
    assert same_shape is not None  # without its children, a construct is not cached
    assert _Either(left, right)._generate_cache_key() == same_shape
    assert _Either(left, n > 2)._generate_cache_key() != same_shape
    engine = sa.create_engine("sqlite://")
    with engine.begin() as connection:
        _numbers.create(connection)
        connection.execute(_numbers.insert(), [{"n": i} for i in range(1, 6)])

        def numbers(condition: _Either) -> list[int]:
            query = sa.select(n).where(condition).order_by(n)
            return list(connection.scalars(query))

        # The second statement comes from the cache: with this execution's values.
        assert numbers(_Either(n == 1, n == 2)) == [1, 2]
        assert numbers(_Either(n == 4, n == 5)) == [4, 5]
        assert numbers(_Either(n == 1, n > 3)) == [1, 4, 5]
    engine.dispose()


def test_implicitly_boolean_renders_the_condition_as_is() -> None:
    n = _numbers.c.n
    dialect = mysql.dialect()
    assert not dialect.supports_native_boolean

    def where(condition: sa.ColumnElement[bool]) -> str:
        sql = str(sa.select(n).where(condition).compile(dialect=dialect))
        return sql.partition("WHERE ")[2]

    assert where(_Either(n == 1, n == 2)).endswith(") = 1")  # without the flag
    assert where(_Condition(n == 1, n == 2)) == ("(numbers.n = %s OR numbers.n = %s)")
    assert _Condition._is_implicitly_boolean is True


# pydantic


def test_has_validators_reads_every_validator_style() -> None:
    from pydantic._internal._decorators import DecoratorInfos

    names = {field.name for field in dataclasses.fields(DecoratorInfos)}
    assert {
        "validators",
        "field_validators",
        "root_validators",
        "model_validators",
    } <= names

    class Plain(BaseModel):
        name: str = Field(max_length=5)

        @field_serializer("name")
        def shout(self, name: str) -> str:  # serializers do not validate
            return name.upper()

    class FieldChecked(BaseModel):
        name: str

        @field_validator("name")
        @classmethod
        def strip(cls, name: str) -> str:
            return name.strip()

    class ModelChecked(BaseModel):
        name: str

        @model_validator(mode="after")
        def check(self) -> ModelChecked:
            return self

    class Inherited(FieldChecked):
        age: int = 0

    assert _compat.has_validators(Plain) is False
    assert _compat.has_validators(FieldChecked) is True
    assert _compat.has_validators(ModelChecked) is True
    assert _compat.has_validators(Inherited) is True


# Starlette


def test_set_request_body_is_what_the_request_reads_next() -> None:
    async def receive() -> Message:
        raise AssertionError("the stream was read again")

    async def read() -> tuple[bytes, Any, list[bytes]]:
        request = Request({"type": "http", "method": "POST", "headers": []}, receive)
        _compat.set_request_body(request, b'{"name": "Deadpond"}')
        chunks = [chunk async for chunk in request.stream()]
        return await request.body(), await request.json(), chunks

    body, json, chunks = asyncio.run(read())
    assert body == b'{"name": "Deadpond"}'
    assert json == {"name": "Deadpond"}
    assert b"".join(chunks) == body


# FastAPI


def _ping() -> dict[str, str]:
    return {}


def test_expand_included_routers_lists_every_route() -> None:
    inner = APIRouter()
    inner.add_api_route("/inner", _ping, name="inner")
    outer = APIRouter()
    outer.add_api_route("/outer", _ping, name="outer")
    outer.include_router(inner, prefix="/in")
    app = FastAPI()
    app.add_api_route("/top", _ping, name="top")
    app.include_router(outer, prefix="/out")
    # FastAPI >= 0.163 keeps an included router as one entry (0.165.0 here).
    included = [r for r in app.routes if hasattr(r, "original_router")]
    assert [r.original_router for r in included] == [outer]
    names = [
        getattr(r, "name", None) for r in _compat.expand_included_routers(app.routes)
    ]
    assert names[-3:] == ["top", "outer", "inner"]


def _b() -> int:
    return 1


def _a(b: Annotated[int, Depends(_b)], page: int = 1) -> int:
    return b


def _c() -> None:
    return None


class _Filters(BaseModel):
    name: str | None = None
    min_age: int | None = Field(default=None, alias="min-age")


def _endpoint(
    a: Annotated[int, Depends(_a)],
    q: str | None = None,
    size: Annotated[int, Query(alias="page-size")] = 10,
) -> int:
    return a


def _with_model(filters: Annotated[_Filters, Query()]) -> None:
    return None


def _route(path: str, endpoint: Callable[..., Any], **kw: Any) -> Any:
    router = APIRouter()
    router.add_api_route(path, endpoint, **kw)
    (route,) = router.routes
    return route


def test_dependency_calls_walks_the_dependency_tree() -> None:
    route = _route("/x", _endpoint, dependencies=[Depends(_c)])
    assert route.dependant.call is _endpoint
    assert _compat.dependency_calls(route) == [_c, _a, _b]
    assert _compat.dependency_calls(Route("/plain", _ping)) is None
    assert _compat.dependency_calls(None) is None


def test_query_parameters_of_the_route_and_its_dependencies() -> None:
    route = _route("/x", _endpoint)
    assert _compat.query_parameters(route) == [
        ("q", str | None),
        ("page-size", int),
        ("page", int),
    ]
    # A query parameter model is one entry: its fields are the parameters.
    assert _compat.query_parameters(_route("/m", _with_model)) == [
        ("filters", _Filters)
    ]
    assert _compat.query_parameters(Route("/plain", _ping)) is None


def test_scope_route_is_the_api_route_with_its_dependant() -> None:
    """The list endpoint finds the route of the request in `scope["route"]`."""
    from fastapi.testclient import TestClient

    found: list[Any] = []

    def capture(request: Request) -> None:
        found.append(request.scope.get("route"))

    router = APIRouter()
    router.add_api_route("/x", _ping, dependencies=[Depends(capture)])
    app = FastAPI()
    app.include_router(router, prefix="/r")
    with TestClient(app) as client:
        assert client.get("/r/x").status_code == 200
    (route,) = found
    assert _compat.dependency_calls(route) == [capture]


def test_fail_request_body_makes_the_next_read_raise() -> None:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    error = RuntimeError("lost")
    _compat.fail_request_body(request, error)
    with pytest.raises(RuntimeError) as caught:
        asyncio.run(request.body())
    assert caught.value is error


def test_effective_route_is_the_inclusion_while_its_handler_is_built() -> None:
    """FastAPI builds an included route's handler again, with the inclusion's dependencies."""
    seen: list[tuple[Any, list[Any]]] = []

    class Recording(APIRoute):
        def get_route_handler(self) -> Any:
            route = _compat.effective_route(self)
            calls = [d.call for d in route.dependant.dependencies]
            seen.append((route, calls))
            return super().get_route_handler()

    router = APIRouter(route_class=Recording)
    router.add_api_route("/x", _ping)
    (original,) = router.routes
    app = FastAPI()
    app.include_router(router, prefix="/r", dependencies=[Depends(_c)])
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        assert client.get("/r/x").status_code == 200
    assert seen[0] == (original, [])
    assert any(route is not original and calls == [_c] for route, calls in seen)
    assert _compat.effective_route(original) is original  # outside a build


def _with_body(hero: _Filters) -> None:
    return None


def _with_two_bodies(hero: _Filters, team: _Filters) -> None:
    return None


def _with_json(data: Annotated[Json[list[int]], Query()]) -> None:
    return None


def test_embeds_body_fields_and_is_json_parameter() -> None:
    assert not _compat.embeds_body_fields(_route("/b", _with_body, methods=["POST"]))
    assert _compat.embeds_body_fields(_route("/b", _with_two_bodies, methods=["POST"]))
    (json_field,) = _route("/j", _with_json).dependant.query_params
    (plain_field, *_) = _route("/x", _endpoint).dependant.query_params
    assert _compat.is_json_parameter(json_field)
    assert not _compat.is_json_parameter(plain_field)


@pytest.mark.parametrize(
    ("annotation", "several"),
    [
        (list[int], True),
        (list[str] | None, True),
        (set[str], True),
        (str, False),
        (str | None, False),
        (bytes, False),
        (int, False),
    ],
)
def test_takes_several_values(annotation: Any, several: bool) -> None:
    assert _compat.takes_several_values(annotation) is several


def test_every_name_says_where_it_was_checked() -> None:
    for name in _compat.__all__:
        doc = inspect.getdoc(getattr(_compat, name)) or ""
        assert "checked on" in doc.lower(), name


def test_observe_pool_waits_times_every_checkout_and_its_timeout() -> None:
    engine = sa.create_engine(
        "sqlite://", poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=0.05
    )
    seen: list[tuple[float, BaseException | None]] = []
    _compat.observe_pool_waits(engine.pool, lambda s, e: seen.append((s, e)))
    held = engine.raw_connection()
    assert len(seen) == 1 and seen[0][1] is None
    with pytest.raises(exc.TimeoutError):
        engine.raw_connection()
    assert len(seen) == 2
    waited, error = seen[1]
    assert isinstance(error, exc.TimeoutError) and waited >= 0.05
    held.close()
    engine.dispose()


def test_fastapi_telemetry_config_is_the_dict_the_app_reads() -> None:
    app = FastAPI()
    config = _compat.fastapi_telemetry_config(app)
    assert config is not None
    assert {
        "tracer_provider",
        "meter_provider",
        "tracing",
        "metrics",
        "exclude",
    } <= set(config)
    assert config is app._native_telemetry.config  # changed in place, read per request
    assert _compat.fastapi_telemetry_config(object()) is None


def test_extend_metric_collection_sees_every_collection_with_the_reader_s_temporality() -> (
    None
):
    from opentelemetry.sdk.metrics import Histogram, MeterProvider
    from opentelemetry.sdk.metrics.export import (
        AggregationTemporality,
        InMemoryMetricReader,
    )

    reader = InMemoryMetricReader(
        preferred_temporality={Histogram: AggregationTemporality.DELTA}
    )
    with pytest.raises(RuntimeError, match="not registered"):
        _compat.extend_metric_collection(reader, lambda data, temporality: data)
    provider = MeterProvider(metric_readers=[reader])
    provider.get_meter("x").create_counter("seen").add(1)
    calls: list[tuple[Any, Any]] = []

    def extend(data: Any, temporality: Any) -> str:
        calls.append((data, temporality))
        return "extended"

    _compat.extend_metric_collection(reader, extend)
    assert reader.get_metrics_data() == "extended"
    (data, temporality), *_ = calls
    assert temporality is AggregationTemporality.DELTA
    names = [
        m.name
        for r in data.resource_metrics
        for s in r.scope_metrics
        for m in s.metrics
    ]
    assert names == ["seen"]
    provider.shutdown()


def test_follow_fastapi_route_gives_the_template_with_the_inclusions_prefixes() -> None:
    from fastapi import APIRouter
    from fastapi.testclient import TestClient

    inner = APIRouter(prefix="/inner")

    @inner.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    outer = APIRouter()
    outer.include_router(inner, prefix="/v1")
    app = FastAPI()
    app.include_router(outer, prefix="/api")
    seen: list[tuple[str | None, str | None, bool]] = []

    class Follow:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return await self.app(scope, receive, send)  # type: ignore[no-any-return]
            followed, owned = _compat.follow_fastapi_route(scope)
            await self.app(scope, receive, send)
            route = getattr(scope.get("route"), "path", None)
            seen.append((_compat.fastapi_route_template(followed), route, owned))

    app.add_middleware(Follow)
    with TestClient(app) as client:
        assert client.get("/api/v1/inner/items/3").status_code == 200
        assert client.get("/nowhere").status_code == 404
    assert seen == [
        ("/api/v1/inner/items/{item_id}", "/inner/items/{item_id}", True),
        (None, None, True),
    ]


# OpenTelemetry: sampling decided before the SDK, spans made as its tracer makes them


def _sdk_tracer(**options: Any) -> tuple[Any, Any, Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )

    provider = TracerProvider(**options)
    spans = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return provider, provider.get_tracer("tests.compat"), spans


def test_root_sampling_decides_a_new_trace_as_the_sdk_s_sampler() -> None:
    import random

    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    sampler = ParentBased(TraceIdRatioBased(0.3))
    _, tracer, _ = _sdk_tracer(sampler=sampler)
    found = _compat.root_sampling(tracer)
    assert found is not None and found.follows_parent
    draw = random.Random(1)
    for _ in range(2000):
        trace_id = draw.getrandbits(128)
        expected = sampler.should_sample(None, trace_id, "x").decision.is_sampled()
        assert (trace_id & ((1 << 64) - 1) < found.bound) is expected


def test_root_sampling_leaves_other_samplers_and_generators_to_the_sdk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
    from opentelemetry.sdk.trace.sampling import (
        ALWAYS_OFF,
        ALWAYS_ON,
        ParentBased,
        TraceIdRatioBased,
    )

    class Mine(TraceIdRatioBased):
        pass

    class Ids(RandomIdGenerator):
        pass

    assert _compat.root_sampling(_sdk_tracer(sampler=ALWAYS_ON)[1]) is None
    assert _compat.root_sampling(_sdk_tracer(sampler=Mine(0.5))[1]) is None
    odd_parent = ParentBased(TraceIdRatioBased(0.5), local_parent_sampled=ALWAYS_OFF)
    assert _compat.root_sampling(_sdk_tracer(sampler=odd_parent)[1]) is None
    ids = _sdk_tracer(sampler=TraceIdRatioBased(0.5), id_generator=Ids())[1]
    assert _compat.root_sampling(ids) is None
    off = _compat.root_sampling(_sdk_tracer(sampler=ALWAYS_OFF)[1])
    assert off is not None and off.bound == 0 and not off.follows_parent
    monkeypatch.setenv("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "true")
    counted = _sdk_tracer(sampler=TraceIdRatioBased(0.5))[1]
    assert _compat.root_sampling(counted) is None  # the SDK counts every span it starts


def test_root_sampling_start_makes_the_span_the_sdk_makes() -> None:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
    from opentelemetry.trace import SpanKind, set_span_in_context

    _, tracer, spans = _sdk_tracer(sampler=ParentBased(TraceIdRatioBased(1.0)))
    found = _compat.root_sampling(tracer)
    assert found is not None
    attributes = {"a": "b", "n": 1}
    theirs = tracer.start_span("x", Context(), SpanKind.SERVER, attributes)
    ours = found.start(
        "x", SpanKind.SERVER, attributes, theirs.context.trace_id, None, Context()
    )
    theirs_child = tracer.start_span(
        "c", set_span_in_context(theirs), SpanKind.CLIENT, attributes
    )
    ours_child = found.start(
        "c", SpanKind.CLIENT, attributes, ours.context.trace_id, ours.context, None
    )
    for span in (theirs_child, ours_child, theirs, ours):
        span.end()
    made = spans.get_finished_spans()
    assert len(made) == 4
    for sdk, mine in ((made[0], made[1]), (made[2], made[3])):
        assert type(mine) is type(sdk)
        assert mine.name == sdk.name and mine.kind == sdk.kind
        assert dict(mine.attributes or {}) == dict(sdk.attributes or {})
        assert mine.context.trace_id == sdk.context.trace_id
        assert mine.context.trace_flags == sdk.context.trace_flags
        assert mine.context.trace_state == sdk.context.trace_state
        assert mine.context.is_remote == sdk.context.is_remote
        assert mine.resource == sdk.resource
        assert mine.instrumentation_scope == sdk.instrumentation_scope
        assert (mine.parent is None) is (sdk.parent is None)
    assert made[1].parent is not None
    assert made[1].parent.span_id == ours.context.span_id


def test_new_trace_flags_of_a_dropped_request_are_the_sdk_s() -> None:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    from sqlmodel_production.telemetry._sampling import UnsampledSpan

    _, tracer, _ = _sdk_tracer(sampler=ALWAYS_OFF)
    dropped = tracer.start_span("x", Context())
    assert dropped.get_span_context().trace_flags == UnsampledSpan._flags
    found = _compat.root_sampling(tracer)
    assert found is not None and found.unsampled_flags == UnsampledSpan._flags
    ours = UnsampledSpan(12345).get_span_context()
    assert ours.is_valid and not ours.is_remote and not ours.trace_flags.sampled


def test_set_valid_attributes_sets_what_set_attributes_sets() -> None:
    from opentelemetry.sdk.trace import SpanLimits

    _, tracer, spans = _sdk_tracer()
    direct, public = tracer.start_span("a"), tracer.start_span("b")
    _compat.set_valid_attributes(direct, {"http.route": "/x", "n": 200})
    public.set_attributes({"http.route": "/x", "n": 200})
    direct.end()
    public.end()
    _compat.set_valid_attributes(
        direct, {"late": 1}
    )  # ended: as set_attributes, ignored
    first, second = spans.get_finished_spans()
    assert dict(first.attributes or {}) == dict(second.attributes or {})
    assert "late" not in (first.attributes or {})
    _, short, spans = _sdk_tracer(span_limits=SpanLimits(max_span_attribute_length=2))
    cut = short.start_span("c")
    _compat.set_valid_attributes(cut, {"s": "long"})
    cut.end()
    assert dict(spans.get_finished_spans()[0].attributes or {}) == {"s": "lo"}


def test_the_otel_context_var_is_the_one_the_context_api_uses() -> None:
    from opentelemetry import context
    from opentelemetry.trace import INVALID_SPAN, set_span_in_context

    var = _compat.otel_context_var()
    assert var is not None
    token = var.set(context.set_value("k", 1))
    try:
        assert context.get_value("k") == 1
    finally:
        var.reset(token)
    token = context.attach(context.set_value("k", 2))
    try:
        assert var.get().get("k") == 2
    finally:
        context.detach(token)
    key = _compat.current_span_key()
    made = context.Context({key: INVALID_SPAN})
    assert made == set_span_in_context(INVALID_SPAN, context.Context())
