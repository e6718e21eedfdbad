"""The benchmark's plumbing: every contestant answers the same bytes to the same requests.

No wrk and no timing here (numbers are never asserted): each app runs in process
on a small data set, reloaded before each contestant so that writes give the
same ids everywhere.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bench import _apps, _floor
from bench._apps import CONTESTANTS
from bench._data import load
from bench._scenarios import SCENARIOS, requests_for
from sqlmodel_production.db import Backend

HEROES = 2_500  # a few heroes per team, a cursor's deep half of over 1,000 rows
SAMPLE = 8

FACTORIES: dict[str, Callable[[], object]] = {
    "floor": _floor.create_app,
    "router_async": _apps.router_async,
    "router_sync": _apps.router_sync,
    "router_metrics": _apps.router_metrics,
    "router_traced": _apps.router_traced,
    "handwritten_async": _apps.handwritten_async,
    "handwritten_sync": _apps.handwritten_sync,
}


def replay(client: TestClient, line: str) -> Any:
    """Send one request line of a scenario file (`METHOD<TAB>PATH<TAB>BODY[<TAB>Name: value]`)."""
    method, path, body, *header = line.split("\t")
    headers = {"Content-Type": "application/json"} if body else {}
    for name, value in (h.split(": ", 1) for h in header):
        headers[name] = value
    return client.request(method, path, content=body or None, headers=headers)


def _answers(
    key: str, database_url: str
) -> dict[str, list[tuple[int, bytes, str | None]]]:
    """Status, body and X-Next-Cursor of each scenario's requests, on fresh data."""
    load(database_url, HEROES)
    rng = random.Random(6)
    contestant = next(c for c in CONTESTANTS if c.key == key)
    answers = {}
    with TestClient(FACTORIES[key]()) as client:  # type: ignore[arg-type]
        for scenario in SCENARIOS:
            lines = requests_for(scenario.key, HEROES, rng, count=SAMPLE)
            if scenario.cursor and not contestant.cursor:
                continue
            answers[scenario.key] = []
            for line in lines:
                response = replay(client, line)
                answers[scenario.key].append(
                    (
                        response.status_code,
                        response.content,
                        response.headers.get("x-next-cursor"),
                    )
                )
    return answers


@pytest.mark.only(Backend.POSTGRESQL)
def test_every_contestant_answers_the_same_bytes(
    backend: Backend, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ENVIRONMENT", "production")
    floor = _answers("floor", database_url)
    assert set(floor) == {s.key for s in SCENARIOS}
    assert all(status == 200 for answers in floor.values() for status, _, _ in answers)
    assert any(b'"team":{' in body for _, body, _ in floor["get_one"])
    assert any(b'"team":null' in body for _, body, _ in floor["get_one"])
    assert all(cursor for _, _, cursor in floor["list_cursor"])
    for key in FACTORIES:
        if key == "floor":
            continue
        answers = _answers(key, database_url)
        for scenario, got in answers.items():
            expected = floor[scenario]
            if key.startswith("handwritten"):
                # The hand-written list has no cursors: compare status and body only.
                got = [(status, body, None) for status, body, _ in got]
                expected = [(status, body, None) for status, body, _ in expected]
            assert got == expected, f"{key} differs from the floor on {scenario}"
