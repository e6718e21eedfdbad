"""Explain a database error: which common problem it is, why it happens, the fix (pure, no I/O)."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

__all__ = ["Explanation", "explain_error", "render"]


@dataclass(frozen=True)
class Explanation:
    """One recognized problem."""

    key: str
    problem: str
    """The family of problems it belongs to ("N+1 Queries", "Connection Leak", ...)."""
    title: str
    why: str
    fix: str


def _rule(
    pattern: str, key: str, problem: str, title: str, why: str, fix: str
) -> tuple[re.Pattern[str], Explanation]:
    return re.compile(pattern, re.I), Explanation(key, problem, title, why, fix)


_RULES = [
    _rule(
        r"MissingGreenlet|greenlet_spawn has not been called|AsyncLazyLoadError|\bxd2s\b",
        "missing-greenlet",
        "N+1 Queries",
        "Lazy load in async code (MissingGreenlet)",
        "An AsyncSession cannot load a relationship or an expired attribute when it is touched: "
        "that would be hidden I/O outside the event loop's control.",
        "Load what the response needs with the query: .options(selectinload(Parent.children)) for "
        "collections, joinedload for many-to-one; keep expire_on_commit=False; or load explicitly "
        "with await session.refresh(obj, ['children']).",
    ),
    _rule(
        r"DetachedInstanceError|is not bound to a Session|\bbhk3\b",
        "detached-instance",
        "Detached Instance",
        "Object used after its session closed (DetachedInstanceError)",
        "The object's session is closed, and the attribute was never loaded or was expired by "
        "commit(), so there is no session left to load it from.",
        "Load everything the caller needs before the session closes (selectinload, or "
        "session.refresh(obj) after commit), keep expire_on_commit=False, or re-attach it with "
        "session.merge(obj) / session.get(Model, id) in a new session.",
    ),
    _rule(
        r"QueuePool limit of size \d+ overflow \d+ reached|connection timed out, timeout|\b3o7r\b",
        "pool-exhausted",
        "Connection Leak",
        "Connection pool exhausted (QueuePool limit ... timed out)",
        "Every pooled connection was checked out and none came back within pool_timeout: "
        "connections are leaked (never closed) or held too long (slow work inside a session), "
        "or the pool is too small for the concurrency.",
        "Open sessions with context managers (with Session(engine) as session:) or the SessionDep "
        "dependency; keep transactions short; find the checkout site with LeakDetector; then size "
        "pool_size + max_overflow against the server's max_connections.",
    ),
    _rule(
        r"PendingRollbackError|transaction has been rolled back due to a previous exception|\b7s2a\b",
        "pending-rollback",
        "Transactions",
        "Session used after a failed flush (PendingRollbackError)",
        "A flush or commit failed, and the session's transaction must be rolled back before the "
        "session can be used again; code went on using it (often a shared or global session).",
        "Call session.rollback() in the except block that caught the first error, or use one "
        "session per request (SessionDep) so a failed request never poisons the next one.",
    ),
    _rule(
        r"transaction\(\) must begin the transaction itself",
        "transaction-after-writes",
        "Transactions",
        "A retried unit of work after writes of the same session (transaction())",
        "transaction() runs its unit of work again after a deadlock or serialization failure, and "
        "it can only run again what is inside it. Reads before it are fine (a dependency that "
        "loaded the current user); writes before it (objects added or changed, a flush, an ORM "
        "update()) could not be repeated.",
        "Commit the earlier writes first (session.commit()), or move them into the unit of work; "
        "pass ids into it, not objects loaded before it.",
    ),
    _rule(
        r"prepared statement \"?__asyncpg_stmt_\w*\"? (already exists|does not exist)|"
        r"DuplicatePreparedStatementError|InvalidSQLStatementNameError",
        "pgbouncer-prepared-statements",
        "Connection Leak",
        "asyncpg prepared statements behind PgBouncer",
        "PgBouncer in transaction mode hands a server connection to another client after each "
        "transaction; asyncpg's named prepared statements collide there, or are missing from the "
        "server connection the next statement reaches.",
        "Set DATABASE_POOLER=pgbouncer (the library's engines then run asyncpg without a "
        "statement cache and with unnamed statements). With SQLAlchemy alone: "
        "connect_args={'statement_cache_size': 0, 'prepared_statement_cache_size': 0, "
        "'prepared_statement_name_func': lambda: ''}; unique names instead of '' leave one "
        "statement per transaction on the server. Or use session pooling.",
    ),
    _rule(
        r"SSL SYSCALL error: EOF|server closed the connection unexpectedly|MySQL server has gone away|"
        r"Lost connection to (MySQL )?server|connection was closed in the middle of operation|\be3q8\b",
        "stale-connection",
        "Connection Leak",
        "Stale pooled connection (server closed it)",
        "The pool handed out a connection the server (or a firewall, or a failover) had already "
        "closed while it sat idle.",
        "Keep pool_pre_ping=True (a checkout is tested once it sat idle POOL_PING_AFTER seconds; "
        "0 tests every checkout), and pool_recycle below the server's "
        "and the network's idle timeouts (MariaDB wait_timeout, load-balancer idle limits).",
    ),
    _rule(
        r"deadlock detected|Deadlock found when trying to get lock|\b40P01\b|\(1213\b",
        "deadlock",
        "Transaction Deadlock",
        "Deadlock",
        "Two transactions each waited for a lock the other held; the database aborted one of them.",
        "Take locks in a consistent order (sort ids before updating), keep transactions short, "
        "and retry the whole unit of work with a bound (the transactional helper).",
    ),
    _rule(
        r"could not serialize access|SerializationFailure|\b40001\b|Lock wait timeout exceeded|\(1205\b",
        "serialization-failure",
        "Transaction Deadlock",
        "Serialization failure or lock wait timeout",
        "A concurrent transaction changed what this one read (SERIALIZABLE / REPEATABLE READ), "
        "or a lock was held past the wait limit.",
        "Retry the whole transaction with jittered backoff and a bound (the transactional helper); "
        "keep transactions short so that conflicts stay rare.",
    ),
    _rule(
        r"database is locked",
        "sqlite-locked",
        "Transaction Deadlock",
        "SQLite database is locked",
        "Another connection held SQLite's write lock longer than the busy timeout.",
        "Keep write transactions short, use WAL mode and a busy timeout (the engine defaults), "
        "and never hold a write transaction open across slow work.",
    ),
    _rule(
        r"StaleDataError|expected to update \d+ row\(s\); 0 were matched",
        "stale-data",
        "Stale Data",
        "Row changed or deleted underneath (StaleDataError)",
        "The row this object stands for was updated (its version moved) or deleted by someone "
        "else since it was loaded.",
        "Reload it (session.refresh(obj) or a new session) and apply the change again, or answer "
        "409 Conflict and let the client retry with fresh data.",
    ),
    _rule(
        r"duplicate key value violates unique constraint|UniqueViolation|Duplicate entry|"
        r"UNIQUE constraint failed|\b23505\b|\(1062\b",
        "unique-violation",
        "Data integrity",
        "Unique constraint violated",
        "A row with the same unique value already exists.",
        "Let the constraint decide (no check-then-insert race): catch IntegrityError and answer "
        "409 Conflict naming the constraint, never echoing the row's values.",
    ),
    _rule(
        r"violates foreign key constraint|FOREIGN KEY constraint failed|a foreign key constraint fails|"
        r"\b23503\b|\(1452\b|\(1451\b",
        "foreign-key-violation",
        "Data integrity",
        "Foreign key constraint violated",
        "The row refers to a parent that does not exist, or a parent still has children.",
        "Check that the parent exists in the same transaction, or answer 409 Conflict naming the "
        "constraint; delete children first (or declare ON DELETE) when removing a parent.",
    ),
    _rule(
        r"too many connections|remaining connection slots are reserved|\b53300\b|\(1040\b",
        "too-many-connections",
        "Connection Leak",
        "Too many connections",
        "The server refused a new connection: every worker's pool_size + max_overflow, summed "
        "over all processes, exceeds max_connections, or connections are leaked.",
        "Size pools against max_connections across all workers (or put PgBouncer in front), and "
        "find leaks with LeakDetector.",
    ),
    _rule(
        r"canceling statement due to statement timeout|max_statement_time exceeded|"
        r"Query execution was interrupted|\b57014\b|\(1969\b|\(3024\b",
        "statement-timeout",
        "N+1 Queries",
        "Statement timeout",
        "A statement ran longer than the statement timeout: a missing index, a huge result, or "
        "a lock wait.",
        "Find it in the slow-query log (fingerprint and caller), add the index or a LIMIT, and "
        "check for N+1 loops that make many small queries slow together.",
    ),
]


def explain_error(text: str) -> list[Explanation]:
    """Every known problem recognized in `text` (a traceback, its last line, an error code)."""
    return [explanation for pattern, explanation in _RULES if pattern.search(text)]


def render(explanations: list[Explanation], width: int = 80) -> str:
    """Plain text for the terminal, wrapped at `width` columns."""
    blocks = []
    for e in explanations:
        lines = [f"{e.title}", f"  Problem: {e.problem}"]
        lines += textwrap.wrap(
            e.why, width, initial_indent="  Why: ", subsequent_indent="       "
        )
        lines += textwrap.wrap(
            e.fix, width, initial_indent="  Fix: ", subsequent_indent="       "
        )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
