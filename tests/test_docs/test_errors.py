"""docs/errors.md: a hand-written service whose errors are answered by `install_error_handlers`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from docs_src.errors import tutorial001
from sqlmodel_production import Backend, Database
from tests.test_docs._helpers import tables


@pytest.fixture
def client(backend: Backend, database: Database) -> Iterator[TestClient]:
    with tables(database, tutorial001.Account):
        with TestClient(tutorial001.create_app(database)) as client:
            yield client


def test_tutorial001_each_error_has_its_answer(client: TestClient) -> None:
    created = client.post("/accounts/", params={"email": "ann@example.com"})
    assert created.status_code == 200
    account = created.json()

    duplicate = client.post("/accounts/", params={"email": "ann@example.com"})
    assert duplicate.status_code == 409
    assert duplicate.json()["fields"] == ["email"]
    assert "ann@example.com" not in duplicate.text

    bad_cursor = client.get("/accounts/", params={"cursor": "nope"})
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["detail"][0]["loc"] == ["query", "cursor"]

    params = {"email": "bo@example.com", "version": account["version"]}
    assert client.patch(f"/accounts/{account['id']}", params=params).status_code == 200
    assert client.patch(f"/accounts/{account['id']}", params=params).status_code == 412

    not_allowed = client.delete("/accounts/")
    assert (not_allowed.status_code, not_allowed.headers["Allow"]) == (405, "GET, POST")
