"""The reference service as a uvicorn process in production settings, on a port of its own."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from ._servers import free_port
from ._service import FACTORIES
from ._table import exception_names

__all__ = ["App"]

ROOT = Path(__file__).resolve().parent.parent
START_BOUND = 60.0  # seconds the app may take to answer after start
STOP_BOUND = 60.0  # seconds a SIGTERMed app may take to finish its requests


class App:
    """`uvicorn --factory` serving one router of the reference service.

    Args:
        router: `async` or `sync`.
        database_url: where the data lives.
        log: the file the app's output goes to (appended across restarts).
        env: more settings (`POOL_SIZE`, `STATEMENT_TIMEOUT`, ...).
    """

    def __init__(
        self,
        router: str,
        database_url: str,
        *,
        log: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.router = router
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "ENVIRONMENT": "production",
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the app and return once it answers."""
        command = [
            sys.executable, "-m", "uvicorn", FACTORIES[self.router], "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
            "--no-access-log", "--log-level", "warning",
            "--timeout-graceful-shutdown", self.env.get("SHUTDOWN_TIMEOUT", "10"),
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_BOUND
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the {self.router} app exited with {self.process.returncode}; see {self.log}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the {self.router} app did not answer within {START_BOUND:g} s"
                )
            time.sleep(0.05)

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/teams/?limit=1")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def terminate(self) -> int:
        """SIGTERM the app (a deploy, a scale-down) and wait for it to exit; its exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(STOP_BOUND)
        self.process = None
        return code

    def stop(self) -> None:
        """Stop the app however it can be stopped."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_BOUND)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def exceptions(self) -> Counter[str]:
        """The exception names in the app's log, with how often each appeared."""
        if not self.log.exists():
            return Counter()
        return exception_names(self.log.read_text(errors="replace"))
