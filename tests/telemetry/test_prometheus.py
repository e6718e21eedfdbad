"""A real Prometheus scrapes the reference service under load; every dashboard query returns data.

The service runs as it does in production (`sqlmodel-production demo`, a process of its
own, async endpoints) on PostgreSQL with a streaming replica; Prometheus (Debian's
`prometheus` package: `apt-get install prometheus`) runs from here on a free port with
a configuration and storage of its own, scraping every second. The load covers every
panel of `docs/telemetry/grafana-dashboard.json`: reads on the replica and the primary,
writes, 404s and 409s, a deadlock the router retries and a statement slowed by a lock.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import sqlalchemy as sa
import yaml

from sqlmodel_production.db import Backend, sync_url
from tests._topology import at_port, require, scratch_database
from tests.conftest import REQUIRE_ALL
from tests.telemetry._promtool import check_with_promtool

pytestmark = pytest.mark.only(Backend.POSTGRESQL)

DASHBOARD = Path(__file__).parents[2] / "docs" / "telemetry" / "grafana-dashboard.json"
SAMPLE_CONFIG = Path(__file__).parents[2] / "docs_src" / "telemetry" / "prometheus.yml"
RATE_INTERVAL = "1m"
"""What Grafana's `$__rate_interval` becomes in the queries run here."""


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query of every panel of the dashboard."""
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"].replace("$__rate_interval", RATE_INTERVAL))
        for panel in dashboard["panels"]
        for target in panel["targets"]
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            pytest.fail(f"{url} exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} never answered: {log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        message = "prometheus is not installed (apt-get install -y prometheus)"
        if REQUIRE_ALL:
            pytest.fail(message + "; CI requires it", pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture
def service(backend: Backend, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of the reference service on a scratch database with a replica."""
    require("replica")
    with scratch_database(deadlock_timeout="200ms") as url:
        port = _free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("OTEL_")
        }
        env.update(
            DATABASE_URL=url,
            DATABASE_REPLICA_URLS=at_port(url, 5433),
            REPLICA_CHECK_INTERVAL="0.5",
            ENVIRONMENT="production",
            POOL_SIZE="4",
            OTEL_SERVICE_NAME="heroes-under-test",
        )
        log = tmp_path / "service.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sqlmodel_production",
                    "demo",
                    "--port",
                    str(port),
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_for(f"http://127.0.0.1:{port}/heroes/", process, log)
            yield f"http://127.0.0.1:{port}", url
        finally:
            _stop(process)


@pytest.fixture
def prometheus(
    prometheus_binary: str, service: tuple[str, str], tmp_path: Path
) -> Iterator[str]:
    """The base URL of a Prometheus scraping `service` every second."""
    target = service[0].removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    # The configuration docs/telemetry.md shows, scraping this service every second.
    sample = yaml.safe_load(SAMPLE_CONFIG.read_text())
    sample["global"]["scrape_interval"] = "1s"
    sample["scrape_configs"][0]["static_configs"] = [{"targets": [target]}]
    config.write_text(yaml.safe_dump(sample))
    port = _free_port()
    log = tmp_path / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                prometheus_binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}/-/ready", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


def _load(base: str, seconds: float) -> list[int]:
    """Reads, writes, 404s and 409s from 6 clients for `seconds`; the statuses seen."""

    def client_loop(worker: int) -> list[int]:
        statuses = []
        deadline = time.monotonic() + seconds
        n = 0
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < deadline:
                n += 1
                team = {"name": f"w{worker}-{n}", "headquarters": "HQ"}
                created = client.post("/teams/", json=team)
                statuses.append(created.status_code)
                statuses.append(client.post("/teams/", json=team).status_code)
                hero = client.post(
                    "/heroes/",
                    json={"name": f"h{worker}-{n}", "secret_name": "s"},
                ).json()
                statuses.append(client.get(f"/heroes/{hero['id']}").status_code)
                statuses.append(
                    client.get("/heroes/", params={"limit": 10}).status_code
                )
                statuses.append(
                    client.patch(f"/heroes/{hero['id']}", json={"age": n}).status_code
                )
                statuses.append(client.get("/heroes/999999999").status_code)
        return statuses

    with ThreadPoolExecutor(6) as pool:
        return [s for result in pool.map(client_loop, range(6)) for s in result]


def _deadlock_and_slow_statement(base: str, url: str) -> None:
    """A PATCH that deadlocks (and is retried), and one that waits 0.7 s for a lock (a slow statement)."""
    engine = sa.create_engine(sync_url(url))
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            team = client.post(
                "/teams/", json={"name": "Locked", "headquarters": "h"}
            ).json()
            hero = client.post(
                "/heroes/", json={"name": "A", "secret_name": "s"}
            ).json()
            with engine.connect() as other, ThreadPoolExecutor(1) as pool:
                other.exec_driver_sql("SET deadlock_timeout = '20s'")
                other.execute(
                    sa.text("SELECT id FROM team WHERE id = :id FOR UPDATE"),
                    {"id": team["id"]},
                )
                patched = pool.submit(
                    client.patch, f"/heroes/{hero['id']}", json={"team_id": team["id"]}
                )
                _wait_until_blocked(other)
                other.execute(
                    sa.text("UPDATE hero SET name = 'B' WHERE id = :id"),
                    {"id": hero["id"]},
                )
                other.commit()
                assert patched.result(timeout=30).status_code == 200
            with engine.connect() as other, ThreadPoolExecutor(1) as pool:
                other.execute(
                    sa.text("SELECT id FROM team WHERE id = :id FOR UPDATE"),
                    {"id": team["id"]},
                )
                renamed = pool.submit(
                    client.patch, f"/teams/{team['id']}", json={"headquarters": "moved"}
                )
                _wait_until_blocked(other)
                time.sleep(0.7)
                other.commit()
                assert renamed.result(timeout=30).status_code == 200
    finally:
        engine.dispose()


def _wait_until_blocked(other: sa.Connection) -> None:
    waiting = (
        "SELECT count(*) FROM pg_locks WHERE NOT granted "
        "AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
    )
    for _ in range(200):
        if other.exec_driver_sql(waiting).scalar_one() >= 1:
            return
        time.sleep(0.05)
    pytest.fail("the request never waited for the lock")


def _query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{prometheus}/api/v1/query", params={"query": promql}, timeout=10
    )
    body = answer.json()
    assert answer.status_code == 200 and body["status"] == "success", (promql, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def test_every_dashboard_query_returns_data_after_load(
    service: tuple[str, str], prometheus: str
) -> None:
    base, url = service
    statuses = _load(base, seconds=4)
    _deadlock_and_slow_statement(base, url)
    statuses += _load(base, seconds=3)
    assert set(statuses) == {200, 404, 409}, sorted(set(statuses))
    time.sleep(3)  # a few more scrapes, so that every rate() has two samples

    # The service's own /metrics passes promtool, as Prometheus scraped it.
    check_with_promtool(httpx.get(f"{base}/metrics", timeout=10).text)
    up = _query(prometheus, 'up{job="heroes"}')
    assert [sample["value"][1] for sample in up] == ["1"]

    empty = [
        (title, promql)
        for title, promql in dashboard_queries()
        if not _query(prometheus, promql)
    ]
    assert empty == [], "dashboard queries without data"

    routes = {
        sample["metric"].get("http_route")
        for sample in _query(prometheus, "http_server_request_duration_seconds_count")
    }
    assert {"/heroes/", "/heroes/{hero_id}", "/teams/", "/teams/{team_id}"} <= routes
    pools = {
        sample["metric"]["db_client_connection_pool_name"]
        for sample in _query(prometheus, "db_client_operation_duration_seconds_count")
    }
    assert {"primary-async", "replica-0-async"} <= pools, pools
    retries = _query(prometheus, "sqlmodel_production_transaction_retries_total")
    assert {s["metric"]["error_type"] for s in retries} == {"deadlock"}
    errors = _query(prometheus, "sqlmodel_production_db_errors_total")
    assert {s["metric"]["error_type"] for s in errors} >= {"unique_violation"}
    (usable,) = _query(prometheus, "sqlmodel_production_replica_usable")
    assert usable["value"][1] == "1"
    slow = _query(prometheus, "sqlmodel_production_db_slow_statements_total")
    assert {s["metric"]["db_operation_name"] for s in slow} >= {"UPDATE"}
