"""Statement summaries for span names and metric attributes (pure)."""

from __future__ import annotations

import pytest

from sqlmodel_production.telemetry._statements import Summary, summarize


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT hero.id FROM hero WHERE hero.id = $1::INTEGER",
            Summary("SELECT", "hero"),
        ),
        (
            'INSERT INTO "hero" (name) VALUES (%s) RETURNING hero.id',
            Summary("INSERT", "hero"),
        ),
        ("UPDATE `team` SET name=%s WHERE team.id = %s", Summary("UPDATE", "team")),
        ("DELETE FROM public.hero WHERE hero.id = ?", Summary("DELETE", "public.hero")),
        ("select 1", Summary("SELECT", None)),
        ("BEGIN", Summary("BEGIN", None)),
        ("/* a comment */ SELECT a FROM b", Summary("SELECT", "b")),
        ("SET LOCAL statement_timeout = 30000", Summary("SET", None)),
        ("", Summary("UNKNOWN", None)),
    ],
)
def test_summaries(sql: str, expected: Summary) -> None:
    assert summarize(sql) == expected


def test_the_text_is_the_span_name() -> None:
    assert summarize("SELECT hero.id FROM hero").text == "SELECT hero"
    assert summarize("COMMIT").text == "COMMIT"


def test_a_statement_is_read_once() -> None:
    sql = "SELECT x FROM remembered"
    assert summarize(sql) is summarize(sql)
