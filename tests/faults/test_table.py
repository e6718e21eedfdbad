"""The fault table's counting and judging, on hand-made outcomes (no server, no app)."""

from __future__ import annotations

from faults._table import (
    Outcome,
    Row,
    exception_names,
    problems,
    problems_besides_500s,
    render,
    tally,
)


def _row(
    outcomes: list[Outcome],
    stored: set[str],
    *,
    recovered: bool = True,
    causes: dict[str, int] | None = None,
) -> Row:
    return tally(
        outcomes,
        stored,
        database="PostgreSQL",
        router="async",
        fault="restart",
        recovered=recovered,
        causes=causes,
    )


def test_each_answer_is_counted_in_its_column() -> None:
    outcomes = [
        Outcome("a", 201),
        Outcome("b", 200),
        Outcome("c", 503, retry_after=True),
        Outcome("d", 504),
        Outcome("e", 500),
        Outcome("f", 409),
        Outcome("g", None),
    ]
    row = _row(outcomes, {"a", "b"})
    assert (row.requests, row.ok, row.unavailable, row.timeout, row.error) == (
        7,
        2,
        1,
        1,
        1,
    )
    assert (row.other, row.no_answer, row.lost, row.no_retry_after) == (1, 1, 0, 0)


def test_an_acknowledged_name_missing_from_the_database_is_lost() -> None:
    row = _row([Outcome("a", 201), Outcome("b", 201), Outcome("c", 503, True)], {"a"})
    assert row.lost == 1
    assert problems(row) == ["1 acknowledged writes lost"]


def test_a_503_that_says_the_outcome_is_unknown_may_have_written() -> None:
    # A 503 for a commit whose outcome is unknown may have written: counted, not a problem.
    row = _row(
        [
            Outcome("a", 503, True, outcome_unknown=True),
            Outcome("b", 503, True, outcome_unknown=True),
        ],
        {"a"},
    )
    assert (row.lost, row.unavailable_written, problems(row)) == (0, 1, [])


def test_a_503_whose_write_landed_must_say_the_outcome_is_unknown() -> None:
    row = _row([Outcome("a", 503, True), Outcome("b", 503, True)], {"a"})
    assert (row.unavailable_written, row.written_unannounced) == (1, 1)
    assert problems(row) == [
        "1 x 503 whose write landed without saying the outcome was unknown"
    ]


def test_an_unanswered_request_whose_write_landed_was_cut_off() -> None:
    row = _row([Outcome("a", None), Outcome("b", None)], {"b"})
    assert row.unanswered_written == 1
    assert problems(row) == [
        "1 writes done but never answered (in-flight requests cut off)"
    ]


def test_a_503_without_retry_after_is_a_problem() -> None:
    row = _row([Outcome("a", 503, True), Outcome("b", 503, False)], set())
    assert problems(row) == ["1 x 503 without Retry-After"]


def test_500s_name_what_the_app_logged() -> None:
    row = _row(
        [Outcome("a", 500), Outcome("b", 500)],
        set(),
        causes={"OSError": 1, "asyncpg.exceptions.CannotConnectNowError": 1},
    )
    assert problems(row) == [
        "2 x 500 (the app logged OSError x 1, asyncpg.exceptions.CannotConnectNowError x 1)"
    ]


def test_a_fault_that_left_no_trace_proves_nothing() -> None:
    row = _row([Outcome("a", 201)], {"a"})
    assert problems(row, shows=("timeout",)) == [
        "the fault left no trace (none of timeout)"
    ]
    assert problems(row, shows=("ok",)) == []


def test_no_requests_and_no_recovery_are_problems() -> None:
    assert problems(_row([], set(), recovered=False)) == [
        "no request was sent",
        "the service did not answer 2xx again after the fault",
    ]


def test_render_prints_one_line_per_row_and_the_logged_exceptions() -> None:
    rows = [
        _row([Outcome("a", 201)] * 1500, {"a"}),
        tally(
            [Outcome("b", 500), Outcome("c", 503, True)],
            {"c"},
            database="MariaDB",
            router="sync",
            fault="crash",
            causes={"KeyError": 2},
        ),
    ]
    assert render(rows) == (
        "| database | router | fault | requests | 2xx | 503 | 504 | 500 | other | no answer | acknowledged but lost |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        "| PostgreSQL | async | restart | 1,500 | 1,500 | 0 | 0 | 0 | 0 | 0 | 0 |\n"
        "| MariaDB | sync | crash | 2 | 0 | 1 | 0 | 1 | 0 | 0 | 0 |\n"
        "\n"
        "The exceptions behind the 500s, from the app's log:\n"
        "\n"
        "- MariaDB, sync, crash: KeyError x 2\n"
        "\n"
        "Answered 503, yet written (the commit's outcome was unknown):\n"
        "\n"
        "- MariaDB, sync, crash: 1\n"
    )


LOG = """\
ERROR:    Exception in ASGI application
Traceback (most recent call last):
  File "/app/x.py", line 1, in connect
    raise ConnectionRefusedError(111, "refused")
ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 5432)
Exception during reset or similar
Traceback (most recent call last):
  File "/app/pool.py", line 3, in reset
pymysql.err.OperationalError: (2013, 'Lost connection to MySQL server during query')
Unclassified database error
Traceback (most recent call last):
  File "/app/z.py", line 3, in connect
asyncpg.exceptions.CannotConnectNowError: the database system is starting up

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/app/y.py", line 2, in run
    await conn.execute(sql)
sqlalchemy.dialects.postgresql.asyncpg.AsyncAdapt_asyncpg_dbapi.Error: the database system is starting up
WARNING:  ValueError: not at the start of a line
"""


def test_the_exceptions_behind_500s_are_read_from_the_log() -> None:
    assert exception_names(LOG) == {
        "ConnectionRefusedError": 1,
        "asyncpg.exceptions.CannotConnectNowError": 1,
        "sqlalchemy.dialects.postgresql.asyncpg.AsyncAdapt_asyncpg_dbapi.Error": 1,
    }


def test_a_request_in_flight_at_the_fault_must_be_answered() -> None:
    row = _row(
        [
            Outcome("a", 201, spans_mark=True),
            Outcome("b", None, spans_mark=True),
            Outcome("c", None),
        ],
        {"a"},
    )
    assert (row.in_flight, row.cut_off, row.no_answer) == (2, 1, 2)
    assert problems(row, shows=("in_flight",)) == [
        "1 requests in flight at the fault never answered"
    ]


def test_problems_besides_500s_keep_everything_else() -> None:
    only_500s = _row([Outcome("a", 500), Outcome("b", 503, True)], set())
    assert problems(only_500s) == ["1 x 500"]
    assert problems_besides_500s(only_500s, shows=("unavailable",)) == []
    with_loss = _row([Outcome("a", 500), Outcome("b", 201)], set())
    assert problems_besides_500s(with_loss) == ["1 acknowledged writes lost"]
