"""`sqlmodel-production demo` serves the reference service for real (a subprocess, real HTTP)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest


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
