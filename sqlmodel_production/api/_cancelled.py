"""A request cancelled before its answer (a server's graceful-shutdown bound) is a 503, not a 500."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CancelledRequests"]

logger = logging.getLogger("sqlmodel_production")

_BODY = orjson.dumps(
    {
        "detail": "The server stopped this request before it finished (it is shutting "
        "down): the change may or may not have been saved. Read it back before retrying.",
        "code": "request_cancelled",
        "outcome": "unknown",
    }
)
_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_BODY)).encode()),
    (b"retry-after", b"1"),
    (b"connection", b"close"),
]


class CancelledRequests:
    """ASGI middleware: answer a request whose task is cancelled with a 503.

    uvicorn cancels the requests still running when its graceful-shutdown bound
    (`timeout_graceful_shutdown`) passes, and answers each with a 500. The
    request may have written already, so the 503 says that the outcome is
    unknown, with `Retry-After` and `Connection: close`. A request whose answer
    had started is cut off as before: its client sees the connection close.
    `install_error_handlers` adds it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            if started:
                raise
            logger.warning(
                "%s %s cancelled before its answer; answered 503",
                scope.get("method"),
                scope.get("path"),
            )
            await _unavailable(send)


async def _unavailable(send: Send) -> None:
    start: dict[str, Any] = {
        "type": "http.response.start",
        "status": 503,
        "headers": _HEADERS,
    }
    await send(start)
    await send({"type": "http.response.body", "body": _BODY})
