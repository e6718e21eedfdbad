"""Nested reads issue a constant number of queries, however many rows they return (no N+1).

The count comes from the `Server-Timing` header the reference service sends in
development, the way a user would see it in the browser's developer tools. The same
middleware turns any N+1 into a warning, which this test suite treats as an error: every
contract test is an N+1 test too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient


def queries(response: object) -> int:
    header = response.headers["Server-Timing"]  # type: ignore[attr-defined]
    match = re.search(r'desc="(\d+) quer', header)
    assert match, header
    return int(match[1])


def grow(
    client: TestClient, team: int, mission: int, hero: int | None, count: int
) -> int:
    """Add `count` heroes to the team and the mission, and `count` missions to `hero`."""
    for _ in range(count):
        new = client.post(
            "/heroes/", json={"name": "H", "secret_name": "s", "team_id": team}
        ).json()["id"]
        client.put(f"/missions/{mission}/heroes/{new}", json={"role": "member"})
        extra = client.post("/missions/", json={"name": "X"}).json()["id"]
        client.put(f"/missions/{extra}/heroes/{hero or new}", json={"role": "scout"})
        hero = hero or new
    assert hero is not None
    return hero


@pytest.mark.parametrize(
    "path, grows",
    [
        (lambda t, m, h: f"/teams/{t}", True),
        (lambda t, m, h: f"/missions/{m}", True),
        (lambda t, m, h: f"/heroes/{h}", False),
        (lambda t, m, h: f"/heroes/{h}/missions", True),
        (lambda t, m, h: "/heroes/", True),
    ],
    ids=[
        "team-with-heroes",
        "mission-with-heroes",
        "hero-with-team",
        "hero-missions",
        "hero-list",
    ],
)
def test_nested_reads_do_not_grow_with_rows(
    client: TestClient, path: Callable[[int, int, int], str], grows: bool
) -> None:
    team = client.post("/teams/", json={"name": "T", "headquarters": "HQ"}).json()["id"]
    mission = client.post("/missions/", json={"name": "M"}).json()["id"]
    hero = grow(client, team, mission, None, 1)
    url = path(team, mission, hero)
    small = client.get(url)
    grow(client, team, mission, hero, 12)
    large = client.get(url)
    assert small.status_code == large.status_code == 200
    assert (len(large.content) > len(small.content)) is grows
    assert queries(large) == queries(small) <= 3
