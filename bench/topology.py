"""`python -m bench.topology`: the router and the raw floor on the scale-out topology.

For get one, a page of 100 and create: the async router and the raw floor
(Starlette + asyncpg) side by side, each as 1 and 2 uvicorn workers, connected
directly to PostgreSQL, through PgBouncer in transaction mode, and (the router)
reading from the streaming replica. Needs PgBouncer on 6432 and the replica on
5433 (`scripts/topology.sh all`) and wrk. Ratios in one run matter, not absolute
numbers; nothing here is asserted by a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench._data import fresh_database
from bench._report import environment, progress, save
from bench._scenarios import write_requests
from bench._server import has_wrk, serve, wrk

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/smp_bench_topology"
SCENARIOS = ("get_one", "list_offset", "create", "patch")


@dataclass(frozen=True)
class Setup:
    """One way of reaching the database: a label, the app's URL and settings."""

    key: str
    label: str
    port: int
    settings: dict[str, str] = field(default_factory=dict)
    floor: bool = True  # whether the raw floor runs this way too


def setups(url: str) -> list[Setup]:
    replica = make_url(url).set(port=5433).render_as_string(hide_password=False)
    return [
        Setup("direct", "direct to the primary", 5432),
        Setup("pgbouncer", "through PgBouncer", 6432, {"DATABASE_POOLER": "pgbouncer"}),
        Setup(
            "replica",
            "reads on the replica",
            5432,
            {"DATABASE_REPLICA_URLS": replica, "REPLICA_MAX_LAG": "60"},
            floor=False,
        ),
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.topology", description=__doc__
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--heroes", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--setups",
        nargs="+",
        choices=("direct", "pgbouncer", "replica"),
        default=["direct", "pgbouncer", "replica"],
        help="which ways of reaching the database to run (default: all)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not has_wrk():
        return 2
    url = args.database_url
    fresh_database(url, args.heroes)
    time.sleep(2)  # the replica replays the load
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        files = write_requests(Path(folder), args.heroes)
        for setup in (s for s in setups(url) if s.key in args.setups):
            app_url = (
                make_url(url).set(port=setup.port).render_as_string(hide_password=False)
            )
            for workers in args.workers:
                contestants = [("router", "bench._apps:router_async")]
                if setup.floor:
                    contestants.insert(0, ("floor", "bench._floor:create_app"))
                for name, factory in contestants:
                    with serve(
                        factory,
                        app_url,
                        root=ROOT,
                        workers=workers,
                        settings=setup.settings,
                    ) as base:
                        for scenario in SCENARIOS:
                            wrk(
                                base,
                                files[scenario],
                                seconds=args.warmup,
                                connections=args.connections,
                            )
                            run = wrk(
                                base,
                                files[scenario],
                                seconds=args.seconds,
                                connections=args.connections,
                            )
                            rows.append(
                                {
                                    "setup": setup.key, "label": setup.label, "workers": workers,
                                    "contestant": name, "scenario": scenario, **run,
                                }
                            )  # fmt: skip
                            progress(
                                f"{setup.key:10} {workers} worker(s) {name:7} {scenario:12}",
                                run,
                            )
    result = {
        "environment": environment(url, ROOT),
        "elapsed_s": round(time.monotonic() - started, 1),
        "runs": rows,
    }
    name = dt.datetime.now().strftime("%Y-%m-%d-%H%M%S") + "-topology"
    save(result, markdown(result), args.out, name)
    return 0


def _cell(run: dict[str, Any]) -> str:
    return (
        f"{run['rps']:,.0f} ({run['p50_us'] / 1000:.1f} / {run['p99_us'] / 1000:.1f})"
    )


def markdown(result: dict[str, Any]) -> str:
    """The topology table: req/s (p50 / p99 ms) per setup, workers and scenario, router vs floor."""
    runs = result["runs"]
    found = {
        (r["setup"], r["workers"], r["contestant"], r["scenario"]): r for r in runs
    }
    lines = [
        "# Topology benchmark",
        "",
        f"{result['environment']['machine']['cores']} cores, loopback, commit {result['environment']['commit']}; "
        f"{result['elapsed_s']} s. Requests per second (p50 / p99 in ms); the router's share "
        "of the raw floor on the same topology in brackets.",
        "",
        "| topology | workers | scenario | raw floor | router, async |",
        "|---|---:|---|---:|---:|",
    ]
    for r in runs:
        if r["contestant"] != "router":
            continue
        key = (r["setup"], r["workers"])
        floor = found.get((*key, "floor", r["scenario"]))
        share = f" [{r['rps'] / floor['rps']:.2f}x]" if floor and floor["rps"] else ""
        lines.append(
            f"| {r['label']} | {r['workers']} | {r['scenario']} | "
            f"{_cell(floor) if floor else '-'} | {_cell(r)}{share} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
