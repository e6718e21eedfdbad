"""ASGI middleware: each request's queries, N+1 findings and `Server-Timing` header."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._detached import explain_detached
from ._findings import Mode
from ._leaks import LeakDetector
from ._n_plus_one import NPlusOneDetector
from ._recorder import QueryRecording, record_queries

__all__ = ["DiagnosticsMiddleware", "server_timing"]


def server_timing(recording: QueryRecording) -> str:
    """The `Server-Timing` header value for a recording (pure).

    Example:
        `db;dur=12.345;desc="4 queries"`
    """
    count = recording.count
    noun = "query" if count == 1 else "queries"
    return f'db;dur={recording.duration * 1000:.3f};desc="{count} {noun}"'


class DiagnosticsMiddleware:
    """Record the queries of each HTTP request in its own `QueryRecording`.

    The recording is in `request.state.queries` (`scope["state"]["queries"]`)
    for the endpoint and inner middleware to read. With `server_timing=True`
    each response carries a `Server-Timing` header with the query count and the
    database time, which browsers' developer tools display; leave it off in
    production unless you want clients to see it.

    With `n_plus_one` set to a `Mode`, each request also runs in its own
    `NPlusOneDetector` (`request.state.n_plus_one`): `"log"` in production,
    `"raise"` in tests. With `leaks`, a `LeakDetector`, a connection still
    checked out when the response is complete is reported with its checkout site.

    With `explain_detached` (on by default), a `DetachedInstanceError` raised
    while serving a request becomes a `DetachedObjectError` that names the
    class, the attribute, the line and the fix; it is still a
    `DetachedInstanceError`, and still a 500.

    Example:
        ```python
        app.add_middleware(DiagnosticsMiddleware, server_timing=True, n_plus_one="log")
        ```
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        server_timing: bool = False,
        n_plus_one: Mode | str | None = None,
        n_plus_one_threshold: int = 2,
        leaks: LeakDetector | None = None,
        explain_detached: bool = True,
    ) -> None:
        self.app = app
        self.server_timing = server_timing
        self.n_plus_one = None if n_plus_one is None else Mode(n_plus_one)
        self.n_plus_one_threshold = n_plus_one_threshold
        self.leaks = leaks
        self.explain_detached = explain_detached

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.explain_detached:
            await self._watch(scope, receive, send)
            return
        with explain_detached():
            await self._watch(scope, receive, send)

    async def _watch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.leaks is None:
            await self._detect(scope, receive, send)
            return
        with self.leaks.track():
            await self._detect(scope, receive, send)

    async def _detect(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.n_plus_one is None:
            await self._record(scope, receive, send)
            return
        with NPlusOneDetector(
            self.n_plus_one, threshold=self.n_plus_one_threshold
        ) as detector:
            scope.setdefault("state", {})["n_plus_one"] = detector
            await self._record(scope, receive, send)

    async def _record(self, scope: Scope, receive: Receive, send: Send) -> None:
        with record_queries() as recording:
            scope.setdefault("state", {})["queries"] = recording
            if not self.server_timing:
                await self.app(scope, receive, send)
                return

            async def send_with_timing(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers: list[Any] = list(message.get("headers", []))
                    headers.append(
                        (b"server-timing", server_timing(recording).encode("latin-1"))
                    )
                    message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, receive, send_with_timing)
