"""`sqlmodel-production demo` serves the reference service for real (a subprocess, real HTTP)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
import sqlalchemy as sa

from sqlmodel_production.db import Backend, sync_url


@pytest.mark.sqlite
@pytest.mark.parametrize("flavor", [[], ["--sync"]], ids=["async", "sync"])
def test_demo_serves_sample_data(
    tmp_path: Path, free_tcp_port: int, flavor: list[str]
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/demo.db",
    }
    command = [
        sys.executable,
        "-m",
        "sqlmodel_production",
        "demo",
        "--sample-data",
        "--port",
        str(free_tcp_port),
        *flavor,
    ]
    server = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        heroes = None
        for _ in range(100):  # at most ~20 s for the server to answer
            try:
                heroes = httpx.get(
                    f"http://127.0.0.1:{free_tcp_port}/heroes/", timeout=1
                ).json()
                break
            except httpx.TransportError:
                assert server.poll() is None, (
                    server.stdout.read() if server.stdout else ""
                )
                time.sleep(0.2)
        assert heroes is not None
        assert {hero["name"] for hero in heroes} == {
            "Deadpond",
            "Rusty-Man",
            "Spider-Boy",
        }
        assert all("secret_name" not in hero for hero in heroes)
        mission = httpx.get(
            f"http://127.0.0.1:{free_tcp_port}/missions/1", timeout=5
        ).json()
        assert [(h["name"], h["role"]) for h in mission["heroes"]] == [
            ("Deadpond", "leader"),
            ("Spider-Boy", "member"),
        ]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert "Added sample data." in output
    assert f"docs at http://127.0.0.1:{free_tcp_port}/docs" in output
    assert (tmp_path / "demo.db").exists()


# Seconds: the test's bound, well under an orchestrator's grace period.
SHUTDOWN_TIMEOUT = 2
ROUNDS = 3
SLOW_UPLOAD = (
    b"POST /teams/ HTTP/1.1\r\nHost: demo\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n{"
)


@pytest.fixture
def busy_machine() -> Iterator[None]:
    """Two processes that keep both cores busy while the test runs, as a full test run does."""
    spin = (
        "import time\nend = time.monotonic() + 300\nwhile time.monotonic() < end: pass"
    )
    hogs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


@pytest.mark.only(Backend.POSTGRESQL)
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.usefixtures("busy_machine")
def test_sigterm_under_load_stops_within_the_bound_and_loses_nothing(
    backend: Backend, database_url: str, tmp_path: Path, workers: int
) -> None:
    """SIGTERM while six clients create teams over keep-alive connections, on a busy machine.

    The server exits by itself within `SHUTDOWN_TIMEOUT` (plus the pools' disposal),
    never needing a SIGKILL; every create answered 200 is in the database, and
    a request cut at the bound is a 503 whose outcome is unknown (or a closed
    connection), never a 500. Three rounds each, one worker and two.
    """
    acknowledged: list[str] = []
    for round_ in range(ROUNDS):
        acknowledged += _round(database_url, tmp_path, workers, f"w{workers}r{round_}")
    engine = sa.create_engine(sync_url(database_url))
    with engine.connect() as conn:
        stored = set(conn.exec_driver_sql("SELECT name FROM team").scalars())
    engine.dispose()
    assert set(acknowledged) <= stored


def _round(database_url: str, tmp_path: Path, workers: int, tag: str) -> list[str]:
    """One server started, loaded and stopped; the names of the creates it acknowledged."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "production",
        "SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT),
    }
    command = [sys.executable, "-m", "sqlmodel_production", "demo"]
    server = subprocess.Popen(
        [*command, "--workers", str(workers), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    acknowledged: list[str] = []
    answers: list[httpx.Response] = []
    stop = threading.Event()

    def create(client_number: int) -> None:
        with httpx.Client(timeout=30) as client:
            for n in range(100_000):
                if stop.is_set():
                    return
                name = f"{tag}-c{client_number}-{n}"
                try:
                    response = client.post(
                        f"{base}/teams/", json={"name": name, "headquarters": "x"}
                    )
                except httpx.TransportError:
                    return  # closed at the bound, or no longer accepting
                answers.append(response)
                if response.status_code == 200:
                    acknowledged.append(name)

    threads = [threading.Thread(target=create, args=(c,)) for c in range(6)]
    slow = socket.socket()
    try:
        _wait_until_serving(server, base)
        for thread in threads:
            thread.start()
        while len(acknowledged) < 60 and server.poll() is None:
            time.sleep(0.05)
        # A slow upload: its request waits for the rest of its body past SIGTERM, so
        # only the bound ends it.
        slow.connect(("127.0.0.1", port))
        slow.sendall(SLOW_UPLOAD)
        time.sleep(0.5)  # read by a worker before the signal
        server.send_signal(signal.SIGTERM)
        # The bound, the pools' disposal and a slow start of Python on a busy machine.
        # One worker exits by the signal it handled (uvicorn raises it again), two by 0.
        assert server.wait(timeout=SHUTDOWN_TIMEOUT + 20) in (0, -signal.SIGTERM)
        slow.settimeout(10)
        answer = slow.recv(65536)
    finally:
        slow.close()
        stop.set()
        if server.poll() is None:
            server.kill()
        output = server.communicate(timeout=10)[0]
        for thread in threads:
            thread.join(timeout=60)
    assert answer.startswith(b"HTTP/1.1 503"), (answer, output)
    assert b'"outcome":"unknown"' in answer
    assert len(acknowledged) >= 60, output
    assert {r.status_code for r in answers} <= {200, 503}, output
    for response in answers:
        if response.status_code == 503:
            assert response.json()["outcome"] == "unknown"
    return acknowledged


def _wait_until_serving(server: subprocess.Popen[str], base: str) -> None:
    for _ in range(300):  # at most ~60 s on a busy machine
        try:
            if httpx.get(f"{base}/teams/", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            time.sleep(0.2)
    raise AssertionError("the demo did not answer within 60 s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
