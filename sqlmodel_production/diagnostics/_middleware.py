"""ASGI middleware: record each request's queries, report them in `Server-Timing`."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._recorder import QueryRecording, record_queries

__all__ = ["QueryRecorderMiddleware", "server_timing"]


def server_timing(recording: QueryRecording) -> str:
    """The `Server-Timing` header value for a recording (pure).

    Example:
        `db;dur=12.345;desc="4 queries"`
    """
    count = recording.count
    noun = "query" if count == 1 else "queries"
    return f'db;dur={recording.duration * 1000:.3f};desc="{count} {noun}"'


class QueryRecorderMiddleware:
    """Record the queries of each HTTP request in its own `QueryRecording`.

    The recording is in `request.state.queries` (`scope["state"]["queries"]`)
    for the endpoint and inner middleware to read. With `server_timing=True`
    each response carries a `Server-Timing` header with the query count and the
    database time, which browsers' developer tools display; leave it off in
    production unless you want clients to see it.

    Example:
        ```python
        app.add_middleware(QueryRecorderMiddleware, server_timing=True)
        ```
    """

    def __init__(self, app: ASGIApp, *, server_timing: bool = False) -> None:
        self.app = app
        self.server_timing = server_timing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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
