from fastapi.testclient import TestClient

from sqlmodel_production.testing import assert_max_queries, assert_queries


def test_team_page(client: TestClient, n_plus_one: object) -> None:
    with assert_queries(2):
        response = client.get("/teams/1")
    assert response.status_code == 200


def test_ready(client: TestClient) -> None:
    with assert_max_queries(1):
        assert client.get("/health/ready").status_code == 200
