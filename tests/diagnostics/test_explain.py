"""`explain`: error texts to the seed's problems; the CLI at a fixed width."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sqlmodel_production.cli import app
from sqlmodel_production.diagnostics import explain_error

MISSING_GREENLET = """\
sqlalchemy.exc.StatementError: (sqlalchemy.exc.MissingGreenlet) greenlet_spawn has not been called; \
can't call await_() here. Was IO attempted in an unexpected place?
(Background on this error at: https://sqlalche.me/e/21/xd2s)"""


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (MISSING_GREENLET, "missing-greenlet", "N+1 Queries"),
        ("xd2s", "missing-greenlet", "N+1 Queries"),
        (
            "sqlalchemy.orm.exc.DetachedInstanceError: Parent instance <Team at 0x7f> is not bound "
            "to a Session; lazy load operation of attribute 'heroes' cannot proceed",
            "detached-instance",
            "Detached Instance",
        ),
        ("bhk3", "detached-instance", "Detached Instance"),
        (
            "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, "
            "connection timed out, timeout 30.00",
            "pool-exhausted",
            "Connection Leak",
        ),
        ("3o7r", "pool-exhausted", "Connection Leak"),
        (
            "sqlalchemy.exc.PendingRollbackError: This Session's transaction has been rolled back "
            "due to a previous exception during flush.",
            "pending-rollback",
            "Transactions",
        ),
        (
            "asyncpg.exceptions.DuplicatePreparedStatementError: prepared statement "
            '"__asyncpg_stmt_1a__" already exists',
            "pgbouncer-prepared-statements",
            "Connection Leak",
        ),
        (
            "asyncpg.exceptions.InvalidSQLStatementNameError: prepared statement "
            '"__asyncpg_stmt_1d__" does not exist',
            "pgbouncer-prepared-statements",
            "Connection Leak",
        ),
        (
            "psycopg2.OperationalError: SSL SYSCALL error: EOF detected",
            "stale-connection",
            "Connection Leak",
        ),
        ("(2006, 'MySQL server has gone away')", "stale-connection", "Connection Leak"),
        ("ERROR: deadlock detected", "deadlock", "Transaction Deadlock"),
        ("40P01", "deadlock", "Transaction Deadlock"),
        (
            "(pymysql.err.OperationalError) (1213, 'Deadlock found when trying to get lock; "
            "try restarting transaction')",
            "deadlock",
            "Transaction Deadlock",
        ),
        ("40001", "serialization-failure", "Transaction Deadlock"),
        (
            "could not serialize access due to concurrent update",
            "serialization-failure",
            "Transaction Deadlock",
        ),
        (
            "sqlite3.OperationalError: database is locked",
            "sqlite-locked",
            "Transaction Deadlock",
        ),
        ("23505", "unique-violation", "Data integrity"),
        (
            "(1062, \"Duplicate entry 'a' for key 'name'\")",
            "unique-violation",
            "Data integrity",
        ),
        ("23503", "foreign-key-violation", "Data integrity"),
        (
            "FATAL: sorry, too many connections for role",
            "too-many-connections",
            "Connection Leak",
        ),
        (
            "canceling statement due to statement timeout",
            "statement-timeout",
            "N+1 Queries",
        ),
        (
            "UPDATE statement on table 'hero' expected to update 1 row(s); 0 were matched.",
            "stale-data",
            "Stale Data",
        ),
        (
            "sqlalchemy.exc.InvalidRequestError: transaction() must begin the transaction "
            "itself, but this session has writes in progress",
            "transaction-after-writes",
            "Transactions",
        ),
    ],
)
def test_recognizes(text: str, key: str, problem: str) -> None:
    [explanation] = explain_error(text)
    assert (explanation.key, explanation.problem) == (key, problem)


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
        "  Problem: N+1 Queries",
    ]
    assert "  Fix: Load what the response needs with the query:" in result.output


def test_cli_unrecognized_exits_1() -> None:
    result = runner.invoke(app, ["explain", "all good"], terminal_width=80)
    assert result.exit_code == 1
    assert result.output == (
        "No known problem recognized. Paste the whole traceback, or its last line, "
        "or an error code (3o7r) or SQLSTATE (40P01).\n"
    )
