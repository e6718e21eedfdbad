"""Serve one contestant in its own uvicorn process (one worker), and drive it with wrk."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

__all__ = ["WrkMissing", "has_wrk", "serve", "wrk", "wrk_path"]

LUA = Path(__file__).parent / "lua" / "requests.lua"


class WrkMissing(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "wrk is not installed: the HTTP benchmarks need it. On Debian/Ubuntu: "
            "`sudo apt-get install wrk`; on macOS: `brew install wrk`. "
            "Run `python -m bench --no-http` for the bulk and pagination parts alone."
        )


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing()
    return path


def has_wrk() -> bool:
    """Whether wrk is installed; if not, says on stderr how to install it."""
    try:
        wrk_path()
    except WrkMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    factory: str,
    database_url: str,
    *,
    root: Path,
    probe: str = "/heroes/1",
    workers: int = 1,
    settings: Mapping[str, str] | None = None,
    server: str = "uvicorn",
) -> Iterator[str]:
    """Run `uvicorn --factory FACTORY` (or granian) from `root`; yields its base URL once it answers `probe`.

    `settings` are more environment variables of the app (`DATABASE_POOLER` ...).
    """
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "production",
        "PYTHONPATH": str(root),
        "PYTHONDONTWRITEBYTECODE": "1",
        **(settings or {}),
    }
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    if server == "granian":
        command = [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--no-access-log", "--log-level", "warning", factory,
        ]  # fmt: skip
    process = subprocess.Popen(command, cwd=root, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{factory} exited with {process.returncode}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", probe)
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{factory} did not answer {probe} within 30 s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wrk(
    url: str, requests: Path, *, seconds: float, connections: int, threads: int = 1
) -> dict:
    """Run wrk for `seconds` replaying `requests`; its numbers (see lua/requests.lua)."""
    command = [
        wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        "--latency", "-s", str(LUA), url, "--", str(requests),
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("{"))
    result: dict = json.loads(line)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result
