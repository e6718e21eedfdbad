"""Read-your-writes across requests: a client that just wrote reads from the primary for a while."""

from __future__ import annotations

import time
from http.cookies import SimpleCookie
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sqlmodel_production.db.internal import WROTE, WROTE_NOW, WROTE_RECENTLY

__all__ = ["ReadYourWritesMiddleware"]


class ReadYourWritesMiddleware:
    """Send a client's reads to the primary for `window` seconds after it wrote.

    Within one request, reads after a write always go to the primary. Across
    requests the client is recognized by a cookie (`cookie`, HttpOnly, holding
    the time until which it reads from the primary) set on the response to any
    request that wrote through the router. Off unless this middleware is added.
    A client without cookies (or another replica-lag-tolerant client) simply
    reads from replicas.

    Args:
        app: the ASGI app.
        window: seconds a client reads from the primary after its last write;
            about the replicas' usual lag (`REPLICA_MAX_LAG` bounds the worst).
        cookie: the cookie's name.

    Example:
        ```python
        app.add_middleware(ReadYourWritesMiddleware, window=5)
        ```
    """

    def __init__(
        self, app: ASGIApp, *, window: float = 5.0, cookie: str = "smp_primary_until"
    ) -> None:
        if window <= 0:
            raise ValueError("window must be a positive number of seconds")
        self.app = app
        self.window = window
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        now = time.time()
        until = self._until(scope)
        if until is not None and now < until <= now + self.window:
            scope[WROTE] = WROTE_RECENTLY

        async def send_with_cookie(message: Message) -> None:
            if (
                message["type"] == "http.response.start"
                and scope.get(WROTE) == WROTE_NOW
            ):
                value = (
                    f"{self.cookie}={time.time() + self.window:.3f}; "
                    f"Max-Age={max(1, round(self.window))}; Path=/; HttpOnly; SameSite=Lax"
                )
                headers = [*message.get("headers", ()), (b"set-cookie", value.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _until(self, scope: Scope) -> float | None:
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                found: Any = SimpleCookie(value.decode("latin-1")).get(self.cookie)
                if found is not None:
                    try:
                        return float(found.value)
                    except ValueError:
                        return None
        return None
