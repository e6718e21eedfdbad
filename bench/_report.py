"""Results as Markdown and JSON, with the machine, versions and date."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
from pathlib import Path
from typing import Any

import psycopg

from bench._apps import CONTESTANTS
from bench._data import _conninfo
from bench._scenarios import SCENARIOS

__all__ = ["environment", "markdown", "progress", "save", "summarize"]

PACKAGES = [
    "sqlmodel-production", "fastapi", "starlette", "pydantic", "sqlmodel",
    "sqlalchemy", "asyncpg", "psycopg", "orjson", "uvicorn",
]  # fmt: skip
FLOOR, BASELINE = "floor", "handwritten_sync"
TELEMETRY_OFF = "router_async"
"""What the telemetry contestants (`router_metrics`, `router_traced`) are measured against."""
TELEMETRY_GOALS = {"router_metrics": 0.05, "router_traced": 0.10}
"""The largest share of req/s each may cost (docs/telemetry.md)."""


def progress(label: str, run: dict[str, Any]) -> None:
    """Print one wrk run's numbers after `label`, with its errors if it had any."""
    errors = sum(run["errors"].values())
    print(
        f"{label} {run['rps']:8,.0f} req/s  p50 {run['p50_us'] / 1000:6.1f} ms  "
        f"p99 {run['p99_us'] / 1000:6.1f} ms"
        + (f"  {errors} ERRORS" if errors else ""),
        flush=True,
    )


def save(result: dict[str, Any], text: str, out: Path, name: str) -> None:
    """Print the Markdown `text`, and write it and `result` as `out/name.md` and `.json`."""
    print("\n" + text)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text(text + "\n")
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"Wrote {out / name}.md and .json")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _run(command: list[str], root: Path) -> str:
    try:
        result = subprocess.run(
            command, cwd=root, capture_output=True, text=True, timeout=10
        )
        return (result.stdout or result.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def environment(url: str, root: Path) -> dict[str, Any]:
    with psycopg.connect(_conninfo(url)) as conn:
        (server,) = conn.execute("SHOW server_version").fetchone()  # type: ignore[misc]
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu": _cpu(),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
        },
        "python": platform.python_version(),
        "postgresql": server,
        "wrk": _run(["wrk", "--version"], root).split(" Copyright")[0],
        "commit": _run(["git", "rev-parse", "--short", "HEAD"], root),
        "dirty": _run(["git", "status", "--porcelain", "--untracked-files=no"], root)
        not in ("", "unknown"),
        "versions": versions,
    }


def summarize(
    runs: dict[str, dict[str, list[dict[str, Any]]]],
) -> dict[str, dict[str, dict[str, float]]]:
    """Per scenario and contestant: the median over rounds of req/s, p50 and p99, and the ratios."""
    table: dict[str, dict[str, dict[str, float]]] = {}
    for scenario in SCENARIOS:
        cells = {}
        for contestant in CONTESTANTS:
            results = runs.get(contestant.key, {}).get(scenario.key)
            if not results:
                continue
            cells[contestant.key] = {
                "rps": statistics.median(r["rps"] for r in results),
                "p50_ms": statistics.median(r["p50_us"] for r in results) / 1000,
                "p99_ms": statistics.median(r["p99_us"] for r in results) / 1000,
                "errors": sum(sum(r["errors"].values()) for r in results),
            }
        for cell in cells.values():
            if FLOOR in cells:
                cell["of_floor"] = cell["rps"] / cells[FLOOR]["rps"]
            if BASELINE in cells:
                cell["of_handwritten_sync"] = cell["rps"] / cells[BASELINE]["rps"]
            if TELEMETRY_OFF in cells:
                cell["of_telemetry_off"] = cell["rps"] / cells[TELEMETRY_OFF]["rps"]
        table[scenario.key] = cells
    return table


def _ratio(cell: dict[str, float], key: str) -> str:
    return f"{cell[key]:.2f}x" if key in cell else "-"


def markdown(result: dict[str, Any]) -> str:
    env = result["environment"]
    config = result["config"]
    lines = [
        f"# Benchmark results, {env['date']}",
        "",
        f"{env['machine']['cpu']}, {env['machine']['cores']} cores, {env['machine']['platform']}; "
        f"Python {env['python']}, PostgreSQL {env['postgresql']} on loopback, {env['wrk']}; "
        f"commit {env['commit']}{' (with local changes)' if env['dirty'] else ''}.",
        "",
        "Versions: "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
        + ".",
        "",
        f"Each app in its own uvicorn process (1 worker, `ENVIRONMENT=production`); wrk -t1 "
        f"-c{config['connections']}, {config['warmup']} s warm-up then {config['seconds']} s measured, "
        f"{config['rounds']} alternating round(s), medians shown; {config['heroes']:,} heroes, 1,000 teams.",
        "",
    ]
    labels = {c.key: c.label for c in CONTESTANTS}
    if result.get("http"):
        for scenario in SCENARIOS:
            cells = result["http"].get(scenario.key)
            if not cells:
                continue
            lines += [
                f"## {scenario.label}",
                "",
                "| contestant | req/s | p50 ms | p99 ms | share of floor | vs hand-written sync |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            for key, cell in cells.items():
                errors = f" ({cell['errors']:.0f} errors)" if cell["errors"] else ""
                lines.append(
                    f"| {labels[key]}{errors} | {cell['rps']:,.0f} | {cell['p50_ms']:.1f} | "
                    f"{cell['p99_ms']:.1f} | {_ratio(cell, 'of_floor')} | {_ratio(cell, 'of_handwritten_sync')} |"
                )
            lines.append("")
    lines += _telemetry_overhead(result.get("http") or {})
    if result.get("bulk"):
        bulk = result["bulk"]
        rounds = config.get("bulk_rounds", 1)
        lines += [
            "## Bulk insert into `hero` (3 indexes and a foreign key)",
            "",
            f"{rounds} alternating round(s), each from an empty table after a CHECKPOINT; "
            "the median round shown, every round's rows/s in the last column.",
            "",
            "| method | rows | seconds | rows/s | share of COPY | rounds, rows/s |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for key, label in [
            ("copy", "PostgreSQL COPY (psycopg)"),
            ("create_many", "`Repository.create_many`, one transaction (psycopg)"),
            ("create_many_async", "`AsyncRepository.create_many`, the same (asyncpg)"),
            ("commit_per_row", "a commit per row: validate, add, commit, refresh"),
        ]:
            if key not in bulk:
                continue  # a run from before this way was measured
            cell = bulk[key]
            lines.append(
                f"| {label} | {cell['rows']:,} | {cell['seconds']:.2f} | {cell['rows_per_s']:,.0f} | "
                f"{cell['rows_per_s'] / bulk['copy']['rows_per_s']:.3f}x | "
                + ", ".join(f"{n:,}" for n in cell.get("rounds", []))
                + " |"
            )
        lines.append("")
    if result.get("pagination"):
        lines += [
            "## Deep pagination (router, async; one client; median ms per page of 100)",
            "",
            "| depth | first row | offset page ms | cursor page ms | offset / cursor |",
            "|---:|---:|---:|---:|---:|",
        ]
        for depth, cell in result["pagination"].items():
            lines.append(
                f"| {int(depth):,} | {cell['start'] + 1:,} | {cell['offset_ms']:.2f} | "
                f"{cell['cursor_ms']:.2f} | {cell['offset_ms'] / cell['cursor_ms']:.1f}x |"
            )
        lines.append("")
    return "\n".join(lines)


def _telemetry_overhead(http: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """The req/s telemetry costs the async router, per scenario, against its goal."""
    rows = []
    for scenario in SCENARIOS:
        cells = http.get(scenario.key, {})
        if TELEMETRY_OFF not in cells or not any(k in cells for k in TELEMETRY_GOALS):
            continue
        row = f"| {scenario.label} | {cells[TELEMETRY_OFF]['rps']:,.0f} |"
        for key, goal in TELEMETRY_GOALS.items():
            cell = cells.get(key)
            if cell is None:
                row += " - |"
                continue
            cost = 1 - cell["of_telemetry_off"]
            verdict = "within" if cost <= goal else "over"
            row += f" {cell['rps']:,.0f} ({cost:+.1%} cost, {verdict} {goal:.0%}) |"
        rows.append(row)
    if not rows:
        return []
    return [
        "## Telemetry overhead (router, async)",
        "",
        "| scenario | telemetry off, req/s | metrics on | metrics + tracing at 10 % |",
        "|---|---:|---:|---:|",
        *rows,
        "",
    ]
