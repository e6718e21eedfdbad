"""The faults, one row of the table each: what is done, with which app settings, and its trace.

Adding a row is adding a `Fault` to `FAULTS`: a label, a function that does the
fault (it returns once the fault is over), the app settings it needs, and the
counts of which one at least must be non-zero if the fault really happened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ._app import App
from ._servers import Server

__all__ = ["FAULTS", "Fault", "FaultContext"]


@dataclass(frozen=True)
class FaultContext:
    """What a fault can act on.

    Attributes:
        server: the database server.
        app: the app process.
        application_name: the name the app's PostgreSQL connections carry.
        mark: marks the fault's moment in the load (requests in flight then are
            counted as `in_flight`, and must be answered).
    """

    server: Server
    app: App
    application_name: str
    mark: Callable[[], None]


@dataclass(frozen=True)
class Fault:
    """One fault of the suite.

    Attributes:
        key: a short identifier (test ids, team names).
        label: the table's `fault` cell.
        inject: does the fault; returns once the fault is over.
        shows: `Row` counts of which at least one must be non-zero afterwards.
        env: app settings for this fault (`POOL_SIZE`, `STATEMENT_TIMEOUT`, ...).
        clients: how many client threads send requests.
        backends: the servers it applies to (`PostgreSQL`, `MariaDB`).
        pooled: the app reaches the server through PgBouncer (`DATABASE_POOLER=pgbouncer`).
    """

    key: str
    label: str
    inject: Callable[[FaultContext], None]
    shows: tuple[str, ...] = ("unavailable", "timeout", "error", "no_answer")
    env: Mapping[str, str] = field(default_factory=dict)
    clients: int = 6
    backends: frozenset[str] = frozenset({"PostgreSQL", "MariaDB"})
    pooled: bool = False


def _restart(ctx: FaultContext) -> None:
    ctx.server.restart()


def _crash(ctx: FaultContext) -> None:
    ctx.server.crash()


def _kill_connections(ctx: FaultContext) -> None:
    # Under load the app's connections are mostly inside a transaction when they die.
    for _ in range(5):
        ctx.server.kill_connections(ctx.application_name)
        time.sleep(0.3)


def _restart_pooler(ctx: FaultContext) -> None:
    restart = getattr(ctx.server, "restart_pooler", None)
    assert restart is not None, f"{ctx.server.name} has no pooler"
    restart()


def _lock_past_timeout(ctx: FaultContext) -> None:
    ctx.server.lock_table("team", 3.0)


def _exhaust_pool(ctx: FaultContext) -> None:
    ctx.server.lock_table("team", 2.0)


def _sigterm_app(ctx: FaultContext) -> None:
    # Requests pile up behind a lock first, so that some are surely in flight at the SIGTERM.
    failed: list[BaseException] = []

    def lock() -> None:
        try:
            ctx.server.lock_table("team", 1.5)
        except BaseException as exc:  # raised again in the fault's own thread
            failed.append(exc)

    locker = threading.Thread(target=lock)
    locker.start()
    time.sleep(0.5)
    ctx.mark()
    ctx.app.terminate()  # a deploy: the app finishes what it has, then exits
    locker.join()
    if failed:
        raise failed[0]
    ctx.app.start()  # what the process manager does next


FAULTS = [
    Fault("restart", "server restarted (fast shutdown, then start)", _restart),
    Fault("crash", "server killed with SIGKILL, then started", _crash),
    Fault(
        "pgbouncer",
        "PgBouncer (transaction mode) in between, stopped at once, then started",
        _restart_pooler,
        backends=frozenset({"PostgreSQL"}),
        pooled=True,
    ),
    Fault(
        "kill",
        "app's connections terminated mid-transaction (5 x, 0.3 s apart)",
        _kill_connections,
    ),
    Fault(
        "lock",
        "table locked 3 s, STATEMENT_TIMEOUT=1",
        _lock_past_timeout,
        shows=("timeout",),
        env={"STATEMENT_TIMEOUT": "1"},
    ),
    Fault(
        "pool",
        "pool exhausted: pool of 2, 8 clients, table locked 2 s",
        _exhaust_pool,
        shows=("unavailable",),
        env={
            "POOL_SIZE": "2",
            "MAX_OVERFLOW": "0",
            "POOL_TIMEOUT": "0.5",
            "STATEMENT_TIMEOUT": "10",
        },
        clients=8,
    ),
    Fault(
        "sigterm",
        "app stopped with SIGTERM under load (requests in flight), then started",
        _sigterm_app,
        shows=("in_flight",),
    ),
]
"""Every fault, in the order of the table."""
