"""docs/index.md: the quick start a user pastes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from docs_src.index import tutorial001
from sqlmodel_production import Database
from tests.conftest import Target
from tests.test_docs._helpers import tables


def test_tutorial001_the_quick_start(target: Target, database: Database) -> None:
    app = tutorial001.create_app(database)
    with tables(database, tutorial001.Album), TestClient(app) as client:
        for title, year in (
            ("Blue", 1971),
            ("Hejira", 1976),
            ("Court and Spark", 1974),
        ):
            created = client.post(
                "/albums/",
                json={"title": title, "artist": "Joni Mitchell", "year": year},
            )
            assert created.status_code == 200, created.text
        found = client.get("/albums/?artist=Joni Mitchell&year__ge=1974&order_by=year")
        assert [a["title"] for a in found.json()] == ["Court and Spark", "Hejira"]
        assert (
            client.post(
                "/albums/", json={"title": "x" * 201, "artist": "a"}
            ).status_code
            == 422
        )
        assert client.get("/albums/999").status_code == 404
    assert isinstance(
        tutorial001.app.router.routes, list
    )  # the module's own app builds
