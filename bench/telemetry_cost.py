"""What telemetry costs per request, counted in CPU instructions: `python -m bench.telemetry_cost`.

Each contestant (`router_async`, `router_metrics`, `router_traced` of `bench._apps`)
is built in this process and sent the same seeded requests of each scenario
through its ASGI interface, against a real PostgreSQL database (no HTTP server,
no client: only the app's own work and the driver's is counted). With
`--callgrind` every contestant and scenario runs under
`valgrind --tool=callgrind` with counting off until the warm-up is done; it is
turned on for the measured requests only (`callgrind_control -i`), so the count
divided by `--requests` is what one request costs, start-up, import and warm-up
excluded. Instruction counts hardly move when the
machine is busy, so telemetry's cost can be told apart from noise on a shared
machine where requests per second cannot. Without `--callgrind` it reports CPU
seconds per request instead (quicker, noisier).

Tracing at 10 % (`router_traced`) is counted as the mean a request costs at that
rate: the same app sampling every request and sampling none, weighed 1 to 9
(`--real-sampling` measures the 10 % app itself, whose share of sampled
requests in one run is a random draw).

    python -m bench.telemetry_cost --callgrind --requests 300
    python -m bench.telemetry_cost --profile router_metrics get_one   # cProfile, top functions
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

from bench._data import fresh_database
from bench._scenarios import requests_for

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/smp_bench_telemetry"
CONTESTANTS = ("router_async", "router_metrics", "router_traced")
SCENARIOS = ("get_one", "list_offset", "create", "patch")
HEROES = 20_000
SEED = 21
RATIO = 0.1
"""`router_traced`'s sampling ratio."""
"""Seeds the requests of each scenario and, after the warm-up, `random` (the trace ids)."""
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _requests(scenario: str, count: int) -> list[tuple[str, str, bytes]]:
    """`count` seeded requests of `scenario`: the same ones for every contestant."""
    lines = requests_for(scenario, HEROES, random.Random(SEED), count=count)
    out = []
    for line in lines:
        method, path, body = line.split("\t")
        out.append((method, path, body.encode()))
    return out


async def _lifespan(app: Any) -> tuple[dict[str, Any], Callable[[], Any]]:
    """Start `app` through the ASGI lifespan protocol; returns its state and the coroutine function that stops it."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    state: dict[str, Any] = {}
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started

    async def stop() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task

    return state, stop


async def _send(
    app: Any, state: dict[str, Any], method: str, target: str, body: bytes
) -> int:
    """One request through `app`, as uvicorn would hand it over; returns the status."""
    path, _, query = target.partition("?")
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")]
    if body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": headers,
        "state": dict(state),  # as servers do: a shallow copy of the lifespan's
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _drive(
    contestant: str, scenario: str, count: int, warmup: int
) -> tuple[float, list[int], int | None]:
    """Warm up, then send `count` requests.

    Returns the CPU seconds spent on them, the statuses, and how many of them
    the sampler took (None without tracing). Trace ids come from `random`,
    seeded once the warm-up is done, so that every run samples the same requests.
    """
    apps = import_module("bench._apps")
    app = getattr(apps, contestant)()
    state, stop = await _lifespan(app)
    try:
        for method, path, body in _requests(scenario, warmup):
            await _send(app, state, method, path, body)
        apps.traced_requests(app)
        statuses = []
        random.seed(SEED)
        counting = os.environ.get("BENCH_CALLGRIND") == "1"
        if counting:
            _instrumentation("on")
        started = time.process_time()
        for method, path, body in _requests(scenario, count):
            statuses.append(await _send(app, state, method, path, body))
        seconds = time.process_time() - started
        if counting:
            _instrumentation("off")
        return seconds, statuses, apps.traced_requests(app)
    finally:
        await stop()


def _instrumentation(state: str) -> None:
    """Turn callgrind's counting on or off for this process (`callgrind_control -i`)."""
    subprocess.run(
        ["callgrind_control", "-i", state, str(os.getpid())],
        check=True,
        capture_output=True,
    )


def _run_one(contestant: str, scenario: str, count: int, warmup: int) -> None:
    """The child's work: drive one contestant and scenario, print one JSON line."""
    seconds, statuses, sampled = asyncio.run(
        _drive(contestant, scenario, count, warmup)
    )
    bad = [s for s in statuses if s >= 400]
    print(
        json.dumps(
            {
                "cpu_s": seconds,
                "requests": count,
                "errors": len(bad),
                "sampled": sampled,
            }
        )
    )


def _child(
    contestant: str,
    scenario: str,
    count: int,
    warmup: int,
    url: str,
    valgrind: bool,
) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "bench.telemetry_cost", "--one", contestant, scenario,
        "--requests", str(count), "--warmup", str(warmup),
    ]  # fmt: skip
    if valgrind:
        tool = shutil.which("valgrind")
        if tool is None:
            raise SystemExit("valgrind is not installed (apt-get install valgrind)")
        command = [
            tool, "--tool=callgrind", "--instr-atstart=no",
            "--callgrind-out-file=/dev/null", *command,
        ]  # fmt: skip
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ENVIRONMENT": "production",
        "PYTHONHASHSEED": "0",
        "PYTHONPATH": str(ROOT),
        "BENCH_CALLGRIND": "1" if valgrind else "0",
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["errors"]:
        raise SystemExit(f"{contestant} {scenario}: {result['errors']} error answers")
    if valgrind:
        found = _COLLECTED.search(done.stderr)
        if found is None:
            raise SystemExit(f"no instruction count from callgrind:\n{done.stderr}")
        result["instructions"] = int(found.group(1))
    return result


def _measure(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Per scenario and contestant: instructions (or CPU microseconds) per request.

    `router_traced` is, unless `--real-sampling`, the mean cost of a request at
    10 % sampling, counted exactly: the app sampling every request and the app
    sampling none are measured, and weighed 1 to 9. (Measured itself, a run of
    200 requests samples anywhere from about 12 to 28 of them.)
    """
    table: dict[str, dict[str, float]] = {}
    for scenario in args.scenarios:
        for contestant in args.contestants:
            if contestant == "router_traced" and not args.real_sampling:
                sampled = _per_request(args, "router_traced_sampled", scenario)
                dropped = _per_request(args, "router_traced_dropped", scenario)
                value = RATIO * sampled + (1 - RATIO) * dropped
            else:
                value = _per_request(args, contestant, scenario)
            table.setdefault(scenario, {})[contestant] = value
            print(f"{scenario:12} {contestant:22} {value:12,.0f}", flush=True)
    return table


def _per_request(args: argparse.Namespace, contestant: str, scenario: str) -> float:
    run = _child(
        contestant,
        scenario,
        args.requests,
        args.warmup,
        args.database_url,
        args.callgrind,
    )
    if args.callgrind:
        value: float = run["instructions"] / args.requests
    else:
        value = run["cpu_s"] / args.requests * 1e6
    sampled = run.get("sampled")
    note = "" if sampled is None else f"  ({sampled} of {args.requests} sampled)"
    print(f"{scenario:12} {contestant:22} {value:12,.0f}{note}", flush=True)
    return value


def _report(table: dict[str, dict[str, float]], unit: str) -> str:
    base = CONTESTANTS[0]
    others = [c for c in CONTESTANTS[1:] if any(c in row for row in table.values())]
    lines = [
        f"| scenario | {base}, {unit} per request | "
        + " | ".join(f"{c}, {unit} (ratio)" for c in others)
        + " |",
        "|---|---:|" + "---:|" * len(others),
    ]
    for scenario, row in table.items():
        cells = [
            f"{row[c]:,.0f} ({row[c] / row[base]:.3f})"
            if c in row and base in row
            else "-"
            for c in others
        ]
        lines.append(
            f"| {scenario} | {row.get(base, 0):,.0f} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def _profile(contestant: str, scenario: str, count: int, warmup: int) -> None:
    """cProfile one contestant on one scenario; print the functions that cost most, by own time."""
    profiler = cProfile.Profile(
        time.process_time
    )  # CPU time: waits on the database are not its cost

    async def run() -> None:
        app = getattr(import_module("bench._apps"), contestant)()
        state, stop = await _lifespan(app)
        try:
            for method, path, body in _requests(scenario, warmup):
                await _send(app, state, method, path, body)
            profiler.enable()
            for method, path, body in _requests(scenario, count):
                await _send(app, state, method, path, body)
            profiler.disable()
        finally:
            await stop()

    asyncio.run(run())
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(40)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.telemetry_cost", description=__doc__
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_TELEMETRY_DATABASE_URL", DEFAULT_URL),
        help="a PostgreSQL database of its own (created and loaded unless --no-load)",
    )
    parser.add_argument(
        "--contestants", nargs="+", choices=CONTESTANTS, default=list(CONTESTANTS)
    )
    parser.add_argument(
        "--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS)
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--callgrind", action="store_true", help="count instructions")
    parser.add_argument(
        "--real-sampling",
        action="store_true",
        help="measure router_traced itself (seeded trace ids) instead of weighing "
        "router_traced_sampled and router_traced_dropped 1 to 9",
    )
    parser.add_argument(
        "--no-load", action="store_true", help="reuse the loaded tables"
    )
    parser.add_argument("--profile", nargs=2, metavar=("CONTESTANT", "SCENARIO"))
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.one:
        _run_one(args.one[0], args.one[1], args.requests, args.warmup)
        return 0
    if args.profile:
        os.environ.setdefault("DATABASE_URL", args.database_url)
        os.environ.setdefault("ENVIRONMENT", "production")
        _profile(args.profile[0], args.profile[1], args.requests, args.warmup)
        return 0
    if not args.no_load:
        fresh_database(args.database_url, HEROES)
    table = _measure(args)
    print()
    print(_report(table, "instructions" if args.callgrind else "CPU µs"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
