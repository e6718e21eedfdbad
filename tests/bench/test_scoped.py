"""The row scoping benchmark's plumbing: both apps answer the same bytes for each request pair.

No wrk and no timing here (numbers are never asserted): the apps run in
process on a small data set, reloaded before each app so that creates give
the same ids.
"""

from __future__ import annotations

import random

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bench import scoped
from bench._data import load
from sqlmodel_production.db import Backend
from tests.bench.test_contestants import replay

HEROES = 2_500
SAMPLE = 6


def _answers(
    app: FastAPI, lines: list[str], database_url: str
) -> list[tuple[int, bytes]]:
    load(database_url, HEROES)
    answers = []
    with TestClient(app) as client:
        for line in lines:
            response = replay(client, line)
            answers.append((response.status_code, response.content))
    return answers


@pytest.mark.only(Backend.POSTGRESQL)
@pytest.mark.parametrize("dependency", ["async", "sync"])
def test_scoped_and_unscoped_answer_the_same_bytes(
    backend: Backend,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    dependency: str,
) -> None:
    monkeypatch.setenv("BENCH_SCOPE_DEPENDENCY", dependency)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ENVIRONMENT", "production")
    rng = random.Random(6)
    for scenario in scoped.SCENARIOS:
        unscoped_lines, scoped_lines = scoped.request_pairs(
            scenario, HEROES, rng, count=SAMPLE
        )
        unscoped = _answers(scoped.create_unscoped_app(), unscoped_lines, database_url)
        got = _answers(scoped.create_app(), scoped_lines, database_url)
        assert all(status in (200, 201) for status, _ in unscoped), unscoped
        assert got == unscoped, scenario
        if scenario == "list":
            assert all(body.count(b'"id"') >= 2 for _, body in got)


@pytest.mark.only(Backend.POSTGRESQL)
def test_the_scoped_app_hides_other_teams(
    backend: Backend, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison is with the scope at work: another team's hero is a 404."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    hero = 2 * 7
    other = scoped.team_of(hero) + 1
    got = _answers(
        scoped.create_app(), [f"GET\t/heroes/{hero}\t\tX-Team: {other}"], database_url
    )
    assert got[0][0] == 404
    refused = _answers(
        scoped.create_app(),
        [f'POST\t/assignments/\t{{"title": "t", "hero_id": {hero}}}\tX-Team: {other}'],
        database_url,
    )
    assert refused[0][0] == 422, refused
