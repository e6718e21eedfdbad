"""The report's telemetry section: the req/s telemetry costs the async router, against its goals."""

from __future__ import annotations

from bench._report import _telemetry_overhead, summarize


def _run(rps: float) -> dict[str, object]:
    return {"rps": rps, "p50_us": 1000, "p99_us": 2000, "errors": {}}


def test_the_overhead_is_a_share_of_the_router_with_telemetry_off() -> None:
    runs = {
        "router_async": {"get_one": [_run(2000), _run(2000)]},
        "router_metrics": {"get_one": [_run(1920), _run(1920)]},
        "router_traced": {"get_one": [_run(1700), _run(1700)]},
    }
    section = _telemetry_overhead(summarize(runs))  # type: ignore[arg-type]
    assert section[0] == "## Telemetry overhead (router, async)"
    (row,) = [line for line in section if line.startswith("| get one")]
    assert "1,920 (+4.0% cost, within 5%)" in row
    assert "1,700 (+15.0% cost, over 10%)" in row


def test_no_section_without_telemetry_contestants() -> None:
    runs = {"router_async": {"get_one": [_run(1)]}}
    assert _telemetry_overhead(summarize(runs)) == []  # type: ignore[arg-type]
