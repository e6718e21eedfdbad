"""Answers about the request itself: a 422 whose echo always encodes, a 405 that lists every method.

FastAPI's own handlers fail on the input they describe (an unpaired surrogate
in a JSON string cannot be encoded back) and Starlette's 405 names only the
methods of the first route whose path matched; these replace them.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

__all__ = [
    "EXCERPT_LENGTH",
    "MAX_ERRORS",
    "http_error_response",
    "safe",
    "validation_error_response",
]


EXCERPT_LENGTH = 80
"""The most characters of a client's input that a 422 echoes back."""

MAX_ERRORS = 100
"""The most validation errors a 422 lists; `X-Error-Count` gives the number when there were more."""


async def validation_error_response(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, with each error's `input` cut to a short excerpt that always encodes.

    A JSON body can hold an unpaired surrogate, which FastAPI's own handler fails
    to encode (a 500), and a whole body can be echoed back; here a string input
    is cut to `EXCERPT_LENGTH` characters with unencodable ones replaced, and a
    list or object input longer than that is left out. At most `MAX_ERRORS`
    errors are listed (a bulk body of 5,000 bad rows would answer one each);
    `X-Error-Count` then gives how many there were.
    """
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("loc", ("",))[0] == "path" for e in errors):
        # `PATCH /heroes/bulk` also matches `/heroes/{hero_id}`, which finds no id in
        # "bulk"; the path the client wrote exists as it is, without that method.
        methods = _literal_methods(request)
        if methods and request.method not in methods:
            return _method_not_allowed(methods)
    listed = [_safe_error(e) for e in errors[:MAX_ERRORS]]
    headers = {"X-Error-Count": str(len(errors))} if len(errors) > MAX_ERRORS else None
    return JSONResponse({"detail": listed}, 422, headers=headers)


async def http_error_response(request: Request, exc: Exception) -> Response:
    """FastAPI's answer to an `HTTPException`; a 405 lists in `Allow` every method the path serves.

    Starlette's 405 names only the methods of the first route whose path
    matched (`OPTIONS /heroes/` said `Allow: POST` although GET is served
    too); RFC 9110 asks for all of them.
    """
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        methods = _literal_methods(request) or _allowed_methods(request)
        if methods:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(methods)}
    return await http_exception_handler(request, exc)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _method_not_allowed(methods: list[str]) -> JSONResponse:
    return JSONResponse(
        {"detail": "Method Not Allowed"},
        status_code=405,
        headers={"Allow": ", ".join(methods)},
    )


def _literal_methods(request: Request) -> list[str] | None:
    """The methods of the documented path that is the request's path word for word (no parameter)."""
    try:
        paths = request.app.openapi().get("paths", {})
    except Exception:  # an app without an OpenAPI schema
        return None
    root = request.scope.get("root_path", "")
    path = request.url.path.removeprefix(root) if root else request.url.path
    operations = paths.get(path)
    if not isinstance(operations, dict):
        return None
    methods = {m.upper() for m in operations} & set(_METHODS)
    return sorted(methods) or None


def _allowed_methods(request: Request) -> list[str]:
    # Asking each route whether it serves the path with each method works through
    # included routers and mounts alike, whatever their internals.
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in routes
        )
    ]


def _safe_error(error: Any) -> dict[str, Any]:
    answer = {key: safe(value) for key, value in error.items() if key != "input"}
    if "input" in error:
        excerpt = _excerpt(error["input"])
        if excerpt is not _OMIT:
            answer["input"] = excerpt
    return answer


_OMIT = object()


def _excerpt(value: Any) -> Any:
    if isinstance(value, str):
        text = safe(value)
        return text if len(text) <= EXCERPT_LENGTH else text[:EXCERPT_LENGTH] + "…"
    if value is None or isinstance(value, bool | int | float):
        return safe(value)
    try:
        encoded = safe(jsonable_encoder(value))
    except Exception:  # an input that cannot be encoded is not echoed
        return _OMIT
    return encoded if len(repr(encoded)) <= EXCERPT_LENGTH else _OMIT


def safe(value: Any) -> Any:
    """`value` with every string made encodable (unpaired surrogates replaced), and NaN and infinities as strings."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {safe(k): safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no NaN or Infinity: say it as JavaScript (and Python's json) write it.
        return (
            "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        )
    if value is None or isinstance(value, bool | int | float):
        return value
    return safe(str(value))
