"""The load: client threads creating teams with unique names on loopback, bounded in count and time."""

from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

from ._table import Outcome

__all__ = ["Load", "wait_for_2xx"]

REQUEST_TIMEOUT = 30.0  # seconds a client waits for an answer before counting none
BACKOFF = (
    0.05  # seconds a client waits after getting no answer, so a dead app is not spun on
)


def _create_team(
    connection: http.client.HTTPConnection, name: str
) -> tuple[int, bool, bool]:
    """POST one team; the status, whether `Retry-After` came with it, and whether the
    body said the outcome is unknown."""
    body = json.dumps({"name": name, "headquarters": "Loopback"})
    connection.request(
        "POST", "/teams/", body=body, headers={"Content-Type": "application/json"}
    )
    response = connection.getresponse()
    answer = response.read()
    unknown = response.status == 503 and b'"outcome":"unknown"' in answer.replace(
        b" ", b""
    )
    return response.status, response.getheader("Retry-After") is not None, unknown


class Load:
    """`clients` threads, each creating teams one after the other until `stop()`.

    Args:
        base_url: the app, `http://127.0.0.1:PORT`.
        prefix: the start of every name sent (unique to the run).
        clients: how many threads send requests at once.
        max_requests: a bound on the requests of each thread.
    """

    def __init__(
        self, base_url: str, prefix: str, *, clients: int, max_requests: int = 20_000
    ) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = prefix
        self.max_requests = max_requests
        self._stop = threading.Event()
        self._marks = 0
        self._outcomes: list[list[Outcome]] = [[] for _ in range(clients)]
        self._threads = [
            threading.Thread(target=self._client, args=(i,), daemon=True)
            for i in range(clients)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def mark(self) -> None:
        """Mark this moment: requests in flight now are counted as `in_flight`."""
        self._marks += 1

    def stop(self) -> list[Outcome]:
        """Stop sending, wait for the answers still due, and return every outcome."""
        self._stop.set()
        for thread in self._threads:
            thread.join(REQUEST_TIMEOUT + 5)
        return [outcome for outcomes in self._outcomes for outcome in outcomes]

    def _client(self, index: int) -> None:
        outcomes = self._outcomes[index]
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=REQUEST_TIMEOUT
        )
        try:
            for number in range(self.max_requests):
                if self._stop.is_set():
                    break
                name = f"{self.prefix}-{index}-{number}"
                marks = self._marks
                try:
                    status, retry_after, unknown = _create_team(connection, name)
                except (OSError, http.client.HTTPException):
                    outcomes.append(Outcome(name, None, spans_mark=self._marks > marks))
                    connection.close()
                    time.sleep(BACKOFF)
                else:
                    spans = self._marks > marks
                    outcomes.append(Outcome(name, status, retry_after, spans, unknown))
        finally:
            connection.close()


def wait_for_2xx(base_url: str, prefix: str, *, bound: float = 60.0) -> bool:
    """Create teams until one is answered 2xx, for at most `bound` seconds; whether one was."""
    parts = urlsplit(base_url)
    deadline = time.monotonic() + bound
    number = 0
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=REQUEST_TIMEOUT
        )
        try:
            status = _create_team(connection, f"{prefix}-{number}")[0]
            if 200 <= status < 300:
                return True
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        number += 1
        time.sleep(0.1)
    return False
