"""Every classified database error has one HTTP answer: status, headers, and a body without values."""

from __future__ import annotations

import json

import pytest

from sqlmodel_production.api import error_response
from sqlmodel_production.db import ClassifiedError, ErrorKind

EXPECTED = {
    ErrorKind.UNIQUE_VIOLATION: 409,
    ErrorKind.STILL_REFERENCED: 409,
    ErrorKind.MISSING_REFERENCE: 422,
    ErrorKind.NOT_NULL_VIOLATION: 422,
    ErrorKind.CHECK_VIOLATION: 422,
    ErrorKind.INVALID_DATA: 422,
    ErrorKind.INVALID_CHARACTER: 422,
    ErrorKind.SERIALIZATION_FAILURE: 503,
    ErrorKind.DEADLOCK: 503,
    ErrorKind.LOCK_TIMEOUT: 503,
    ErrorKind.DATABASE_LOCKED: 503,
    ErrorKind.CONNECTION_LOST: 503,
    ErrorKind.TOO_MANY_CONNECTIONS: 503,
    ErrorKind.POOL_TIMEOUT: 503,
    ErrorKind.ROW_SECURITY_VIOLATION: 403,
    ErrorKind.STATEMENT_TIMEOUT: 504,
}


def test_every_kind_has_an_answer() -> None:
    assert set(EXPECTED) == set(ErrorKind)


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_status_and_retry_after(kind: ErrorKind) -> None:
    response = error_response(
        ClassifiedError(
            kind, code="x", constraint="uq_team_name", table="team", columns=("name",)
        )
    )
    assert response.status_code == EXPECTED[kind]
    assert ("Retry-After" in response.headers) is (EXPECTED[kind] == 503)
    assert kind.transient is (EXPECTED[kind] == 503)


def test_unique_conflict_names_table_field_and_constraint() -> None:
    response = error_response(
        ClassifiedError(
            ErrorKind.UNIQUE_VIOLATION,
            code="23505",
            constraint="uq_team_name",
            table="team",
            columns=("name",),
        )
    )
    assert json.loads(response.body) == {
        "detail": "Conflict: a team with this name already exists",
        "code": "unique_violation",
        "constraint": "uq_team_name",
        "fields": ["name"],
    }


def test_unprocessable_values_use_fastapis_error_shape() -> None:
    response = error_response(
        ClassifiedError(
            ErrorKind.MISSING_REFERENCE,
            code="23503",
            constraint="fk",
            table="hero",
            columns=("team_id",),
        )
    )
    assert json.loads(response.body) == {
        "detail": [
            {
                "type": "foreign_key_violation",
                "loc": ["body", "team_id"],
                "msg": "Field 'team_id' refers to a row that does not exist",
                "ctx": {"constraint": "fk"},
            }
        ]
    }
    unnamed = error_response(ClassifiedError(ErrorKind.INVALID_DATA, code="overflow"))
    assert json.loads(unnamed.body)["detail"][0]["loc"] == ["body"]


def test_a_commit_with_an_unknown_outcome_says_so() -> None:
    response = error_response(
        ClassifiedError(ErrorKind.CONNECTION_LOST, code="57P01", outcome_unknown=True)
    )
    assert response.status_code == 503 and response.headers["Retry-After"]
    body = json.loads(response.body)
    assert body["outcome"] == "unknown" and body["code"] == "connection_lost"
    assert "may or may not have been saved" in body["detail"]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("author", "an author"),
        ("item", "an item"),
        ("order", "an order"),
        ("entry", "an entry"),
        ("update", "an update"),
        ("user", "a user"),
        ("unit", "a unit"),
        ("team", "a team"),
        ("hero", "a hero"),
    ],
)
def test_a_conflict_puts_the_right_article_before_the_table(
    table: str, expected: str
) -> None:
    response = error_response(
        ClassifiedError(
            ErrorKind.UNIQUE_VIOLATION, code="x", table=table, columns=("name",)
        )
    )
    detail = json.loads(response.body)["detail"]
    assert detail == f"Conflict: {expected} with this name already exists"
