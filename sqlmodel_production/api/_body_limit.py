"""A request body size limit for generated routes, answered 413 before the body is parsed."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from sqlmodel_production._compat import set_request_body

__all__ = ["MAX_BODY_SIZE", "body_limited_route"]

MAX_BODY_SIZE = 2 * 1024 * 1024
"""The default limit: 2 MiB, room for a bulk create of 1,000 rows of about 2 KB each."""

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def body_limited_route(max_bytes: int) -> type[APIRoute]:
    """An `APIRoute` class whose endpoints answer 413 to a body over `max_bytes`.

    A declared `Content-Length` over the limit is refused before anything is
    read; a body without one (chunked) is read up to the limit and refused as
    soon as it passes it. Nothing over the limit is parsed, validated or echoed.
    """
    if max_bytes < 1:
        raise ValueError("max_body_size must be a positive number of bytes")

    class BodyLimitedRoute(APIRoute):
        def get_route_handler(
            self,
        ) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def limited(request: Request) -> Response:
                if request.method in _WITH_BODY and await _too_large(
                    request, max_bytes
                ):
                    return JSONResponse(
                        {
                            "detail": f"The request body is larger than {max_bytes} bytes"
                        },
                        status_code=413,
                    )
                return await handler(request)

            return limited

    return BodyLimitedRoute


async def _too_large(request: Request, max_bytes: int) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return not length.isdigit() or int(length) > max_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            return True
    set_request_body(request, bytes(body))  # what FastAPI reads next
    return False
