"""The reference service's contract (DESIGN.md), on every backend and driver."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def make_team(
    client: TestClient, name: str = "Preventers", headquarters: str = "Sharp Tower"
) -> dict:
    response = client.post("/teams/", json={"name": name, "headquarters": headquarters})
    assert response.status_code == 200, response.text
    return response.json()


def make_hero(client: TestClient, name: str = "Deadpond", **fields: object) -> dict:
    body = {"name": name, "secret_name": "Dive Wilson", **fields}
    response = client.post("/heroes/", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_create_hero_hides_secret_name(client: TestClient) -> None:
    hero = make_hero(client, age=48)
    assert hero == {"id": hero["id"], "name": "Deadpond", "age": 48, "team_id": None}
    assert isinstance(hero["id"], int)


def test_read_hero_includes_team_or_null(client: TestClient) -> None:
    team = make_team(client)
    with_team = make_hero(client, team_id=team["id"])
    without = make_hero(client, name="Rusty-Man")
    assert client.get(f"/heroes/{with_team['id']}").json()["team"] == team
    body = client.get(f"/heroes/{without['id']}").json()
    assert body == {**without, "team": None}


@pytest.mark.parametrize(
    "path, detail",
    [
        ("/heroes/", "Hero not found"),
        ("/teams/", "Team not found"),
        ("/missions/", "Mission not found"),
    ],
)
def test_missing_rows_are_404(client: TestClient, path: str, detail: str) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = client.request(
            method, f"{path}9999", json={} if method == "PATCH" else None
        )
        assert (response.status_code, response.json()) == (404, {"detail": detail}), (
            method
        )


def test_list_pages_in_id_order(client: TestClient) -> None:
    ids = [make_hero(client, name=f"Hero {i}")["id"] for i in range(5)]
    assert [h["id"] for h in client.get("/heroes/").json()] == ids
    page = client.get("/heroes/", params={"offset": 1, "limit": 2}).json()
    assert [h["id"] for h in page] == ids[1:3]
    assert all("secret_name" not in h for h in page)


@pytest.mark.parametrize(
    "params",
    [{"limit": 101}, {"limit": 0}, {"limit": -1}, {"offset": -1}, {"limit": "x"}],
)
def test_list_rejects_bad_paging(client: TestClient, params: dict) -> None:
    for path in ("/heroes/", "/teams/", "/missions/"):
        assert client.get(path, params=params).status_code == 422


def test_patch_is_partial_and_null_clears_optional(client: TestClient) -> None:
    hero = make_hero(client, age=30)
    response = client.patch(f"/heroes/{hero['id']}", json={"name": "Deadpool"})
    assert response.json() == {**hero, "name": "Deadpool"}
    response = client.patch(f"/heroes/{hero['id']}", json={"age": None})
    assert response.json() == {**hero, "name": "Deadpool", "age": None}


def test_patch_null_on_required_field_is_422_and_changes_nothing(
    client: TestClient,
) -> None:
    hero = make_hero(client)
    response = client.patch(f"/heroes/{hero['id']}", json={"name": None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
    assert client.get(f"/heroes/{hero['id']}").json()["name"] == "Deadpond"


def test_delete_answers_ok_then_404(client: TestClient) -> None:
    hero = make_hero(client)
    assert client.delete(f"/heroes/{hero['id']}").json() == {"ok": True}
    assert client.get(f"/heroes/{hero['id']}").status_code == 404


def test_unknown_fields_and_long_strings_are_422(client: TestClient) -> None:
    assert (
        client.post(
            "/heroes/", json={"name": "A", "secret_name": "x" * 256}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/heroes/", json={"name": "A" * 101, "secret_name": "x"}
        ).status_code
        == 422
    )
    assert client.post("/teams/", json={"headquarters": "h"}).status_code == 422


@pytest.mark.parametrize("age", [2**63, -(2**63) - 1])
def test_numbers_too_large_for_the_column_are_422(client: TestClient, age: int) -> None:
    response = client.post(
        "/heroes/", json={"name": "A", "secret_name": "s", "age": age}
    )
    assert response.status_code == 422
    assert client.get("/heroes/").json() == []


def test_duplicate_team_name_is_409_naming_the_conflict(client: TestClient) -> None:
    make_team(client, name="Z-Force")
    response = client.post(
        "/teams/", json={"name": "Z-Force", "headquarters": "Secret Base"}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "unique_violation"
    assert body["fields"] == ["name"]
    assert "Z-Force" not in response.text and "Secret Base" not in response.text
    assert len(client.get("/teams/").json()) == 1


def test_duplicate_team_name_on_patch_is_409(client: TestClient) -> None:
    make_team(client, name="A")
    b = make_team(client, name="B")
    response = client.patch(f"/teams/{b['id']}", json={"name": "A"})
    assert response.status_code == 409
    assert client.get(f"/teams/{b['id']}").json()["name"] == "B"


def test_unknown_team_id_is_422_naming_the_field(client: TestClient) -> None:
    response = client.post(
        "/heroes/", json={"name": "A", "secret_name": "s", "team_id": 4242}
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "team_id"]
    assert error["type"] == "foreign_key_violation"
    assert "4242" not in response.text
    assert client.get("/heroes/").json() == []
    hero = make_hero(client)
    response = client.patch(f"/heroes/{hero['id']}", json={"team_id": 4242})
    assert response.status_code == 422
    assert client.get(f"/heroes/{hero['id']}").json()["team_id"] is None


def test_team_read_includes_heroes(client: TestClient) -> None:
    team = make_team(client)
    heroes = [make_hero(client, name=f"H{i}", team_id=team["id"]) for i in range(3)]
    make_hero(client, name="Loner")
    body = client.get(f"/teams/{team['id']}").json()
    assert sorted(body["heroes"], key=lambda h: h["id"]) == heroes
    assert {k: body[k] for k in team} == team


def test_deleting_a_team_keeps_its_heroes(client: TestClient) -> None:
    team = make_team(client)
    hero = make_hero(client, team_id=team["id"])
    assert client.delete(f"/teams/{team['id']}").json() == {"ok": True}
    assert client.get(f"/heroes/{hero['id']}").json()["team_id"] is None


def test_mission_links_with_roles(client: TestClient) -> None:
    mission = client.post("/missions/", json={"name": "Rescue"}).json()
    a = make_hero(client, name="A")
    b = make_hero(client, name="B")
    path = f"/missions/{mission['id']}/heroes"
    assert client.put(f"{path}/{a['id']}", json={"role": "leader"}).json() == {
        "hero_id": a["id"],
        "mission_id": mission["id"],
        "role": "leader",
    }
    assert client.put(f"{path}/{b['id']}", json={}).json()["role"] == "member"
    # Putting again updates the role; it never duplicates the link.
    assert (
        client.put(f"{path}/{b['id']}", json={"role": "medic"}).json()["role"]
        == "medic"
    )
    body = client.get(f"/missions/{mission['id']}").json()
    assert body == {
        "id": mission["id"],
        "name": "Rescue",
        "heroes": [{**a, "role": "leader"}, {**b, "role": "medic"}],
    }
    assert client.get(f"/heroes/{b['id']}/missions").json() == [
        {**mission, "role": "medic"}
    ]
    assert client.delete(f"{path}/{b['id']}").json() == {"ok": True}
    assert client.delete(f"{path}/{b['id']}").status_code == 404
    assert client.get(f"/heroes/{b['id']}/missions").json() == []


def test_links_to_unknown_rows_are_404(client: TestClient) -> None:
    mission = client.post("/missions/", json={"name": "Rescue"}).json()
    hero = make_hero(client)
    assert client.put(f"/missions/{mission['id']}/heroes/999", json={}).json() == {
        "detail": "Hero not found"
    }
    assert client.put(f"/missions/999/heroes/{hero['id']}", json={}).json() == {
        "detail": "Mission not found"
    }
    assert client.get("/heroes/999/missions").status_code == 404


def test_deleting_a_hero_removes_its_links(client: TestClient) -> None:
    mission = client.post("/missions/", json={"name": "Rescue"}).json()
    hero = make_hero(client)
    client.put(f"/missions/{mission['id']}/heroes/{hero['id']}", json={"role": "scout"})
    assert client.delete(f"/heroes/{hero['id']}").json() == {"ok": True}
    assert client.get(f"/missions/{mission['id']}").json()["heroes"] == []
