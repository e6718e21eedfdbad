"""A request cancelled before its answer (uvicorn's graceful-shutdown bound) is a 503, never a 500."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from sqlmodel_production.api import install_error_handlers


def app_waiting_forever() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/slow")
    async def slow() -> None:
        await asyncio.Event().wait()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> Any:
            yield b"first"
            await asyncio.Event().wait()

        return StreamingResponse(chunks())

    return app


async def cancel_midway(
    app: FastAPI, method: str, path: str
) -> tuple[list[dict[str, Any]], BaseException | None]:
    """Run one request, cancel its task as uvicorn does at the bound; what was sent, and what the task raised."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [],
        "scheme": "http",
        "server": ("test", 80),
        "client": ("test", 1),
        "root_path": "",
    }

    bodies = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if bodies:
            return bodies.pop()
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    task = asyncio.create_task(app(scope, receive, send))
    for _ in range(100):  # until the endpoint waits (or has answered its first chunk)
        await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except BaseException as exc:  # what uvicorn would see
        return sent, exc
    return sent, None


def test_a_cancelled_request_answers_503_with_an_unknown_outcome() -> None:
    sent, raised = asyncio.run(cancel_midway(app_waiting_forever(), "POST", "/slow"))
    assert raised is None
    start, body = sent
    assert start["status"] == 503
    headers = dict(start["headers"])
    assert headers[b"retry-after"] == b"1"
    assert headers[b"connection"] == b"close"
    assert json.loads(body["body"])["outcome"] == "unknown"


def test_a_cancelled_answer_already_started_is_cut_off() -> None:
    sent, raised = asyncio.run(cancel_midway(app_waiting_forever(), "GET", "/stream"))
    assert isinstance(raised, asyncio.CancelledError)
    assert sent[0]["status"] == 200
    assert all(m.get("status") != 503 for m in sent)
