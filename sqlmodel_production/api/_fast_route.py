"""The route class of generated endpoints: FastAPI's own route, with a shorter way through.

FastAPI's request handler is general: for every request it walks the
endpoint's dependency tree, validates each parameter with its own validator,
parses a JSON body into Python objects and validates those, and serializes
what the endpoint returns. A generated endpoint needs little of that, so
its route (`GeneratedRoute`) builds at start-up:

- one validator for all its path, query and header parameters;
- the body's Create / Update validator, run on the request's bytes
  (`validate_json`, no intermediate Python objects);

and calls the endpoint with what they give. The endpoint answers with a
response it serialized itself (`json_response`), so nothing is validated twice.

A route's dependencies (the router's, the row scope's, an app's) run once the
endpoint's own parameters are valid. Where each is simple (a function of path,
query and header parameters only, with no dependencies of its own, not
overridden), the short way validates their parameters the same way and calls
them itself, once each; otherwise FastAPI solves them, with their overrides,
caching and exits. Any request the short way cannot take as
it is (a parameter or body that fails validation, a body that is not JSON)
goes FastAPI's whole way, before anything has run: its answer, a 422 for
instance, is byte for byte FastAPI's.
"""

from __future__ import annotations

import copy
import email.message
import enum
import inspect
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, NotRequired

from fastapi import params
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from sqlmodel_production._compat import (
    effective_route,
    embeds_body_fields,
    fail_request_body,
    is_json_parameter,
    solve_route_dependencies,
    takes_several_values,
)
from sqlmodel_production.api._body_limit import too_large

__all__ = ["GeneratedRoute", "generated_route", "mark_generated"]

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
_GENERATED = "__smp_generated__"
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_IMMUTABLE = (type(None), bool, int, float, str, bytes, tuple, frozenset, enum.Enum)
_ALIASES = ("alias", "validation_alias", "serialization_alias", "alias_priority")


def mark_generated(endpoint: Callable[..., Any]) -> None:
    """Mark an endpoint of the package's: it answers with a `Response` of its own."""
    setattr(endpoint, _GENERATED, True)


class GeneratedRoute(APIRoute):
    """An `APIRoute` whose generated endpoints take the short way when they can.

    The body size limit (`max_body_size`) is checked first, on every route of
    the router. Routes of the user's own on the same router keep FastAPI's
    handler.
    """

    max_body_bytes: int

    def get_route_handler(self) -> Handler:
        full = super().get_route_handler()
        short = ShortWay.of(effective_route(self))
        handler = full if short is None else short.handler(full)
        limit = self.max_body_bytes

        async def limited(request: Request) -> Response:
            if request.method in _WITH_BODY and await too_large(request, limit):
                detail = f"The request body is larger than {limit} bytes"
                return JSONResponse({"detail": detail}, status_code=413)
            return await handler(request)

        return limited


def generated_route(max_body_size: int) -> type[GeneratedRoute]:
    """The route class of a generated router whose endpoints answer 413 to a body over `max_body_size`.

    A declared `Content-Length` over the limit is refused before anything is
    read; a body without one (chunked) is read up to the limit and refused as
    soon as it passes it. Nothing over the limit is parsed, validated or echoed.

    Raises:
        ValueError: `max_body_size` is not a positive number of bytes.
    """
    if max_body_size < 1:
        raise ValueError("max_body_size must be a positive number of bytes")
    return type("GeneratedRoute", (GeneratedRoute,), {"max_body_bytes": max_body_size})


_FULL_WAY: Any = object()
"""What the short way answers for a request it cannot take: FastAPI's handler takes it."""


@dataclass(frozen=True)
class _Param:
    """One path, query or header parameter: where it is read and what it is when absent."""

    name: str
    key: str
    source: str  # "path", "query" or "header"
    several: bool  # a list of values (`?tag=a&tag=b`)
    required: bool
    default: Any

    def absent(self) -> Any:
        """Its value when the request does not send it (`_FULL_WAY` if it must)."""
        if self.required:
            return _FULL_WAY
        default = self.default
        return default if isinstance(default, _IMMUTABLE) else copy.deepcopy(default)


@dataclass(frozen=True)
class _Reader:
    """A dependant's path, query and header parameters, read from the request and validated at once."""

    parameters: tuple[_Param, ...]
    validator: TypeAdapter[dict[str, Any]]

    @classmethod
    def of(cls, dependant: Any) -> _Reader | None:
        """The reader of `dependant`'s parameters; None where one is not read as FastAPI reads it."""
        sources = {
            "path": dependant.path_params,
            "query": dependant.query_params,
            "header": dependant.header_params,
        }
        parameters: list[_Param] = []
        fields: dict[str, Any] = {}
        for source, found in sources.items():
            for field in found:
                param = _parameter(field, source)
                if param is None:
                    return None
                parameters.append(param)
                fields[param.name] = NotRequired[
                    _annotation(field.field_info, params=True)
                ]
        validator = TypeAdapter(TypedDict("Parameters", fields, total=False))  # type: ignore[operator]
        return cls(tuple(parameters), validator)

    def read(self, request: Request) -> dict[str, Any]:
        """Every path, query and header parameter, validated at once; `_FULL_WAY` if one is missing or invalid."""
        given: dict[str, Any] = {}
        sources: dict[str, Mapping[str, Any]] = {
            "path": request.path_params,
            "query": request.query_params,
            "header": request.headers,
        }
        for param in self.parameters:
            source = sources[param.source]
            if param.several:
                value: Any = source.getlist(param.key)  # type: ignore[attr-defined]
                if value:
                    given[param.name] = value
            else:
                value = source.get(param.key)
                if value is not None:
                    given[param.name] = value
        try:
            values = self.validator.validate_python(given)
        except ValidationError:
            return _FULL_WAY  # type: ignore[no-any-return]
        for param in self.parameters:
            if param.name not in values:
                values[param.name] = param.absent()
                if values[param.name] is _FULL_WAY:
                    return _FULL_WAY  # type: ignore[no-any-return]
        return values


@dataclass(frozen=True)
class _SimpleDependency:
    """A dependency that takes only path, query and header parameters, and has none of its own.

    Such a dependency (a scope read from a header, say) is called directly:
    FastAPI's general solving, which its short way would otherwise pay on
    every request, adds nothing to it.
    """

    call: Callable[..., Any]
    name: str | None
    is_coroutine: bool
    use_cache: bool
    reader: _Reader

    @classmethod
    def all_of(cls, dependencies: Any) -> tuple[_SimpleDependency, ...] | None:
        """Every one of `dependencies`, or None where one of them is not simple."""
        found = []
        for dependant in dependencies:
            call = dependant.call
            reader = _Reader.of(dependant)
            if (
                reader is None
                or call is None
                or dependant.dependencies
                or dependant.cookie_params
                or dependant.body_params
                or dependant.request_param_name
                or dependant.websocket_param_name
                or dependant.http_connection_param_name
                or dependant.response_param_name
                or dependant.background_tasks_param_name
                or dependant.security_scopes_param_name
                or getattr(dependant, "concurrency", None) is not None
                or inspect.isgeneratorfunction(call)
                or inspect.isasyncgenfunction(call)
                or not (inspect.isfunction(call) or inspect.ismethod(call))
            ):
                return None
            found.append(
                cls(
                    call,
                    dependant.name,
                    inspect.iscoroutinefunction(call),
                    dependant.use_cache,
                    reader,
                )
            )
        return tuple(found)


@dataclass(frozen=True)
class ShortWay:
    """What a route's requests go through when FastAPI's dependency solving is not needed."""

    call: Callable[..., Any]
    is_coroutine: bool
    with_dependencies: Any | None  # the route, where it has dependencies to solve
    # Those dependencies, where every one is simple (called without FastAPI's solving).
    simple: tuple[_SimpleDependency, ...] | None
    request_names: tuple[str, ...]
    own: _Reader
    body_name: str | None
    body: TypeAdapter[Any] | None

    @classmethod
    def of(cls, route: Any) -> ShortWay | None:
        """The short way of `route`; None where it has a parameter it cannot read as FastAPI does."""
        dependant = route.dependant
        call = dependant.call
        if (
            not getattr(call, _GENERATED, False)
            or dependant.cookie_params
            or dependant.response_param_name
            or dependant.background_tasks_param_name
            or dependant.security_scopes_param_name
            or dependant.websocket_param_name
            or len(dependant.body_params) > 1
            or embeds_body_fields(route)
            or (route.body_field is not None and not dependant.body_params)
        ):
            return None
        own = _Reader.of(dependant)
        if own is None:
            return None
        body_name, body = None, None
        if dependant.body_params:
            field = dependant.body_params[0]
            if isinstance(field.field_info, params.Form):
                return None
            body_name, body = field.name, TypeAdapter(_annotation(field.field_info))
        return cls(
            call=call,
            is_coroutine=inspect.iscoroutinefunction(call),
            with_dependencies=route if dependant.dependencies else None,
            simple=_SimpleDependency.all_of(dependant.dependencies),
            request_names=tuple(
                name
                for name in (
                    dependant.request_param_name,
                    dependant.http_connection_param_name,
                )
                if name is not None
            ),
            own=own,
            body_name=body_name,
            body=body,
        )

    def handler(self, full: Handler) -> Handler:
        """The request handler: the short way, or `full` for what it cannot take."""

        async def handle(request: Request) -> Response:
            values = self.own.read(request)
            if values is _FULL_WAY:
                return await full(request)
            if self.body is not None:
                body = await self.body_value(request)
                if body is _FULL_WAY:
                    return await full(request)
                values[self.body_name] = body  # type: ignore[index]
            background = None
            route = self.with_dependencies
            if route is not None and not await self.run_simple(route, request, values):
                solved = await solve_route_dependencies(route, request)
                if solved.errors:
                    raise RequestValidationError(solved.errors)
                values.update(solved.values)
                background = solved.background_tasks
            for name in self.request_names:
                values[name] = request
            if self.is_coroutine:
                response = await self.call(**values)
            else:
                response = await run_in_threadpool(self.call, **values)
            if not isinstance(response, Response):  # pragma: no cover - a package bug
                raise TypeError(
                    f"{self.call.__name__} returned {type(response).__name__}, not a Response"
                )
            if response.background is None:
                response.background = background
            return response

        return handle

    async def run_simple(
        self, route: Any, request: Request, values: dict[str, Any]
    ) -> bool:
        """Run the route's dependencies where all are simple and none is overridden; False otherwise.

        Each one's parameters are read and validated before any runs: where one
        is missing or invalid, nothing has run and FastAPI solves them all (its
        422 is its own). A dependency used twice runs once (FastAPI's cache).
        """
        if self.simple is None:
            return False
        overrides = getattr(
            route.dependency_overrides_provider, "dependency_overrides", None
        )
        if overrides and any(d.call in overrides for d in self.simple):
            return False
        arguments = []
        for dependency in self.simple:
            given = dependency.reader.read(request)
            if given is _FULL_WAY:
                return False
            arguments.append(given)
        cache: dict[Any, Any] = {}
        for dependency, given in zip(self.simple, arguments, strict=True):
            if dependency.use_cache and dependency.call in cache:
                solved = cache[dependency.call]
            elif dependency.is_coroutine:
                solved = await dependency.call(**given)
            else:
                solved = await run_in_threadpool(dependency.call, **given)
            cache.setdefault(dependency.call, solved)
            if dependency.name is not None:
                values[dependency.name] = solved
        return True

    async def body_value(self, request: Request) -> Any:
        """The body, validated from its bytes; `_FULL_WAY` if it is empty, not JSON, or invalid."""
        try:
            body = await request.body()
        except Exception as exc:
            # FastAPI's handler reads it again and answers the error its way.
            fail_request_body(request, exc)
            return _FULL_WAY
        if not body or not _is_json(request.headers.get("content-type")):
            return _FULL_WAY
        try:
            return self.body.validate_json(body)  # type: ignore[union-attr]
        except ValidationError:
            return _FULL_WAY


def _parameter(field: Any, source: str) -> _Param | None:
    """How to read `field` from the request; None where the short way does not read it as FastAPI would."""
    info = field.field_info
    annotation = info.annotation
    if (
        info.validation_alias is not None
        or info.validate_default
        or is_json_parameter(field)
        or (isinstance(annotation, type) and issubclass(annotation, BaseModel))
    ):
        return None
    key = field.alias
    if source == "header" and getattr(info, "convert_underscores", True):
        if key == field.name:
            key = key.replace("_", "-")
    required = info.is_required()
    return _Param(
        name=field.name,
        key=key,
        source=source,
        several=source != "path" and takes_several_values(annotation),
        required=required,
        default=None if required else info.get_default(call_default_factory=True),
    )


def _annotation(info: Any, *, params: bool = False) -> Any:
    """The validated type of a FastAPI parameter or body, as FastAPI builds it for its own validator.

    Aliases are left out: the short way reads each value by its request key
    and validates it under its parameter's name. So are a parameter's
    defaults: an absent one gets its default unvalidated, as in FastAPI.
    """
    found = info.asdict()
    left_out = {*_ALIASES, "default", "default_factory"} if params else {*_ALIASES}
    attributes = {k: v for k, v in found["attributes"].items() if k not in left_out}
    args = (found["annotation"], *found["metadata"], Field(**attributes))
    return Annotated[args]


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI reads a body of this content type as JSON."""
    if content_type is None:
        return False
    if content_type == "application/json":
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )
