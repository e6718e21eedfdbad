"""`explain`: error texts to the seed's problems; the CLI at a fixed width."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sqlmodel_production.cli import app
from sqlmodel_production.diagnostics import explain_error

from .explain_messages import MESSAGES

MISSING_GREENLET = """\
sqlalchemy.exc.StatementError: (sqlalchemy.exc.MissingGreenlet) greenlet_spawn has not been called; \
can't call await_() here. Was IO attempted in an unexpected place?
(Background on this error at: https://sqlalche.me/e/21/xd2s)"""


# The label (problem family) and a part of the fix each problem must give.
LABELS = {
    "missing-async-attrs": (
        "Async Lazy Load",
        "class Hero(AsyncAttrs, SQLModel, table=True)",
    ),
    "missing-greenlet": ("Async Lazy Load", ".options(selectinload(Parent.children))"),
    "n-plus-one": ("N+1 Queries", ".options(selectinload(Parent.children))"),
    "detached-instance": ("Detached Instance", "session.merge(obj)"),
    "pool-exhausted": ("Connection Leak", "LeakDetector"),
    "pending-rollback": ("Transactions", "session.rollback()"),
    "transaction-after-writes": ("Transactions", "session.commit()"),
    "transaction-usage": ("Transactions", "async for attempt in transaction(session)"),
    "pgbouncer-startup-parameter": ("PgBouncer", "ignore_startup_parameters"),
    "pgbouncer-prepared-statements": ("PgBouncer", "'prepare_threshold': None"),
    "pgbouncer-pool-full": ("PgBouncer", "max_client_conn"),
    "stale-connection": ("Connections", "pool_pre_ping=True"),
    "connection-refused": ("Connections", "DATABASE_URL's host and port"),
    "authentication-failed": ("Connections", "DATABASE_URL's user, password"),
    "too-many-connections": ("Connections", "max_connections"),
    "closed-connection": ("Connections", "never keep one beyond its block"),
    "concurrent-session": ("Session Misuse", "a session of its own"),
    "object-in-other-session": ("Session Misuse", "session.merge(obj)"),
    "sqlite-thread": ("Session Misuse", "'check_same_thread': False"),
    "deadlock": ("Transaction Deadlock", "consistent order"),
    "serialization-failure": ("Transaction Conflict", "Retry the whole transaction"),
    "lock-wait-timeout": ("Lock Contention", "pg_blocking_pids"),
    "sqlite-locked": ("Lock Contention", "WAL mode"),
    "stale-data": ("Stale Data", "409 Conflict"),
    "unique-violation": ("Data integrity", "409 Conflict"),
    "foreign-key-violation": ("Data integrity", "409 Conflict"),
    "not-null-violation": ("Data integrity", "422"),
    "check-violation": ("Data integrity", "Field(gt=0)"),
    "value-too-long": ("Data integrity", "Field(max_length=n)"),
    "row-level-security": ("Tenancy", "Depends(scope.in_database)"),
    "statement-timeout": ("Slow Query", "slow-query log"),
    "schema-mismatch": ("Schema", "alembic upgrade head"),
    "no-result": ("Not Found", "answer 404"),
}


def test_the_table_covers_three_databases_six_drivers_and_more() -> None:
    sources = {source for source, _, _ in MESSAGES}
    assert len(MESSAGES) >= 40
    assert {
        "psycopg",
        "asyncpg",
        "pymysql",
        "asyncmy",
        "sqlite3",
        "aiosqlite",
    } <= sources
    assert {"pgbouncer", "sqlalchemy", "sqlmodel-production"} <= sources
    assert {key for _, _, key in MESSAGES} == set(LABELS)


@pytest.mark.parametrize(
    ("source", "text", "key"),
    MESSAGES,
    ids=[f"{source}-{key}-{i}" for i, (source, _, key) in enumerate(MESSAGES)],
)
def test_real_message(source: str, text: str, key: str) -> None:
    [explanation] = explain_error(text)
    problem, fix = LABELS[key]
    assert (explanation.key, explanation.problem) == (key, problem)
    assert fix in explanation.fix


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("xd2s", "missing-greenlet"),
        ("bhk3", "detached-instance"),
        ("3o7r", "pool-exhausted"),
        ("isce", "concurrent-session"),
        ("40P01", "deadlock"),
        ("40001", "serialization-failure"),
        ("55P03", "lock-wait-timeout"),
        ("23505", "unique-violation"),
        ("23503", "foreign-key-violation"),
        ("23502", "not-null-violation"),
        ("57014", "statement-timeout"),
        ("42P01", "schema-mismatch"),
    ],
)
def test_recognizes_codes(code: str, key: str) -> None:
    assert [e.key for e in explain_error(code)] == [key]


@pytest.mark.parametrize(
    ("text", "not_problem"),
    [
        # The labels of issue #22: none of these is what it was called.
        ("sqlite3.OperationalError: database is locked", "Transaction Deadlock"),
        (MISSING_GREENLET, "N+1 Queries"),
        (
            "asyncpg.exceptions.DuplicatePreparedStatementError: prepared statement "
            '"__asyncpg_stmt_1a__" already exists',
            "Connection Leak",
        ),
        ("canceling statement due to statement timeout", "N+1 Queries"),
    ],
)
def test_labels_are_not_the_old_wrong_ones(text: str, not_problem: str) -> None:
    [explanation] = explain_error(text)
    assert explanation.problem != not_problem


def test_codes_match_whole_tokens_only() -> None:
    assert explain_error("a1234001b, 3o7rx, x40P01") == []


runner = CliRunner()

POOL_EXHAUSTED = """\
Connection pool exhausted (QueuePool limit ... timed out)
  Problem: Connection Leak
  Why: Every pooled connection was checked out and none came back within
       pool_timeout: connections are leaked (never closed) or held too long
       (slow work inside a session), or the pool is too small for the
       concurrency.
  Fix: Open sessions with context managers (with Session(engine) as session:) or
       the SessionDep dependency; keep transactions short; find the checkout
       site with LeakDetector; then size pool_size + max_overflow against the
       server's max_connections.
"""


def test_cli_explains_an_argument() -> None:
    result = runner.invoke(
        app,
        ["explain", "QueuePool limit of size 5 overflow 10 reached"],
        terminal_width=80,
    )
    assert result.exit_code == 0
    assert result.output == POOL_EXHAUSTED


def test_cli_reads_standard_input() -> None:
    result = runner.invoke(
        app, ["explain", "-"], input=MISSING_GREENLET, terminal_width=80
    )
    assert result.exit_code == 0
    assert result.output.splitlines()[:2] == [
        "Lazy load in async code (MissingGreenlet)",
        "  Problem: Async Lazy Load",
    ]
    assert "  Fix: Load what the response needs with the query:" in result.output


def test_cli_unrecognized_exits_1() -> None:
    result = runner.invoke(app, ["explain", "all good"], terminal_width=80)
    assert result.exit_code == 1
    assert result.output == (
        "No known problem recognized. Paste the whole traceback, or its last line, "
        "or an error code (3o7r) or SQLSTATE (40P01).\n"
    )
