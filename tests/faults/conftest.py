"""The fault suite's servers, and the table it prints at the end.

The scenarios carry the `faults` marker and run only when asked for with
`-m faults` (`make faults`): they start servers of their own and take minutes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from faults._servers import MariaDBServer, PostgresServer, Server, ServerMissing
from faults._table import Row, render

SERVERS = {"postgresql": PostgresServer, "mariadb": MariaDBServer}
ROWS = pytest.StashKey[list[Row]]()
LOGS = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[ROWS] = []


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if "faults" in (config.getoption("markexpr") or ""):
        # A fault that does not apply to a server (PgBouncer on MariaDB) is not a test.
        inapplicable = [item for item in items if not _applies(item)]
        if inapplicable:
            config.hook.pytest_deselected(items=inapplicable)
            items[:] = [item for item in items if _applies(item)]
        return
    chosen = [item for item in items if item.get_closest_marker("faults") is None]
    if len(chosen) < len(items):
        config.hook.pytest_deselected(
            items=[item for item in items if item.get_closest_marker("faults")]
        )
        items[:] = chosen


def _applies(item: pytest.Item) -> bool:
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "server" not in params or "fault" not in params:
        return True
    return SERVERS[params["server"]].name in params["fault"].backends


@pytest.fixture(scope="session", params=list(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A throwaway server of each kind, removed at the end of the session."""
    try:
        made = SERVERS[request.param]()
    except ServerMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}; CI runs the fault suite", pytrace=False)
        pytest.skip(str(exc))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="session")
def app_logs(request: pytest.FixtureRequest) -> Path:
    """Where the apps write their output: kept after the run, named in the summary."""
    chosen = os.environ.get("SMP_FAULTS_LOGS")
    logs = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="smp-faults-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    request.config.stash[LOGS] = logs
    return logs


@pytest.fixture
def fault_rows(request: pytest.FixtureRequest) -> list[Row]:
    """The table's rows; each scenario adds its own before judging it."""
    return request.config.stash[ROWS]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    rows = config.stash.get(ROWS, [])
    if rows:
        terminalreporter.section("fault table")
        terminalreporter.write(render(rows))
        if LOGS in config.stash:
            terminalreporter.write(f"\nThe apps' logs: {config.stash[LOGS]}\n")
