"""`python -m bench.scoped`: what row scoping costs, the scoped router beside the unscoped one.

Both apps serve the reference service's heroes with the async router. The
scoped app's hero routes carry a `RowScope` on `team_id`, read from an
`X-Team` header by an `async def` dependency (a stand-in for a tenant taken
from the current user; `--dependency sync` makes it a plain `def`, which
FastAPI runs in a worker thread); the unscoped app is the reference service. Each scenario sends both the requests
for the same rows, so both answer the same bytes (a test checks it):

- get one: a hero with its team (scoped: `X-Team` is the hero's team);
- list: a team's heroes, ~50 (scoped: the scope; unscoped: `?team_id=`);
- create: a hero in a team (scoped: stamped from the header; unscoped: in the body);
- create with a reference: an assignment for one of the team's heroes (scoped: the
  hero must be the team's, checked in the INSERT itself; unscoped: the database
  checks only that the hero exists);
- patch: a hero's age.

Rounds alternate the order of the apps. Ratios in one run matter, not absolute
numbers; nothing here is asserted by a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header

from bench._apps import router_async
from bench._data import TEAMS, Assignment, fresh_database
from bench._report import environment, progress, save
from bench._server import has_wrk, serve, wrk
from sqlmodel_production import Database
from sqlmodel_production.api import RowScope, crud_router, install_error_handlers
from sqlmodel_production.demo.app import team_schemas
from sqlmodel_production.demo.models import Hero

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/smp_bench_scoped"
SCENARIOS = ("get_one", "list", "create", "create_ref", "patch")
APPS = {
    "unscoped": "bench.scoped:create_unscoped_app",
    "scoped": "bench.scoped:create_app",
}
SAMPLE = 5000


async def team_of_request(x_team: Annotated[int, Header()]) -> Mapping[str, Any]:
    """The request's tenant: the team in its `X-Team` header."""
    return {"team_id": x_team}


def team_of_request_in_a_thread(
    x_team: Annotated[int, Header()],
) -> Mapping[str, Any]:
    """The same as a plain `def`, which FastAPI runs in a worker thread."""
    return {"team_id": x_team}


def create_app() -> FastAPI:
    """The reference service's hero routes, scoped to the team in `X-Team`.

    `BENCH_SCOPE_DEPENDENCY=sync` makes the scope's dependency a plain `def`.
    """
    dependency = (
        team_of_request_in_a_thread
        if os.environ.get("BENCH_SCOPE_DEPENDENCY") == "sync"
        else team_of_request
    )
    database = Database()
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(
            Hero,
            prefix="/heroes",
            write_only={"secret_name"},
            include={"team": team_schemas.Public},
            filters={"name": ("eq", "ilike"), "age": ("eq", "lt", "le", "gt", "ge")},
            order_by=["name", "age"],
            scope=RowScope(dependency, "team_id"),
        )
    )
    app.include_router(
        crud_router(
            Assignment, prefix="/assignments", scope=RowScope(dependency, "team_id")
        )
    )
    install_error_handlers(app)
    return app


def create_unscoped_app() -> FastAPI:
    """The reference service, and the same assignments' routes without a scope."""
    app = router_async()
    app.include_router(crud_router(Assignment, prefix="/assignments"))
    return app


def team_of(hero: int) -> int:
    """The team of hero number `hero` (an even one: odd heroes have none, see `bench._data`)."""
    return 1 + hero % TEAMS


def request_pairs(
    scenario: str, heroes: int, rng: random.Random, count: int = SAMPLE
) -> tuple[list[str], list[str]]:
    """`METHOD<TAB>PATH<TAB>BODY<TAB>HEADER` lines for the unscoped and the scoped app."""
    unscoped, scoped = [], []
    for n in range(count):
        hero = 2 * rng.randint(1, heroes // 2)
        team = team_of(hero)
        header = f"X-Team: {team}"
        if scenario == "get_one":
            unscoped.append(f"GET\t/heroes/{hero}\t")
            scoped.append(f"GET\t/heroes/{hero}\t\t{header}")
        elif scenario == "list":
            unscoped.append(f"GET\t/heroes/?team_id={team}&limit=100\t")
            scoped.append(f"GET\t/heroes/?limit=100\t\t{header}")
        elif scenario == "create":
            body = {"name": f"New hero {n}", "secret_name": f"Identity {n}", "age": 30}
            unscoped.append(f"POST\t/heroes/\t{json.dumps({**body, 'team_id': team})}")
            scoped.append(f"POST\t/heroes/\t{json.dumps(body)}\t{header}")
        elif scenario == "create_ref":
            body = {"title": f"Assignment {n}", "hero_id": hero}
            unscoped.append(
                f"POST\t/assignments/\t{json.dumps({**body, 'team_id': team})}"
            )
            scoped.append(f"POST\t/assignments/\t{json.dumps(body)}\t{header}")
        elif scenario == "patch":
            body = json.dumps({"age": 18 + rng.randrange(60)})
            unscoped.append(f"PATCH\t/heroes/{hero}\t{body}")
            scoped.append(f"PATCH\t/heroes/{hero}\t{body}\t{header}")
        else:
            raise ValueError(scenario)
    return unscoped, scoped


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.scoped", description=__doc__)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--heroes", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--dependency",
        choices=("async", "sync"),
        default="async",
        help="the scope's dependency as `async def` (default) or a plain `def`, "
        "which FastAPI runs in a worker thread",
    )
    parser.add_argument(
        "--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS)
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not has_wrk():
        return 2
    url = args.database_url
    fresh_database(url, args.heroes)
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    started = time.monotonic()
    rng = random.Random(6)
    with tempfile.TemporaryDirectory() as folder:
        files: dict[str, dict[str, Path]] = {"unscoped": {}, "scoped": {}}
        for scenario in args.scenarios:
            for app, lines in zip(
                ("unscoped", "scoped"),
                request_pairs(scenario, args.heroes, rng),
                strict=True,
            ):
                path = Path(folder) / f"{app}-{scenario}.txt"
                path.write_text("\n".join(lines) + "\n")
                files[app][scenario] = path
        for round_ in range(args.rounds):
            order = list(APPS) if round_ % 2 == 0 else list(APPS)[::-1]
            for app in order:
                # The scoped routes need X-Team; the schema answers without it.
                settings = {"BENCH_SCOPE_DEPENDENCY": args.dependency}
                with serve(
                    APPS[app], url, root=ROOT, probe="/openapi.json", settings=settings
                ) as base:
                    for scenario in args.scenarios:
                        file = files[app][scenario]
                        wrk(
                            base,
                            file,
                            seconds=args.warmup,
                            connections=args.connections,
                        )
                        run = wrk(
                            base,
                            file,
                            seconds=args.seconds,
                            connections=args.connections,
                        )
                        runs.setdefault(app, {}).setdefault(scenario, []).append(run)
                        progress(
                            f"round {round_ + 1}/{args.rounds} {app:8} {scenario:8}",
                            run,
                        )
    result = {
        "environment": environment(url, ROOT),
        "elapsed_s": round(time.monotonic() - started, 1),
        "dependency": args.dependency,
        "scenarios": args.scenarios,
        "runs": runs,
    }
    name = dt.datetime.now().strftime("%Y-%m-%d-%H%M%S") + "-scoped"
    if args.dependency == "sync":
        name += "-sync-dependency"
    save(result, markdown(result), args.out, name)
    return 0


def _mean(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.fmean(run[key] for run in runs)


def markdown(result: dict[str, Any]) -> str:
    """The table: req/s (p50 / p99 ms) of each app per scenario, and scoped / unscoped."""
    runs = result["runs"]
    environment = result["environment"]
    lines = [
        "# Row scoping benchmark",
        "",
        f"{environment['machine']['cores']} cores, loopback, commit {environment['commit']}; "
        f"{result['elapsed_s']} s. Requests per second, mean of the rounds (p50 / p99 in ms), "
        "async router on PostgreSQL; the same rows in both columns. The scope's dependency: "
        + (
            "a plain `def` (run in a worker thread)."
            if result.get("dependency") == "sync"
            else "`async def`."
        ),
        "",
        "| scenario | unscoped | scoped (`RowScope`) | scoped / unscoped |",
        "|---|---:|---:|---:|",
    ]
    for scenario in result.get("scenarios", SCENARIOS):
        cells = []
        for app in APPS:
            got = runs[app][scenario]
            cells.append(
                f"{_mean(got, 'rps'):,.0f} ({_mean(got, 'p50_us') / 1000:.1f} / "
                f"{_mean(got, 'p99_us') / 1000:.1f})"
            )
        ratio = _mean(runs["scoped"][scenario], "rps") / _mean(
            runs["unscoped"][scenario], "rps"
        )
        lines.append(f"| {scenario} | {cells[0]} | {cells[1]} | {ratio:.2f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
