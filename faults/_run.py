"""Run one fault: the app under load, the fault, the recovery, the count."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from ._app import App
from ._faults import Fault, FaultContext
from ._load import Load, wait_for_2xx
from ._servers import Server
from ._table import Row, tally

__all__ = ["run_fault"]

WARMUP = 1.0  # seconds of load before the fault
TAIL = 1.5  # seconds of load after it


def run_fault(fault: Fault, server: Server, router: str, *, logs: Path) -> Row:
    """Serve `router` on `server`, load it, do `fault`, and count what the clients saw.

    Afterwards the service must answer 2xx again (polled for up to a minute), and
    every name it acknowledged is looked up in the database.
    """
    run = uuid.uuid4().hex[:8]
    prefix = f"{fault.key}-{router}-{run}"
    application_name = f"smp-faults-{run}"
    env = {"APPLICATION_NAME": application_name, **fault.env}
    url = server.url
    if fault.pooled:
        url = server.pooled_url  # type: ignore[attr-defined]
        env["DATABASE_POOLER"] = "pgbouncer"
    app = App(router, url, log=logs / f"{server.name}-{prefix}.log", env=env)
    app.start()
    try:
        load = Load(app.base_url, prefix, clients=fault.clients)
        load.start()
        try:
            time.sleep(WARMUP)
            fault.inject(FaultContext(server, app, application_name, load.mark))
            time.sleep(TAIL)
        finally:
            outcomes = load.stop()
        recovered = wait_for_2xx(app.base_url, f"probe-{prefix}")
    finally:
        app.stop()
    return tally(
        outcomes,
        server.names(prefix + "-"),
        database=server.name,
        router=router,
        fault=fault.label,
        recovered=recovered,
        causes=app.exceptions(),
    )
