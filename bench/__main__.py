"""`python -m bench`: the whole suite; `python -m bench --help` for the parts and knobs."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._apps import CONTESTANTS
from bench._bulk import run_bulk
from bench._data import fresh_database, load
from bench._pagination import run_pagination
from bench._report import environment, markdown, progress, save, summarize
from bench._scenarios import SCENARIOS, write_requests
from bench._server import has_wrk, serve, wrk

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/smp_bench"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="one short round, smaller bulk (~2 min)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help="a PostgreSQL database of its own (created if missing; its tables are replaced)",
    )
    parser.add_argument("--heroes", type=int, default=100_000)
    parser.add_argument(
        "--rounds", type=int, help="alternating rounds (default 2; quick 1)"
    )
    parser.add_argument(
        "--seconds", type=float, help="measured seconds per cell (default 5; quick 2)"
    )
    parser.add_argument(
        "--warmup", type=float, help="warm-up seconds per cell (default 2; quick 1)"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--contestants", nargs="+", choices=[c.key for c in CONTESTANTS]
    )
    parser.add_argument("--scenarios", nargs="+", choices=[s.key for s in SCENARIOS])
    parser.add_argument(
        "--bulk-rows",
        type=int,
        help="rows for create_many and COPY (default 100,000; quick 20,000)",
    )
    parser.add_argument(
        "--per-row",
        type=int,
        help="rows for the commit-per-row loop (default 5,000; quick 1,000)",
    )
    parser.add_argument(
        "--bulk-rounds",
        type=int,
        help="alternating rounds of the bulk inserts, median shown (default 3; quick 1)",
    )
    parser.add_argument("--no-http", action="store_true", help="skip the wrk runs")
    parser.add_argument("--no-bulk", action="store_true")
    parser.add_argument("--no-pagination", action="store_true")
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="the source tree the apps are imported from (to measure a patched copy)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--name", help="results file name (default: the date and time)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quick = args.quick
    rounds = args.rounds or (1 if quick else 2)
    seconds = args.seconds or (2.0 if quick else 5.0)
    warmup = args.warmup if args.warmup is not None else (1.0 if quick else 2.0)
    bulk_rows = args.bulk_rows or (20_000 if quick else 100_000)
    per_row = args.per_row or (1_000 if quick else 5_000)
    bulk_rounds = args.bulk_rounds or (1 if quick else 3)
    contestants = [
        c for c in CONTESTANTS if not args.contestants or c.key in args.contestants
    ]
    scenarios = [s for s in SCENARIOS if not args.scenarios or s.key in args.scenarios]
    url = args.database_url
    if not args.no_http and not has_wrk():
        return 2
    fresh_database(url, args.heroes)
    result: dict[str, Any] = {
        "environment": environment(url, args.root),
        "config": {
            "rounds": rounds, "seconds": seconds, "warmup": warmup,
            "connections": args.connections, "heroes": args.heroes,
            "bulk_rows": bulk_rows, "per_row": per_row, "bulk_rounds": bulk_rounds,
            "root": str(args.root),
        },
    }  # fmt: skip
    started = time.monotonic()
    if not args.no_http:
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
        with tempfile.TemporaryDirectory() as folder:
            files = write_requests(Path(folder), args.heroes)
            for round_ in range(rounds):
                order = contestants if round_ % 2 == 0 else contestants[::-1]
                for contestant in order:
                    with serve(
                        contestant.factory,
                        url,
                        root=args.root,
                        server=contestant.server,
                    ) as base:
                        for scenario in scenarios:
                            if not contestant.serves(scenario):
                                continue
                            file = files[scenario.key]
                            if warmup:
                                wrk(
                                    base,
                                    file,
                                    seconds=warmup,
                                    connections=args.connections,
                                )
                            run = wrk(
                                base,
                                file,
                                seconds=seconds,
                                connections=args.connections,
                            )
                            runs.setdefault(contestant.key, {}).setdefault(
                                scenario.key, []
                            ).append(run)
                            progress(
                                f"round {round_ + 1}/{rounds} {contestant.key:18} {scenario.key:12}",
                                run,
                            )
        result["http"] = summarize(runs)
        result["http_runs"] = runs
    if not args.no_pagination:
        print("Deep pagination ...", flush=True)
        with serve("bench._apps:router_async", url, root=args.root) as base:
            result["pagination"] = run_pagination(
                base, args.heroes, repeat=10 if quick else 30
            )
    if not args.no_bulk:
        print(
            f"Bulk inserts ({bulk_rows:,} rows; {per_row:,} for commit-per-row) ...",
            flush=True,
        )
        result["bulk"] = run_bulk(
            url, rows=bulk_rows, per_row=per_row, rounds=bulk_rounds
        )
        load(url, args.heroes)  # leave the data as the HTTP runs expect it
    result["elapsed_s"] = round(time.monotonic() - started, 1)

    name = args.name or dt.datetime.now().strftime("%Y-%m-%d-%H%M%S") + (
        "-quick" if quick else ""
    )
    save(result, markdown(result), args.out, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
