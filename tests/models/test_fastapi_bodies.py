"""Derived schemas as FastAPI bodies and response models, on a real database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from sqlmodel import Field

from sqlmodel_production import Database
from sqlmodel_production.db import Backend
from sqlmodel_production.models import IntPK, StringField, derive_schemas
from tests.models._tables import created


class MxApiHero(IntPK, table=True):
    name: str = StringField(max_length=100, index=True)
    age: int | None = Field(default=None, index=True)
    secret_name: str = StringField()


HeroCreate, HeroPublic, HeroUpdate = derive_schemas(
    MxApiHero, write_only={"secret_name"}, name="Hero"
)


def make_app(database: Database) -> FastAPI:
    app = FastAPI()

    @app.post("/heroes/", response_model=HeroPublic)
    def create_hero(hero: HeroCreate) -> Any:  # type: ignore[valid-type]
        with database.session() as session:
            db_hero = MxApiHero.model_validate(hero)
            session.add(db_hero)
            session.commit()
            session.refresh(db_hero)
            return db_hero

    @app.patch("/heroes/{hero_id}", response_model=HeroPublic)
    def update_hero(hero_id: int, hero: HeroUpdate) -> Any:  # type: ignore[valid-type]
        with database.session() as session:
            db_hero = session.get(MxApiHero, hero_id)
            if not db_hero:
                raise HTTPException(status_code=404, detail="Hero not found")
            db_hero.sqlmodel_update(hero.model_dump(exclude_unset=True))  # type: ignore[attr-defined]
            session.add(db_hero)
            session.commit()
            session.refresh(db_hero)
            return db_hero

    return app


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    with created(database, MxApiHero), TestClient(make_app(database)) as client:
        yield client


def test_openapi_names_the_components_like_hand_written_schemas(
    backend: Backend, client: TestClient
) -> None:
    components = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"HeroCreate", "HeroPublic", "HeroUpdate"} <= components.keys()
    assert components["HeroCreate"]["additionalProperties"] is False


def test_create_and_patch_through_the_api(backend: Backend, client: TestClient) -> None:
    created_hero = client.post(
        "/heroes/", json={"name": "Deadpond", "secret_name": "Dive Wilson", "age": 30}
    )
    assert created_hero.status_code == 200
    hero = created_hero.json()
    assert hero == {"name": "Deadpond", "age": 30, "id": hero["id"]}

    cleared = client.patch(f"/heroes/{hero['id']}", json={"age": None})
    assert cleared.json() == {"name": "Deadpond", "age": None, "id": hero["id"]}
    renamed = client.patch(f"/heroes/{hero['id']}", json={"name": "Rusty-Man"})
    assert renamed.json() == {"name": "Rusty-Man", "age": None, "id": hero["id"]}


@pytest.mark.parametrize(
    ("method", "body", "error"),
    [
        ("post", {"name": "D", "secret_name": "S", "id": 5}, "extra_forbidden"),
        ("post", {"name": "D", "secret_name": "S" * 256}, "string_too_long"),
        ("patch", {"id": 5}, "extra_forbidden"),
        ("patch", {"name": None}, "string_type"),
    ],
    ids=["create-id", "create-too-long", "patch-id", "patch-null-not-null"],
)
def test_unsafe_bodies_are_a_422_not_a_500(
    backend: Backend, client: TestClient, method: str, body: dict[str, Any], error: str
) -> None:
    hero = client.post(
        "/heroes/", json={"name": "Deadpond", "secret_name": "Dive"}
    ).json()
    path = "/heroes/" if method == "post" else f"/heroes/{hero['id']}"
    response = client.request(method.upper(), path, json=body)
    assert response.status_code == 422
    assert [e["type"] for e in response.json()["detail"]] == [error]
