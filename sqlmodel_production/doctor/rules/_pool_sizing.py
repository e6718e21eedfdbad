"""SMP017: more pooled connections across workers than the server's `max_connections` (run time)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule

if TYPE_CHECKING:
    from sqlmodel_production.doctor._runtime import Runtime


class PoolSizingRule(Rule):
    code = "SMP017"
    title = "Connection pools larger than the server's max_connections"
    severity = Severity.ERROR
    rationale = (
        "Every worker process has its own pool, which may open `pool_size + max_overflow` "
        "connections. When workers times that exceeds what the server accepts (`max_connections` "
        "minus the slots reserved for superusers), a traffic peak makes new connections fail with "
        '"too many connections" instead of waiting for a pooled one. Size the pools from the '
        "server's limit, leaving room for migrations and admin sessions, or put PgBouncer in front. "
        "Behind PgBouncer the limit is the pooler's `max_client_conn` (read from its console by a "
        "user in `stats_users`), and the service must know it talks to a pooler "
        "(`DATABASE_POOLER=pgbouncer`). "
        "Checked at run time: `doctor --app module:app --database-url URL --workers N`."
    )
    bad = """\
# 8 workers x (10 + 5) = 120 connections; PostgreSQL accepts 100 - 3 reserved = 97
engine = create_engine(DATABASE_URL, pool_size=10, max_overflow=5, pool_pre_ping=True)
"""
    good = """\
# 8 workers x (5 + 5) = 80 connections <= 97
engine = create_engine(DATABASE_URL, pool_size=5, max_overflow=5, pool_pre_ping=True)
"""

    def check_runtime(
        self, runtime: Runtime, project: ProjectIndex | None = None
    ) -> Iterator[Finding]:
        limits = runtime.limits
        if limits is None:
            return
        pools = runtime.pools()
        if not pools:
            return
        where = max(pools, key=lambda pool: pool.capacity or 0)
        if limits.pooler == "pgbouncer" and runtime.pooler_setting != "pgbouncer":
            yield self.finding(
                where.path,
                where.line,
                "--database-url reaches PgBouncer, but DATABASE_POOLER is not `pgbouncer`: "
                "the service would send startup options PgBouncer refuses, and prepared "
                "statements that break in transaction mode.",
                "Set DATABASE_POOLER=pgbouncer in the service's environment (docs/scaling.md).",
            )
        available = limits.available
        if available <= 0:
            return  # the pooler's console did not tell its limit
        workers = runtime.workers
        per_worker = [pool.capacity for pool in pools]
        if limits.pooler is not None:
            server = f"{limits.backend} accepts {available} (max_client_conn)"
        else:
            server = (
                f"the {limits.backend} server accepts {available} "
                f"(max_connections {limits.max_connections} - {limits.reserved} reserved)"
            )
        if any(capacity is None for capacity in per_worker):
            unbounded = next(pool for pool in pools if pool.capacity is None)
            yield self.finding(
                unbounded.path,
                unbounded.line,
                f"`{unbounded.label}` has an unbounded overflow (`max_overflow=-1`): its connections "
                f"are limited only by the load, while {server}.",
                "Set a finite `max_overflow` so that workers x (pool_size + max_overflow) fits.",
            )
            return
        total = workers * sum(
            capacity for capacity in per_worker if capacity is not None
        )
        if total <= available:
            return
        parts = " + ".join(f"({pool.size} + {pool.overflow})" for pool in pools)
        if len(pools) > 1:
            parts = f"({parts})"  # every worker opens every pool
        yield self.finding(
            where.path,
            where.line,
            f"{workers} worker(s) x {parts} pooled connections = {total}, but {server}: at peak "
            'load connections fail with "too many connections" instead of waiting for the pool.',
            f"Lower pool_size/max_overflow so that {workers} x "
            + (
                "(pool_size + max_overflow)"
                if len(pools) == 1
                else "(the pools' pool_size + max_overflow, added up)"
            )
            + f" <= {available}, "
            + (
                "or raise PgBouncer's max_client_conn."
                if limits.pooler is not None
                else "raise max_connections, or put PgBouncer in front."
            ),
        )
