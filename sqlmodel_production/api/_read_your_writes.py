"""Read-your-writes across requests: a client that just wrote reads from the primary for a while."""

from __future__ import annotations

import time
from http.cookies import SimpleCookie
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sqlmodel_production.db.internal import WROTE, WROTE_NOW, WROTE_RECENTLY, serving

__all__ = ["ReadYourWritesMiddleware"]


class ReadYourWritesMiddleware:
    """Send a client's reads to the primary for `window` seconds after it wrote.

    A request wrote when a transaction committed on the package's engines while
    it was served (a `SessionDep` / `AsyncSessionDep` commit, `transaction()`,
    `engine.begin()`), or when the router wrote for it; nothing else needs to be
    called. Its response then carries the time until which the client reads from
    the primary twice: in a cookie (`cookie`, HttpOnly) for browsers, and in a
    header (`header`) for clients without a cookie jar, which send the value
    back in the same header on their next requests. A request bringing a value
    still in the future (and at most `window` ahead) reads from the primary.
    Within one request, reads after a write always go to the primary. Off
    unless this middleware is added: without it a client may read from a
    replica data older than its own write.

    Args:
        app: the ASGI app.
        window: seconds a client reads from the primary after its last write.
            A replica serves no read that misses a write older than
            `REPLICA_MAX_LAG + REPLICA_CHECK_INTERVAL` seconds, so a window at
            least that long means a client always reads its own writes.
        cookie: the cookie's name.
        header: the header's name, in responses and requests.

    Example:
        ```python
        app.add_middleware(ReadYourWritesMiddleware, window=6)
        ```
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        window: float = 6.0,
        cookie: str = "smp_primary_until",
        header: str = "X-Primary-Until",
    ) -> None:
        if window <= 0:
            raise ValueError("window must be a positive number of seconds")
        self.app = app
        self.window = window
        self.cookie = cookie
        self.header = header
        self._header = header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        now = time.time()
        if any(now < until <= now + self.window for until in self._untils(scope)):
            scope[WROTE] = WROTE_RECENTLY

        async def send_with_marker(message: Message) -> None:
            if (
                message["type"] == "http.response.start"
                and scope.get(WROTE) == WROTE_NOW
            ):
                value = f"{time.time() + self.window:.3f}"
                cookie = (
                    f"{self.cookie}={value}; Max-Age={max(1, round(self.window))}; "
                    "Path=/; HttpOnly; SameSite=Lax"
                )
                headers = [
                    *message.get("headers", ()),
                    (b"set-cookie", cookie.encode()),
                    (self._header, value.encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        with serving(scope):
            await self.app(scope, receive, send_with_marker)

    def _untils(self, scope: Scope) -> list[float]:
        """The times until which the request's cookie and header ask to read from the primary."""
        found: list[str] = []
        for name, value in scope.get("headers", ()):
            if name == self._header:
                found.append(value.decode("latin-1"))
            elif name == b"cookie":
                morsel: Any = SimpleCookie(value.decode("latin-1")).get(self.cookie)
                if morsel is not None:
                    found.append(morsel.value)
        times = []
        for text in found:
            try:
                times.append(float(text))
            except ValueError:
                continue
        return times
