"""What a fault run saw, counted and judged (pure: no I/O).

Every request the load sent is an `Outcome`; once the fault is over, the names
found in the database decide what was lost. `tally` counts both into a `Row`,
`problems` says what a row breaks of the promise (no 500, nothing acknowledged
lost, every 503 with `Retry-After`, every in-flight request answered, the
service back after the fault), and `render` prints the rows as a Markdown table.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

__all__ = [
    "COLUMNS",
    "Outcome",
    "Row",
    "exception_names",
    "problems",
    "problems_besides_500s",
    "render",
    "tally",
]

# The exception line of a traceback: `name: message` or `name` at the start of a line.
_EXCEPTION = re.compile(
    r"^((?:[A-Za-z_]\w*\.)*\w*(?:Error|Exception|Exit|Interrupt))(?::|$)"
)
# What uvicorn and the error handlers log before the traceback of a 500.
_SERVER_ERROR = ("Exception in ASGI application", "Unclassified database error")
_CHAINED = ("The above exception", "During handling of the above exception")


@dataclass(frozen=True)
class Outcome:
    """One request of the load: the name it tried to create and what came back.

    Attributes:
        name: the unique team name sent.
        status: the HTTP status, or None when no answer came (refused, reset, timed out).
        retry_after: whether the answer carried a `Retry-After` header.
        spans_mark: whether the request was in flight when the fault marked its
            moment (sent before it, answered or given up after it).
        outcome_unknown: whether a 503's body said the outcome is unknown.
    """

    name: str
    status: int | None
    retry_after: bool = False
    spans_mark: bool = False
    outcome_unknown: bool = False


@dataclass(frozen=True)
class Row:
    """The counts of one fault on one database through one router.

    Attributes:
        database: `PostgreSQL` or `MariaDB`.
        router: `async` or `sync`.
        fault: what was done to the server or the app.
        requests: requests sent.
        ok: answered 2xx.
        unavailable: answered 503.
        timeout: answered 504.
        error: answered 500.
        other: answered anything else.
        no_answer: got no answer at all.
        lost: answered 2xx but not in the database afterwards.
        no_retry_after: 503s without a `Retry-After` header.
        unanswered_written: got no answer but are in the database (a request the
            app finished without telling the client).
        unavailable_written: answered 503 but in the database (a commit whose
            outcome the client could not know; a retry must be idempotent).
        written_unannounced: of those, the 503s that did not say the outcome was
            unknown (the client was told the write failed).
        in_flight: in flight at the fault's marked moment (a SIGTERM, say).
        cut_off: in flight at that moment and never answered.
        recovered: whether the service answered 2xx again after the fault.
        causes: exception names in the app's log and how often each appeared.
    """

    database: str
    router: str
    fault: str
    requests: int = 0
    ok: int = 0
    unavailable: int = 0
    timeout: int = 0
    error: int = 0
    other: int = 0
    no_answer: int = 0
    lost: int = 0
    no_retry_after: int = 0
    unanswered_written: int = 0
    unavailable_written: int = 0
    written_unannounced: int = 0
    in_flight: int = 0
    cut_off: int = 0
    recovered: bool = True
    causes: Mapping[str, int] = field(default_factory=dict)


COLUMNS = (
    "database",
    "router",
    "fault",
    "requests",
    "2xx",
    "503",
    "504",
    "500",
    "other",
    "no answer",
    "acknowledged but lost",
)


def tally(
    outcomes: Iterable[Outcome],
    stored: Iterable[str],
    *,
    database: str,
    router: str,
    fault: str,
    recovered: bool = True,
    causes: Mapping[str, int] | None = None,
) -> Row:
    """Count `outcomes` against the names `stored` in the database after the fault."""
    in_database = set(stored)
    counts: Counter[str] = Counter()
    for outcome in outcomes:
        counts["requests"] += 1
        status = outcome.status
        if outcome.spans_mark:
            counts["in_flight"] += 1
            counts["cut_off"] += status is None
        if status is None:
            counts["no_answer"] += 1
            counts["unanswered_written"] += outcome.name in in_database
        elif 200 <= status < 300:
            counts["ok"] += 1
            counts["lost"] += outcome.name not in in_database
        elif status == 503:
            counts["unavailable"] += 1
            counts["no_retry_after"] += not outcome.retry_after
            written = outcome.name in in_database
            counts["unavailable_written"] += written
            counts["written_unannounced"] += written and not outcome.outcome_unknown
        elif status == 504:
            counts["timeout"] += 1
        elif status == 500:
            counts["error"] += 1
        else:
            counts["other"] += 1
    return Row(
        database=database,
        router=router,
        fault=fault,
        recovered=recovered,
        causes=dict(causes or {}),
        **counts,
    )


def exception_names(log: str) -> Counter[str]:
    """The exceptions behind the 500s logged in `log`, with how often each appeared.

    A traceback counts when the line before it is one that uvicorn or the error
    handlers write for a 500; the exceptions chained to it count with it. Other
    tracebacks (a pool failing to reset a dead connection, say) are not answers.
    """
    found: Counter[str] = Counter()
    counting = False
    previous = ""
    for line in log.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            if not previous.startswith(_CHAINED):
                counting = any(marker in previous for marker in _SERVER_ERROR)
        elif counting and (match := _EXCEPTION.match(line)):
            found[match.group(1)] += 1
        if line.strip():
            previous = line
    return found


def problems(row: Row, *, shows: Iterable[str] = ()) -> list[str]:
    """What `row` breaks of the promise; empty when the service kept it.

    Args:
        row: the counts of one run.
        shows: `Row` attributes of which at least one must be non-zero, the proof
            that the fault happened at all (a restart nobody noticed proves nothing).
    """
    found = []
    if row.requests == 0:
        found.append("no request was sent")
    if row.error:
        causes = ", ".join(f"{name} x {n}" for name, n in sorted(row.causes.items()))
        found.append(
            f"{row.error} x 500" + (f" (the app logged {causes})" if causes else "")
        )
    if row.other:
        found.append(f"{row.other} answers other than 2xx, 503, 504 or 500")
    if row.lost:
        found.append(f"{row.lost} acknowledged writes lost")
    if row.no_retry_after:
        found.append(f"{row.no_retry_after} x 503 without Retry-After")
    if row.written_unannounced:
        found.append(
            f"{row.written_unannounced} x 503 whose write landed without saying the "
            "outcome was unknown"
        )
    if row.unanswered_written:
        found.append(
            f"{row.unanswered_written} writes done but never answered (in-flight requests cut off)"
        )
    if row.cut_off:
        found.append(f"{row.cut_off} requests in flight at the fault never answered")
    if not row.recovered:
        found.append("the service did not answer 2xx again after the fault")
    wanted = tuple(shows)
    if wanted and not any(getattr(row, name) for name in wanted):
        found.append(f"the fault left no trace (none of {', '.join(wanted)})")
    return found


def problems_besides_500s(row: Row, *, shows: Iterable[str] = ()) -> list[str]:
    """`problems` of `row` as if none of its answers had been a 500.

    Empty for a run whose only problem is 500s (a row that waits for errors to be
    classified); anything else (a lost write, a 503 without `Retry-After`) remains.
    """
    return problems(replace(row, error=0, causes={}), shows=shows)


def _cells(row: Row) -> list[str]:
    numbers = (
        row.requests,
        row.ok,
        row.unavailable,
        row.timeout,
        row.error,
        row.other,
        row.no_answer,
        row.lost,
    )
    return [row.database, row.router, row.fault, *(f"{n:,}" for n in numbers)]


def render(rows: Iterable[Row]) -> str:
    """The rows as a Markdown table, then notes: the exceptions behind 500s, 503s that wrote."""
    rows = list(rows)
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * 3 + "---:|" * (len(COLUMNS) - 3),
    ]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    causes = [
        f"- {row.database}, {row.router}, {row.fault}: "
        + ", ".join(f"{name} x {n}" for name, n in sorted(row.causes.items()))
        for row in rows
        if row.causes
    ]
    if causes:
        lines += [
            "",
            "The exceptions behind the 500s, from the app's log:",
            "",
            *causes,
        ]
    written = [
        f"- {row.database}, {row.router}, {row.fault}: {row.unavailable_written}"
        for row in rows
        if row.unavailable_written
    ]
    if written:
        lines += [
            "",
            "Answered 503, yet written (the commit's outcome was unknown):",
            "",
        ]
        lines += written
    return "\n".join(lines) + "\n"
