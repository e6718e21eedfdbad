"""Deep pagination: one page of 100 by OFFSET vs by cursor at growing depth, one client, latency."""

from __future__ import annotations

import http.client
import statistics
import time
from urllib.parse import urlsplit

from bench._floor import encode_cursor

__all__ = ["DEPTHS", "run_pagination"]

DEPTHS = (1_000, 10_000, 100_000)
PAGE = 100


def _median_ms(base: str, path: str, repeat: int) -> float:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    times = []
    for _ in range(repeat + 2):
        start = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise AssertionError(f"GET {path}: {response.status}")
        times.append(time.perf_counter() - start)
    connection.close()
    return statistics.median(times[2:]) * 1000


def run_pagination(
    base: str, heroes: int, *, repeat: int
) -> dict[str, dict[str, float]]:
    """Median ms of the page starting at each depth (ids are 1..heroes, so id > depth is that page)."""
    out = {}
    for depth in DEPTHS:
        start = min(depth, heroes - PAGE)
        out[str(depth)] = {
            "start": start,
            "offset_ms": _median_ms(
                base, f"/heroes/?offset={start}&limit={PAGE}", repeat
            ),
            "cursor_ms": _median_ms(
                base, f"/heroes/?limit={PAGE}&cursor={encode_cursor(start)}", repeat
            ),
        }
    return out
