"""`sqlmodel-production demo` serves the reference service for real (a subprocess, real HTTP)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
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


@pytest.mark.only(Backend.POSTGRESQL)
def test_demo_workers_share_the_load_and_stop_gracefully(
    backend: Backend, database_url: str, tmp_path: Path, free_tcp_port: int
) -> None:
    """Two worker processes; SIGTERM under load: every acknowledged create is in the database."""
    env = {**os.environ, "DATABASE_URL": database_url, "ENVIRONMENT": "production"}
    command = [sys.executable, "-m", "sqlmodel_production", "demo", "--workers", "2"]
    server = subprocess.Popen(
        [*command, "--port", str(free_tcp_port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{free_tcp_port}"
    acknowledged: list[str] = []
    statuses: list[int] = []
    try:
        for _ in range(150):  # at most ~30 s for both workers to answer
            try:
                if httpx.get(f"{base}/teams/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert server.poll() is None, (
                    server.stdout.read() if server.stdout else ""
                )
                time.sleep(0.2)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text()
        assert len(children.split()) >= 2  # the workers (and uvicorn's own helper)

        stop = threading.Event()

        def create(worker: int) -> None:
            with httpx.Client(timeout=10) as client:
                for n in range(10_000):
                    if stop.is_set():
                        return
                    name = f"w{worker}-{n}"
                    try:
                        response = client.post(
                            f"{base}/teams/", json={"name": name, "headquarters": "x"}
                        )
                    except httpx.TransportError:
                        return  # the server stopped accepting: nothing acknowledged
                    statuses.append(response.status_code)
                    if response.status_code == 200:
                        acknowledged.append(name)

        threads = [threading.Thread(target=create, args=(w,)) for w in range(6)]
        for thread in threads:
            thread.start()
        while len(acknowledged) < 60 and server.poll() is None:
            time.sleep(0.05)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
        server.communicate(timeout=10)
    assert len(acknowledged) >= 60
    assert set(statuses) == {200}, sorted(set(statuses))
    engine = sa.create_engine(sync_url(database_url))
    with engine.connect() as conn:
        stored = set(conn.exec_driver_sql("SELECT name FROM team").scalars())
    engine.dispose()
    assert set(acknowledged) <= stored
