"""The benchmark's plumbing: every contestant answers the same bytes to the same requests.

No wrk and no timing here (numbers are never asserted): each app runs in process
on a small data set, reloaded before each contestant so that writes give the
same ids everywhere.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from bench import _apps, _floor, _peers
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


PEERS: dict[str, Callable[[], object]] = {
    "fastcrud": _peers.fastcrud,
    "advanced_alchemy": _peers.advanced_alchemy,
}


@pytest.mark.only(Backend.POSTGRESQL)
@pytest.mark.parametrize("key", list(PEERS))
# Advanced Alchemy 1.12 uses `declarative_mixin`, deprecated in SQLAlchemy 2.1.
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning")
def test_every_peer_does_the_same_work(
    key: str, backend: Backend, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A peer answers every request of its scenarios, on the same rows as the floor.

    Its bodies differ in shape (FastCRUD wraps a list in `data` and answers a
    patch with `null`; no peer reads a hero's team), so the heroes are compared.
    """
    monkeypatch.setenv("DATABASE_URL", database_url)
    contestant = next(c for c in CONTESTANTS if c.key == key)
    assert contestant.scenarios is not None
    rng = random.Random(6)
    load(database_url, HEROES)
    with TestClient(PEERS[key]()) as client:  # type: ignore[arg-type]
        for scenario in SCENARIOS:
            lines = requests_for(scenario.key, HEROES, rng, count=SAMPLE)
            if not contestant.serves(scenario):
                continue
            for line in lines:
                response = replay(client, line)
                assert response.status_code == 200, (scenario.key, response.text)
                method, path, body = line.split("\t")[:3]
                if scenario.key == "get_one":
                    hero_id = int(path.rsplit("/", 1)[1])
                    assert response.json()["name"] == f"Hero {hero_id}"
                if scenario.key == "list_offset":
                    rows = response.json()
                    rows = rows["data"] if isinstance(rows, dict) else rows
                    assert len(rows) == 100
                if scenario.key == "patch":
                    hero_id = int(path.rsplit("/", 1)[1])
                    read = client.get(f"/heroes/{hero_id}").json()
                    assert read["age"] == orjson.loads(body)["age"]
                    assert read["name"] == f"Hero {hero_id}"
