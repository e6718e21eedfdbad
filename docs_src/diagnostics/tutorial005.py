from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from docs_src.diagnostics.tutorial001 import Club
from sqlmodel_production.api import SessionDep
from sqlmodel_production.testing import override_session

app = FastAPI()


@app.post("/teams/{name}")
def create_team(session: SessionDep, name: str) -> str:
    session.add(Club(name=name))
    session.commit()
    return name


@app.get("/teams")
def list_teams(session: SessionDep) -> list[str]:
    return list(session.exec(select(Club.name).order_by(Club.name)))


@pytest.fixture
def client(smp_session: Session) -> Iterator[TestClient]:
    with override_session(app, smp_session), TestClient(app) as client:
        yield client


def test_create_team(smp_session: Session, client: TestClient) -> None:
    smp_session.add(Club(name="Preventers"))
    smp_session.commit()  # committed for this test, rolled back after it
    assert client.post("/teams/Z-Force").status_code == 200
    assert client.get("/teams").json() == ["Preventers", "Z-Force"]


def test_the_next_test_starts_empty(client: TestClient) -> None:
    assert client.get("/teams").json() == []
