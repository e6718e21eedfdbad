"""Every private API of SQLAlchemy, FastAPI, Starlette, pydantic and OpenTelemetry the package uses.

Nothing else in the package reaches past a library's public API: each name
here wraps one upstream internal, says which versions it was checked on and
why the package needs it, and is pinned by `tests/test_compat.py`, which fails
when the upstream behaviour moves. Fix it here, once.

Checked on SQLAlchemy 2.1.9, FastAPI 0.165.0, Starlette 1.10.0, pydantic
2.14.4, asyncpg 0.32.0, greenlet 3.5.6 and opentelemetry-sdk 1.45.2. Importing this module imports
SQLAlchemy only (no FastAPI: the core stays off it) and does no I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, TypeVar

from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.util import greenlet_spawn as _greenlet_spawn
from sqlalchemy.util.concurrency import in_greenlet as _in_greenlet

try:  # SQLAlchemy 2.1's name; 2.0 has only `await_only` (an alias from 2.1 on)
    from sqlalchemy.util import await_ as _await
except ImportError:  # pragma: no cover
    from sqlalchemy.util import (  # type: ignore[no-redef, unused-ignore]
        await_only as _await,
    )

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool, QueuePool
    from sqlalchemy.sql.elements import ClauseElement, ColumnElement
    from sqlalchemy.types import TypeEngine
    from starlette.requests import Request

__all__ = [
    "RootSampling",
    "await_",
    "current_span_key",
    "dependency_calls",
    "effective_route",
    "embeds_body_fields",
    "expand_included_routers",
    "extend_metric_collection",
    "fastapi_route_template",
    "fail_request_body",
    "fastapi_telemetry_config",
    "follow_fastapi_route",
    "greenlet_spawn",
    "has_validators",
    "implicitly_boolean",
    "in_greenlet",
    "is_json_parameter",
    "is_sqlalchemy_greenlet",
    "observe_pool_waits",
    "otel_context_var",
    "query_parameters",
    "queue_pool_max_overflow",
    "root_sampling",
    "raise_adapted_error",
    "raise_dbapi_error",
    "set_request_body",
    "set_valid_attributes",
    "solve_route_dependencies",
    "takes_several_values",
    "traverse_clauses",
    "type_affinity",
]

T = TypeVar("T")
C = TypeVar("C", bound="type[ClauseElement]")
B = TypeVar("B", bound="type[ColumnElement[bool]]")

# SQLAlchemy: the greenlet bridge (`sqlalchemy.util.concurrency`)


async def greenlet_spawn(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run the sync `fn` in SQLAlchemy's greenlet, where `await_` works.

    Wraps `sqlalchemy.util.greenlet_spawn` (`sqlalchemy.util.concurrency`,
    undocumented); checked on SQLAlchemy 2.1.9. Async endpoints and the async
    health check run the package's sync code there, on the sync side of an
    `AsyncSession` or `AsyncEngine`: it is how `run_sync` runs code.
    """
    return await _greenlet_spawn(fn, *args, **kwargs)


def await_(awaitable: Awaitable[T]) -> T:
    """Wait for `awaitable` from sync code running under `greenlet_spawn`.

    Wraps `sqlalchemy.util.await_` (SQLAlchemy 2.1; `await_only` in 2.0, kept
    as a deprecated alias); checked on SQLAlchemy 2.1.9. The package's sync
    code in SQLAlchemy's greenlet sleeps between retries without blocking the
    loop, and calls asyncpg's own `prepare` / `fetch` this way.

    Raises:
        sqlalchemy.exc.MissingGreenlet: not called under `greenlet_spawn`.
    """
    return _await(awaitable)


def in_greenlet() -> bool:
    """Whether the current code runs in a greenlet `greenlet_spawn` started.

    Wraps `sqlalchemy.util.concurrency.in_greenlet` (undocumented); checked on
    SQLAlchemy 2.1.9. The N+1 detector tells a lazy load an async session is
    about to refuse (`MissingGreenlet`) from one run through `run_sync`.
    """
    return bool(_in_greenlet())


def is_sqlalchemy_greenlet(glet: object) -> bool:
    """Whether `glet` is a greenlet `greenlet_spawn` started.

    Reads the `__sqlalchemy_greenlet_provider__` marker of SQLAlchemy's
    `_AsyncIoGreenlet` (`sqlalchemy.util.concurrency`); checked on SQLAlchemy
    2.1.9. Finding the user's line of a query walks on from such a greenlet to
    its parent, where the user's `await session.exec(...)` waits.
    """
    return bool(getattr(glet, "__sqlalchemy_greenlet_provider__", False))


# SQLAlchemy: engine, pool and dialect internals


def queue_pool_max_overflow(pool: QueuePool) -> int:
    """The `max_overflow` a `QueuePool` was made with (-1: unbounded).

    Reads `QueuePool._max_overflow` (private; -1 also when `pool_size` is 0);
    checked on SQLAlchemy 2.1.9. `pool_stats` and the doctor's pool sizing
    need it, and `QueuePool` has no public accessor for it.
    """
    return int(pool._max_overflow)


def observe_pool_waits(
    pool: Pool, record: Callable[[float, BaseException | None], None]
) -> None:
    """Call `record(seconds, error)` after each checkout from `pool` got a connection or failed.

    Wraps `Pool._do_get` (private: the one call every checkout makes to wait
    for a connection, or to open one, and the one that raises the pool's
    `TimeoutError`) on this pool object; checked on SQLAlchemy 2.1.9.
    SQLAlchemy's pool events fire only once a connection was obtained, so the
    wait before it (`db.client.connection.wait_time`) and the checkouts that
    timed out cannot be seen otherwise. `engine.dispose()` makes a new pool:
    wrap that one too (telemetry does, on `engine_disposed`).
    """
    from time import perf_counter

    do_get = pool._do_get

    def timed_do_get() -> Any:
        started = perf_counter()
        try:
            got = do_get()
        except BaseException as error:
            record(perf_counter() - started, error)
            raise
        record(perf_counter() - started, None)
        return got

    pool._do_get = timed_do_get  # type: ignore[method-assign]


def raise_dbapi_error(error: BaseException, engine: Engine) -> NoReturn:
    """Raise `error`, a failed checkout of `engine`, as `engine.connect()` would.

    Wraps the classmethod `Connection._handle_dbapi_exception_noconnection`
    (private); checked on SQLAlchemy 2.1.9. Call it in the `except` block: it
    reads `sys.exc_info()`. It wraps a DB-API error in SQLAlchemy's
    `DBAPIError`, runs the `handle_error` listeners (which may raise another
    error, as `mark_lost_connections` does) and invalidates the pool on a
    disconnect. The package checks connections out with `raw_connection()`
    for statements it runs on the driver, and their failures must look the
    same as a `Connection`'s.
    """
    from sqlalchemy.engine import Connection

    Connection._handle_dbapi_exception_noconnection(error, engine.dialect, engine)


def raise_adapted_error(adapted: Any, error: Exception) -> NoReturn:
    """Raise `error` from the driver as SQLAlchemy's async adapter `adapted` would.

    Calls `AsyncAdapt_dbapi_connection._handle_exception` (private), for
    asyncpg `AsyncAdapt_asyncpg_connection._handle_exception`: asyncpg's own
    exception becomes the adapter's DB-API exception (`IntegrityError` with
    its `sqlstate`, the asyncpg error as its `__cause__`), and a closed
    connection forgets its transaction. Checked on SQLAlchemy 2.1.9 with
    asyncpg 0.32.0. The package runs statements through asyncpg's own
    `prepare` / `fetch`, past the adapter, and its errors must be the same.
    """
    adapted._handle_exception(error)
    raise AssertionError("unreachable: the adapter raises")  # pragma: no cover


def type_affinity(type_: TypeEngine[Any]) -> type[TypeEngine[Any]] | None:
    """The generic class of a column type (`String` for `VARCHAR(30)` or `Text`).

    Reads `TypeEngine._type_affinity` (private; a `TypeDecorator` answers for
    its `impl`); checked on SQLAlchemy 2.1.9. The PostgreSQL bulk insert sends
    columns of some generic types as arrays through `unnest`, whatever the
    dialect-specific class of the column.
    """
    return type_._type_affinity


# SQLAlchemy: custom SQL constructs


def traverse_clauses(*attributes: str) -> Callable[[C], C]:
    """Class decorator: the construct's `attributes` hold child clauses.

    Sets `_traverse_internals` (private) to an `InternalTraversal.dp_clauseelement`
    entry per attribute (`sqlalchemy.sql.visitors`); checked on SQLAlchemy
    2.1.9. With `inherit_cache = True`, the children then make the statement
    cache key and carry their bound values (a cached statement gets this
    execution's values), and `get_children` / cloning see them. The package's
    filter constructs are made of other clauses.
    """
    internals = [(name, InternalTraversal.dp_clauseelement) for name in attributes]

    def decorate(cls: C) -> C:
        cls._traverse_internals = internals
        return cls

    return decorate


def implicitly_boolean(cls: B) -> B:
    """Class decorator: the construct is a condition, rendered as is in `WHERE`.

    Sets `ColumnElement._is_implicitly_boolean` (private); checked on
    SQLAlchemy 2.1.9. On a backend without a native boolean (MariaDB, MySQL)
    a `Boolean` expression that is not implicitly boolean is rendered
    `(...) = 1` in `WHERE`, and its negation `(...) = 0`: a comparison no index
    serves. The package's filter constructs are conditions.
    """
    cls._is_implicitly_boolean = True
    return cls


# pydantic


def has_validators(model: type[BaseModel]) -> bool:
    """Whether `model` or a base of it declares a validator of any style.

    Reads `BaseModel.__pydantic_decorators__`, a `DecoratorInfos` of the private
    `pydantic._internal._decorators` (its `validators`, `field_validators`,
    `root_validators` and `model_validators`); checked on pydantic 2.14.4. Bulk
    creates validate rows as plain dicts, without building the model, which
    only holds for a model no validator of its own reads.
    """
    decorators = model.__pydantic_decorators__
    return any(
        (
            decorators.validators,
            decorators.field_validators,
            decorators.root_validators,
            decorators.model_validators,
        )
    )


# Starlette


def set_request_body(request: Request, body: bytes) -> None:
    """Hand `body`, already read from the stream, to whoever reads the request next.

    Sets `Request._body` (private), the cache `Request.body()` fills and
    `body()`, `json()`, `form()` and `stream()` read first; checked on
    Starlette 1.10.0. The body size limit reads a chunked body itself, up to
    the limit, before FastAPI parses it; the stream cannot be read twice.
    """
    request._body = body


def fail_request_body(request: Request, error: BaseException) -> None:
    """Make the next `request.body()` raise `error` again, as reading the stream just did.

    Shadows `Request.body` on this request object (checked on Starlette
    1.10.0, which reads the stream once). The short way of a generated route reads the body first;
    when reading fails, FastAPI's handler reads it again and answers the error
    as it always does (413 past its own body limit, else 400).
    """

    async def body() -> bytes:
        raise error

    request.body = body  # type: ignore[method-assign]


# FastAPI: routes and their dependencies


def effective_route(route: Any) -> Any:
    """What `route` is while FastAPI builds its handler: itself, or the copy `include_router` made.

    From FastAPI 0.163 on, including a router does not copy its routes: each
    route's handler is built again, once per inclusion, with the private
    context variable `fastapi.routing._effective_route_context_var` set to an
    `_EffectiveRouteContext` holding the merged dependencies and overrides;
    `APIRoute.get_route_handler` reads it. Checked on FastAPI 0.165.0. The
    short way of a generated route must see the dependencies the inclusion added.
    """
    from fastapi import routing

    context = routing._effective_route_context_var.get()
    if context is not None and context.original_route is route:
        return context
    return route


async def solve_route_dependencies(route: Any, request: Request) -> Any:
    """Run `route`'s dependencies (not its own parameters) as FastAPI's handler runs them.

    Builds a `Dependant` (internal `fastapi.dependencies.models`) holding only
    the route's sub-dependencies and calls the internal
    `fastapi.dependencies.utils.solve_dependencies` with the route's override
    provider and the request's exit stacks; checked on FastAPI 0.165.0.
    Returns FastAPI's `SolvedDependency` (`values`, `errors`,
    `background_tasks`). The short way of a generated route with a scope or
    dependencies validates its own parameters itself and leaves the
    dependencies, their overrides, caching and exits to FastAPI.
    """
    from fastapi.dependencies.models import Dependant
    from fastapi.dependencies.utils import solve_dependencies

    dependant = route.dependant
    only = Dependant(dependencies=dependant.dependencies, path=dependant.path)
    return await solve_dependencies(
        request=request,
        dependant=only,
        dependency_overrides_provider=route.dependency_overrides_provider,
        async_exit_stack=request.scope["fastapi_inner_astack"],
        embed_body_fields=False,
    )


def embeds_body_fields(route: Any) -> bool:
    """Whether FastAPI expects `route`'s body fields embedded under their names.

    Reads `APIRoute._embed_body_fields` (private); checked on FastAPI 0.165.0.
    The short way of a generated route takes only a body that is not embedded.
    """
    return bool(route._embed_body_fields)


def is_json_parameter(field: Any) -> bool:
    """Whether a parameter's `ModelField` is declared `Json[...]` (its value is JSON text).

    Calls `fastapi.dependencies.utils._is_json_field` (private); checked on
    FastAPI 0.165.0. The short way of a generated route leaves such
    parameters to FastAPI.
    """
    from fastapi.dependencies.utils import _is_json_field

    return bool(_is_json_field(field))


def takes_several_values(annotation: Any) -> bool:
    """Whether FastAPI reads a query or header parameter of this type from every repeated value.

    `fastapi._compat.shared.field_annotation_is_sequence` (private), as FastAPI's
    own parameter reading calls it; checked on FastAPI 0.165.0.
    """
    from fastapi._compat.shared import field_annotation_is_sequence

    return bool(field_annotation_is_sequence(annotation))


def extend_metric_collection(reader: Any, extend: Callable[[Any, Any], Any]) -> None:
    """Pass what `reader` collects through `extend(metrics_data, temporality)` before the reader gets it.

    Wraps `MetricReader._collect` of opentelemetry-sdk (private: the callback
    `MeterProvider` hands each reader with `_set_collect_callback`, which the
    public `collect()` calls) and reads `MetricReader._instrument_class_temporality`
    (private: the temporality the reader asked for, per instrument class);
    checked on opentelemetry-sdk 1.45.2. `temporality` is the one the reader
    wants for histograms. Telemetry's own histograms are aggregated by the
    package (`telemetry/_histograms.py`) and added this way to every reader's
    collection: Prometheus scrapes, OTLP exports and in-memory readers alike.

    Raises:
        RuntimeError: `reader` is not registered on a `MeterProvider`.
    """
    from opentelemetry.sdk.metrics import Histogram

    collect = reader._collect
    if collect is None:
        raise RuntimeError("the metric reader is not registered on a MeterProvider")
    temporality = next(
        wanted
        for kind, wanted in reader._instrument_class_temporality.items()
        if issubclass(kind, Histogram)
    )

    def collect_and_extend(metric_reader: Any, *args: Any, **kwargs: Any) -> Any:
        return extend(collect(metric_reader, *args, **kwargs), temporality)

    reader._collect = collect_and_extend


# OpenTelemetry: a new trace's sampling decision, made before the SDK makes a span


class RootSampling(NamedTuple):
    """How an OpenTelemetry SDK tracer samples, when it is by the trace id and the parent alone.

    What `root_sampling` returns; checked on opentelemetry-sdk 1.45.2 there.
    """

    bound: int
    """A new trace is sampled when the low 64 bits of its trace id are below it."""
    unsampled_flags: int
    """The trace flags of a new trace's span context when it is not sampled."""
    follows_parent: bool
    """Whether a child of a sampled local span is sampled whatever its trace id."""
    start: Callable[..., Any]
    """`start(name, kind, attributes, trace_id, parent, context)`: a span the tracer samples, made as its `start_span` makes it.

    `attributes` must hold valid values only (str, int, float, bool): they are
    not cleaned again unless the span limits truncate or drop attributes."""


def root_sampling(tracer: Any) -> RootSampling | None:
    """How `tracer` samples, when its decision is known from the trace id and the parent alone; None for any other tracer.

    That is when the tracer is the SDK's, its sampler is `TraceIdRatioBased` or
    `ALWAYS_OFF`, or `ParentBased` on one of them with the default samplers for
    parents (what `OTEL_TRACES_SAMPLER`'s `traceidratio`,
    `parentbased_traceidratio`, `always_off` and `parentbased_always_off`
    make), its ids are `RandomIdGenerator`'s and the SDK's own span metrics are
    off. A trace id drawn as `RandomIdGenerator` draws it
    (`random.getrandbits(128)`, never 0) then makes a new trace sampled exactly
    when `trace_id & (2**64 - 1) < bound` (`TraceIdRatioBased`'s test), and a
    child of a sampled local span is sampled when `follows_parent` or its
    trace id passes that test. A dropped request then costs no SDK object;
    `start` makes a sampled span as `Tracer.start_span` does after its sampler
    said yes (the same span context, attributes, processors and limits),
    without asking the sampler again.

    Reads `ParentBased._root` and `._local_parent_sampled`,
    `Tracer._tracer_metrics`, `._span_limits`, `._instrumentation_scope` and
    `._is_enabled()`, makes `opentelemetry.sdk.trace._Span` itself and fills
    its `BoundedAttributes._dict` (all private): half of what a sampled span
    costs is the SDK cleaning attribute values one by one (an ABC check
    each) that are valid already. Checked on opentelemetry-sdk 1.45.2.
    """
    try:
        from opentelemetry.sdk.trace import Tracer, _Span, sampling
        from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
        from opentelemetry.trace import (
            INVALID_SPAN_CONTEXT,
            NonRecordingSpan,
            SpanContext,
            TraceFlags,
        )
    except ImportError:  # pragma: no cover - the telemetry extra brings them
        return None
    if type(tracer) is not Tracer or type(tracer.id_generator) is not RandomIdGenerator:
        return None
    metrics = getattr(tracer, "_tracer_metrics", None)
    if metrics is not None and type(metrics).__name__ != "NoOpTracerMetrics":
        return None  # the SDK counts every span it starts, sampled or not
    sampler: Any = tracer.sampler
    follows_parent = False
    if type(sampler) in _parent_based(sampling):
        if getattr(sampler, "_local_parent_sampled", None) is not sampling.ALWAYS_ON:
            return None
        follows_parent = True
        sampler = getattr(sampler, "_root", None)
    if type(sampler) is sampling.TraceIdRatioBased:
        bound = sampler.bound
    elif sampler is sampling.ALWAYS_OFF:
        bound = 0
    else:
        return None
    limits = tracer._span_limits
    # Values that are already valid (str, int, float, bool) need no cleaning
    # unless the limits truncate strings or could drop some of them.
    unbounded = limits.max_span_attribute_length is None
    most = limits.max_span_attributes
    random_flag = int(getattr(TraceFlags, "RANDOM_TRACE_ID", 0))
    sampled = TraceFlags(TraceFlags.SAMPLED | random_flag)
    new_span_id = tracer.id_generator.generate_span_id

    def start(
        name: str,
        kind: Any,
        attributes: dict[str, Any],
        trace_id: int,
        parent: Any,
        context: Any,
    ) -> Any:
        if not tracer._is_enabled():
            return NonRecordingSpan(parent or INVALID_SPAN_CONTEXT)  # as the SDK does
        as_they_are = unbounded and (most is None or len(attributes) <= most)
        if parent is None:
            flags, state = sampled, None
        else:
            state = parent.trace_state
            flags = TraceFlags(TraceFlags.SAMPLED | (parent.trace_flags & random_flag))
        span = _Span(
            name=name,
            context=SpanContext(
                trace_id,
                new_span_id(),
                is_remote=False,
                trace_flags=flags,
                trace_state=state,
            ),
            parent=parent,
            sampler=tracer.sampler,
            resource=tracer.resource,
            attributes=None if as_they_are else attributes,
            span_processor=tracer.span_processor,
            kind=kind,
            instrumentation_info=tracer.instrumentation_info,
            limits=limits,
            instrumentation_scope=tracer._instrumentation_scope,
        )
        if as_they_are:
            bounded: Any = span._attributes
            bounded._dict.update(attributes)
        span.start(parent_context=context)
        return span

    return RootSampling(
        bound, int(TraceFlags.DEFAULT) | random_flag, follows_parent, start
    )


def current_span_key() -> str:
    """The key of the current span in an OpenTelemetry `Context` (`trace.set_span_in_context` sets it).

    `opentelemetry.trace.propagation._SPAN_KEY` (private); checked on
    opentelemetry-api 1.45.2. A context made at once with the span in it
    (`Context({key: span})`) costs a third of `set_span_in_context`'s copy.
    """
    from opentelemetry.trace.propagation import _SPAN_KEY

    return _SPAN_KEY


def set_valid_attributes(span: Any, attributes: dict[str, Any]) -> None:
    """`span.set_attributes(attributes)` for values that are valid already (str, int, float, bool).

    On a recording span of the SDK whose limits neither truncate values nor
    would drop one, they go straight into its `BoundedAttributes._dict`
    (private) under its lock, as `set_attributes` puts them after cleaning
    each; checked on opentelemetry-sdk 1.45.2. Any other span gets
    `set_attributes`.
    """
    from opentelemetry.sdk.trace import _Span

    bounded = getattr(span, "_attributes", None)
    if (
        type(span) is _Span
        and span._end_time is None
        and bounded is not None
        and bounded.max_value_len is None
        and not bounded._immutable
        and (bounded.maxlen is None or len(bounded) + len(attributes) <= bounded.maxlen)
    ):
        with span._lock:
            bounded._dict.update(attributes)
    else:
        span.set_attributes(attributes)


def otel_context_var() -> Any | None:
    """The `ContextVar` that holds OpenTelemetry's current `Context`; None under another runtime context.

    `opentelemetry.context._RUNTIME_CONTEXT._current_context` (private) when
    the runtime context is the default `ContextVarsRuntimeContext` (not one
    named by `OTEL_PYTHON_CONTEXT`); checked on opentelemetry-api 1.45.2. Its
    `get`, `set` and `reset` are what `context.get_current`, `attach` and
    `detach` call, through two Python functions each, which telemetry's
    statement listeners would pay on every statement.
    """
    from opentelemetry import context
    from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext

    runtime = getattr(context, "_RUNTIME_CONTEXT", None)
    if type(runtime) is not ContextVarsRuntimeContext:
        return None
    return getattr(runtime, "_current_context", None)


def _parent_based(sampling: Any) -> tuple[type, ...]:
    """`ParentBased` and the SDK's subclasses of it that only choose its root sampler."""
    names = ("ParentBasedTraceIdRatio", "_ParentBasedAlwaysOff", "_ParentBasedAlwaysOn")
    found = (getattr(sampling, name, None) for name in names)
    return (sampling.ParentBased, *(kind for kind in found if kind is not None))


def fastapi_telemetry_config(app: object) -> dict[str, Any] | None:
    """The telemetry settings of a FastAPI app (`FastAPI(telemetry={...})`), to change in place; None before FastAPI had them.

    Reads `FastAPI._telemetry` (private: the dict the app's `NativeTelemetry`
    reads on every request); checked on FastAPI 0.165.0. FastAPI's own HTTP
    telemetry (a server span named `{method} {route}`, `http.server.request.duration`,
    trace context in and out) is the one the package's telemetry uses, given its
    providers, so that a request never has two server spans; apps built before
    `instrument` is called take no constructor argument for it.
    """
    config = getattr(app, "_telemetry", None)
    if not isinstance(config, dict) or "tracer_provider" not in config:
        return None
    return config


_FASTAPI_TELEMETRY = "fastapi.telemetry"
_REQUEST_TELEMETRY: list[Any] = []
"""FastAPI's `_RequestTelemetry` class, looked up once (None before FastAPI 0.165)."""


def follow_fastapi_route(scope: MutableMapping[str, Any]) -> tuple[Any, bool]:
    """Have FastAPI note the route template it selects for this request.

    Puts a `fastapi.telemetry._api._RequestTelemetry` (private) under the
    scope's `"fastapi.telemetry"` key, where FastAPI's own telemetry puts
    one: its router then writes the template it matched into it, with the
    prefixes of included routers and mounts (`/api/v1/heroes/{hero_id}`),
    which the matched route alone does not know from FastAPI 0.163 on.
    Checked on FastAPI 0.165.0.

    Returns:
        What `fastapi_route_template` reads (None before FastAPI 0.165; the
        one FastAPI's own telemetry put there, if it did), and whether the
        caller put it there and must pop `"fastapi.telemetry"` afterwards.
    """
    existing = scope.get(_FASTAPI_TELEMETRY)
    if existing is not None:
        return existing, False
    if not _REQUEST_TELEMETRY:
        try:
            from fastapi.telemetry._api import _RequestTelemetry
        except ImportError:  # FastAPI before 0.165
            _REQUEST_TELEMETRY.append(None)
        else:
            _REQUEST_TELEMETRY.append(_RequestTelemetry)
    made = _REQUEST_TELEMETRY[0]
    if made is None:
        return None, False
    prefix = scope.get("app_root_path", scope.get("root_path", ""))
    followed = made(
        span=None, span_method="", data=None, _mount_prefix=prefix.rstrip("/")
    )
    scope[_FASTAPI_TELEMETRY] = followed
    return followed, True


def fastapi_route_template(followed: Any) -> str | None:
    """The template FastAPI selected for the request `follow_fastapi_route` followed; None when no route matched.

    Reads `_RequestTelemetry.route` (private), which FastAPI's router sets;
    checked on FastAPI 0.165.0.
    """
    route = followed.route
    return route if isinstance(route, str) else None


def expand_included_routers(routes: Iterable[Any]) -> Iterator[Any]:
    """The routes, each router added by `include_router` replaced by its own routes.

    Reads `original_router` of FastAPI's private `fastapi.routing._IncludedRouter`:
    from FastAPI 0.163 on, an included router stays one entry of `app.routes`
    (before, its routes were copied in). Checked on FastAPI 0.165.0.
    `override_session` looks at every endpoint of the app.
    """
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from expand_included_routers(included.routes)
        else:
            yield route


def dependency_calls(route: object) -> list[Callable[..., Any]] | None:
    """Every dependency callable of `route`, recursively; None for a route that is no `APIRoute`.

    Reads `APIRoute.dependant`, a `Dependant` of the internal
    `fastapi.dependencies.models`, and its `dependencies` and `call`; checked on
    FastAPI 0.165.0. `override_session` finds the kind of session (sync or
    async) the app's endpoints depend on.
    """
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    calls: list[Callable[..., Any]] = []
    pending = list(dependant.dependencies)
    while pending:
        dependency = pending.pop(0)
        if dependency.call is not None:
            calls.append(dependency.call)
        pending[:0] = dependency.dependencies  # depth first, in declaration order
    return calls


def query_parameters(route: object) -> list[tuple[str, Any]] | None:
    """Name and annotation of each query parameter of `route` and its dependencies.

    None for a route that is no `APIRoute`. A query parameter model (`Annotated[Filters, Query()]`) is one entry, its
    annotation the model. Reads `APIRoute.dependant` (`Dependant` of the internal
    `fastapi.dependencies.models`), its `query_params` and `dependencies`, and
    the `alias` and `field_info` of each `ModelField` (private `fastapi._compat`);
    checked on FastAPI 0.165.0. A list endpoint refuses a query parameter none
    of these declares (a misspelt filter would silently return every row).
    """
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    found: list[tuple[str, Any]] = []
    pending = [dependant]
    while pending:
        current = pending.pop(0)
        found += [(f.alias, f.field_info.annotation) for f in current.query_params]
        pending[:0] = current.dependencies
    return found
