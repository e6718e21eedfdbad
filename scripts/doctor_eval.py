"""Measure the doctor on public projects that are not in its corpus: precision and recall per rule.

Run: `python scripts/doctor_eval.py [--cache DIR] [--mirror DIR] [--project NAME] [--todo]`
(`make doctor-eval`). Each project's pinned commit is fetched once into the cache (default
`~/.cache/sqlmodel-production/eval`) as `scripts/doctor_corpus.py` does, never into the
repository, and the doctor runs on it with the default settings.

Precision: every finding of a project is judged, or a fixed random sample of 40 when it has
more (seeded, so the sample is the same on every run). The verdicts, each with its reason,
are in `scripts/doctor_eval_judgments.json`: `true` (the code, deployed as it is, has the
problem the message names), `false` (it does not), `debatable` (it depends on how the
project is deployed). `--todo` lists the sampled findings that have no verdict yet.

Recall: the bad snippets of `tests/doctor/corpus/` (with its shared models) are seeded into
each project's tree (without their database URLs) and checked together with the project, so
that the project's context (its databases, its classes of the same names) is what the rules
see; a seeded problem counts as found when its marked line is reported.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from collections import Counter, defaultdict
from pathlib import Path

from doctor_corpus import Project, checkout

from sqlmodel_production.doctor import Config, check
from sqlmodel_production.doctor.rules import RULES

ROOT = Path(__file__).parents[1]
JUDGMENTS = Path(__file__).with_name("doctor_eval_judgments.json")
CORPUS = ROOT / "tests" / "doctor" / "corpus"
SAMPLE = 40
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>SMP\d{3}(?:\s*,\s*SMP\d{3})*)")

# Not in scripts/doctor_corpus.py; SQLModel and SQLAlchemy 2.0, sync and async. The licence
# is the repository's (only for the record: nothing of them is copied into this repository).
PROJECTS = (
    Project(
        "fastapi-backend-template",
        "Aeternalis-Ingenium/FastAPI-Backend-Template",
        "d2e931b9639aa5fbca2a85c1711e47c8ee39b254",
        ("backend",),
        "GPL-3.0",
    ),
    Project(
        "agenta",
        "Agenta-AI/agenta",
        "753af3838ef61cfc3f06c05951b3599fefbc75ef",
        ("api",),
        "MIT",
    ),
    Project(
        "skyvern",
        "Skyvern-AI/skyvern",
        "07222e7a7caae79aacd5908c30e4a4445fce5f9b",
        ("skyvern",),
        "AGPL-3.0",
    ),
    Project(
        "fief",
        "fief-dev/fief",
        "a77e7fb65fc54d7994740619684a87e85d1293ed",
        ("fief",),
        "Elastic-2.0",
    ),
    Project(
        "fastapi-boilerplate-igorbenav",
        "igorbenav/FastAPI-boilerplate",
        "61d84fa0d5b550ca35561114d0173c764da8a1e1",
        ("src",),
        "MIT",
    ),
    Project(
        "sqlmodel-boilerplate",
        "igorbenav/SQLModel-boilerplate",
        "b8ca49c21145e81b96cadfb7586b4f1fbf750edc",
        ("src",),
        "MIT",
    ),
    Project(
        "fastapi-clean-architecture",
        "jujumilk3/fastapi-clean-architecture",
        "a2232480d10965b2d712850252096c1ee460ffc1",
        ("app",),
        "none stated",
    ),
    Project(
        "mealie",
        "mealie-recipes/mealie",
        "b5643a9399465d8b4ea339e7a6639df2d697741b",
        ("mealie",),
        "AGPL-3.0",
    ),
    Project(
        "minimal-fastapi-postgres-template",
        "rafsaf/minimal-fastapi-postgres-template",
        "5a39f65b1fc3709b1fd4c394a4d9e8f2dce2280e",
        ("app",),
        "MIT",
    ),
    Project(
        "fastapi-boilerplate-teamhide",
        "teamhide/fastapi-boilerplate",
        "df4e6d4f817ec187eeaf2d1c5a877b27c06bb77b",
        ("app", "core"),
        "none stated",
    ),
    Project(
        "fastapi-langgraph-agent-template",
        "wassim249/fastapi-langgraph-agent-production-ready-template",
        "9ed5fdc1c93d37f44e51a34942a598d50f1f46a8",
        ("app",),
        "none stated",
    ),
    Project(
        "tracecat",
        "TracecatHQ/tracecat",
        "4209a655bc1da1a36d75ea29edfea69daffbdd23",
        ("tracecat",),
        "AGPL-3.0",
    ),
    Project(
        "litestar-fullstack",
        "litestar-org/litestar-fullstack",
        "8b637ce4232a407142ae94ec95d7eb268f8fd765",
        ("src/py",),
        "MIT",
    ),
    # Added after the first measurement and the fixes it led to, and measured once, unseen.
    Project(
        "fastapi-sqlalchemy-asyncpg",
        "grillazz/fastapi-sqlalchemy-asyncpg",
        "5d0207cb9b531f4dde28dec62fd5505e9e9c24b5",
        ("app",),
        "MIT",
    ),
    Project(
        "async-fastapi-sqlalchemy",
        "rhoboro/async-fastapi-sqlalchemy",
        "6c08827241e9737487905c62d8834edc2a0da8e7",
        ("app",),
        "MIT",
    ),
    Project(
        "ultimate-fastapi-tutorial",
        "ChristopherGS/ultimate-fastapi-tutorial",
        "c8a0c69d895df57d3d77a21de817ed7ddc71f183",
        ("part-14-send-email-in-background",),
        "none stated",
    ),
    Project(
        "demo-fastapi-async-sqlalchemy",
        "ThomasAitken/demo-fastapi-async-sqlalchemy",
        "1d5d5b1789944ab2d9659af94b60568a49fe62cc",
        ("backend",),
        "MIT",
    ),
)


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def findings_of(project: Project, tree: Path) -> list[dict[str, object]]:
    report = check([tree / path for path in project.paths], Config(root=tree))
    return [
        {**f.as_dict(), "path": str(Path(f.path).resolve().relative_to(tree))}
        for f in report.findings
    ]


def key(finding: dict[str, object]) -> str:
    return f"{finding['path']}:{finding['line']}:{finding['code']}"


def sample(
    project: Project, findings: list[dict[str, object]]
) -> list[dict[str, object]]:
    if len(findings) <= SAMPLE:
        return findings
    chosen = random.Random(project.name).sample(sorted(findings, key=key), SAMPLE)
    return sorted(chosen, key=key)


def seeded_recall(project: Project, tree: Path) -> tuple[Counter[str], Counter[str]]:
    """(seeded, found) per rule for the corpus's bad snippets dropped into the tree."""
    seeds = tree / project.paths[0] / "_smp_seeded"
    shutil.rmtree(seeds, ignore_errors=True)
    seeds.mkdir(parents=True)
    (seeds / "__init__.py").write_text("")
    shutil.copy(CORPUS / "models.py", seeds / "models.py")
    marks: set[tuple[str, int, str]] = set()
    for bad in sorted(CORPUS.glob("smp*_bad.py")):
        # Without the snippets' database URLs: the project's own databases decide.
        lines = bad.read_text().splitlines()
        (seeds / bad.name).write_text(
            "\n".join("" if "://" in line else line for line in lines) + "\n"
        )
        for number, line in enumerate(lines, start=1):
            if "://" in line:
                continue
            match = _EXPECT.search(line)
            if match:
                marks.update(
                    (bad.name, number, code.strip())
                    for code in match["codes"].split(",")
                )
    try:
        report = check([tree / path for path in project.paths], Config(root=tree))
        reported = {
            (Path(f.path).name, f.line, f.code)
            for f in report.findings
            if "_smp_seeded" in f.path
        }
    finally:
        shutil.rmtree(seeds, ignore_errors=True)
    seeded = Counter(code for _, _, code in marks)
    found = Counter(code for mark in marks if mark in reported for code in [mark[2]])
    return seeded, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "sqlmodel-production" / "eval",
    )
    parser.add_argument("--mirror", type=Path, default=None)
    parser.add_argument("--project", action="append", default=None)
    parser.add_argument(
        "--todo", action="store_true", help="list sampled findings without a verdict"
    )
    args = parser.parse_args()
    judgments: dict[str, dict[str, dict[str, str]]] = (
        json.loads(JUDGMENTS.read_text()) if JUDGMENTS.exists() else {}
    )
    chosen = [p for p in PROJECTS if args.project is None or p.name in args.project]
    verdicts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    seeded_all: Counter[str] = Counter()
    found_all: Counter[str] = Counter()
    out("| project | files | findings | judged | true | false | debatable |")
    out("|---|---:|---:|---:|---:|---:|---:|")
    for project in chosen:
        tree = checkout(project, args.cache, args.mirror)
        files = sum(1 for path in project.paths for _ in (tree / path).rglob("*.py"))
        findings = findings_of(project, tree)
        totals.update(str(f["code"]) for f in findings)
        judged = judgments.get(project.name, {})
        row: Counter[str] = Counter()
        for finding in sample(project, findings):
            verdict = judged.get(key(finding), {}).get("verdict")
            if verdict is None:
                row["unjudged"] += 1
                if args.todo:
                    out(f"  TODO {project.name} {key(finding)} {finding['message']}")
                continue
            row[verdict] += 1
            verdicts[str(finding["code"])][verdict] += 1
        seeded, found = seeded_recall(project, tree)
        seeded_all.update(seeded)
        found_all.update(found)
        judged_count = row["true"] + row["false"] + row["debatable"]
        out(
            f"| {project.repo} `{project.commit[:7]}` | {files} | {len(findings)} | "
            f"{judged_count} | {row['true']} | {row['false']} | {row['debatable']} |"
        )
    out()
    out(
        "| rule | findings | judged | true | false | debatable | precision | strict | seeded recall |"
    )
    out("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rule in RULES:
        v = verdicts[rule.code]
        judged_count = v["true"] + v["false"] + v["debatable"]
        decided = v["true"] + v["false"]
        precision = f"{100 * v['true'] / decided:.0f} %" if decided else "-"
        strict = f"{100 * v['true'] / judged_count:.0f} %" if judged_count else "-"
        recall = (
            f"{found_all[rule.code]} of {seeded_all[rule.code]}"
            if seeded_all[rule.code]
            else "-"
        )
        out(
            f"| {rule.code} | {totals[rule.code]} | {judged_count} | {v['true']} | "
            f"{v['false']} | {v['debatable']} | {precision} | {strict} | {recall} |"
        )


if __name__ == "__main__":
    main()
