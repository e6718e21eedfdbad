"""The scale-out components on this machine: PgBouncer (6432) and a streaming replica (5433).

`scripts/topology.sh` starts them (`.ci/run` does before the tests); a test that
needs one starts it when it does not answer. In CI a component that cannot be
started fails the test; locally it skips it.
"""

from __future__ import annotations

import fcntl
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from sqlmodel_production.db import Backend, sync_url
from tests.conftest import REQUIRE_ALL, SERVER_URLS

PORTS = {"pgbouncer": 6432, "replica": 5433}
_SCRIPT = Path(__file__).parent.parent / "scripts" / "topology.sh"


def _answers(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


_REPLICA_LOCK = Path("/tmp/sqlmodel-production-tests-replica.lock")
_held: list[IO[str]] = []


def require(component: str) -> None:
    """Start `component` if it does not answer; fail (CI) or skip (locally) if it cannot be.

    The replica is shared by every worker, and some tests pause its replay: a
    test that requires it has it to itself until the test ends (a lock across
    processes, released by `release_replica`).
    """
    if component == "replica" and not _held:
        handle = _REPLICA_LOCK.open("w")
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held.append(handle)
    if _answers(PORTS[component]):
        return
    result = subprocess.run(
        ["bash", str(_SCRIPT), component], capture_output=True, text=True, timeout=300
    )
    if result.returncode == 0 and _answers(PORTS[component]):
        return
    message = f"{component} is not available: {(result.stderr or result.stdout).strip()[-500:]}"
    if REQUIRE_ALL:
        pytest.fail(message + "; CI requires it", pytrace=False)
    pytest.skip(message)


def release_replica() -> None:
    """Let the other workers' tests have the replica again (after a test that required it)."""
    while _held:
        _held.pop().close()


def at_port(url: str, port: int) -> str:
    """`url` on the same server through another port (PgBouncer, the replica)."""
    return make_url(url).set(port=port).render_as_string(hide_password=False)


@contextmanager
def scratch_database(**settings: str) -> Iterator[str]:
    """A PostgreSQL database of its own (its defaults are changed), dropped on exit."""
    name = f"smp_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(
        sync_url(SERVER_URLS[Backend.POSTGRESQL]), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
            for key, value in settings.items():
                conn.exec_driver_sql(f"ALTER DATABASE {name} SET {key} = '{value}'")
        yield (
            make_url(SERVER_URLS[Backend.POSTGRESQL])
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
