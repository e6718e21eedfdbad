"""The request body size limit of generated routes, checked before the body is parsed."""

from __future__ import annotations

from starlette.requests import Request

from sqlmodel_production._compat import set_request_body

__all__ = ["MAX_BODY_SIZE", "too_large"]

MAX_BODY_SIZE = 2 * 1024 * 1024
"""The default limit: 2 MiB, room for a bulk create of 1,000 rows of about 2 KB each."""


async def too_large(request: Request, max_bytes: int) -> bool:
    """Whether the request's body is over `max_bytes`: its `Content-Length`, or the bytes read up to the limit.

    A chunked body within the limit is kept for whoever reads the request next.
    """
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
