"""Run the doctor over public FastAPI + SQLModel / SQLAlchemy projects, at fixed commits.

Run: `python scripts/doctor_corpus.py [--cache DIR] [--project NAME] [--format text|json]`.
Each project's pinned commit is fetched once into the cache (default
`~/.cache/sqlmodel-production/corpus`), its Python files exported, and the doctor run on
it as `sqlmodel-production doctor PATH` would, with the default settings. `--mirror DIR`
reads bare repositories named `owner+name/repo` under DIR instead of fetching.

The verdict on each finding (true or false positive) and the precision per project are in
`docs/doctor.md`; the snippets behind them are in `tests/doctor/corpus/real/`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlmodel_production.doctor import Config, check
from sqlmodel_production.doctor.internal import DEPENDENCY_FILES, MIGRATION_FOLDERS


@dataclass(frozen=True)
class Project:
    name: str
    repo: str
    commit: str
    paths: tuple[str, ...]
    licence: str


PROJECTS = (
    Project(
        "full-stack-fastapi-template",
        "fastapi/full-stack-fastapi-template",
        "68adb40d37425f6f8668ec7e5a054500d045e43e",
        ("backend",),
        "MIT",
    ),
    Project(
        "sqlmodel-docs",
        "fastapi/sqlmodel",
        "a6469ef61bb903cbf7fd8749c70d8ceb8046c368",
        ("docs_src",),
        "MIT",
    ),
    Project(
        "fastapi_rbac",
        "mnaimfaizy/fastapi_rbac",
        "990b9d1f12c04ac0e45947e6283564de9e8e68a9",
        ("backend",),
        "MIT",
    ),
    Project(
        "fastapi_best_architecture",
        "fastapi-practices/fastapi_best_architecture",
        "2e86d79150c0abf0191dc8c189734214c4934a17",
        ("backend",),
        "MIT",
    ),
    Project(
        "hng_boilerplate",
        "hngprojects/hng_boilerplate_python_fastapi_web",
        "5a01cac16e263f598896c0c57bd054007ad18b6b",
        ("api", "main.py"),
        "Apache-2.0",
    ),
    Project(
        "fastapi-sqlmodel-alembic",
        "testdrivenio/fastapi-sqlmodel-alembic",
        "b9f78641513d78ec89954b140efc7ba16a50d1de",
        ("project",),
        "MIT",
    ),
    Project(
        "fastapi-async-sqlmodel-boilerplate",
        "joaoflaviosantos/fastapi-async-sqlmodel-boilerplate",
        "3bbc66a15be5223d178d17d2bbff2e2506479585",
        ("backend",),
        "MIT",
    ),
    Project(
        "fastapi-sqlmodel-starter",
        "tyvekzhang/fastapi-sqlmodel-starter",
        "b7aabf7401d7a4e233ce697a7757b492ee5eaaf1",
        ("src", "apiserver.py"),
        "MIT",
    ),
    Project(
        "polar",
        "polarsource/polar",
        "c6c3645e639ee8eeaa05aa0835cf8e39e330382f",
        ("server",),
        "Apache-2.0",
    ),
    Project(
        "dispatch",
        "Netflix/dispatch",
        "dd2837e82a0bf5565b1b4b4b91ea30b7262d4061",
        ("src",),
        "Apache-2.0",
    ),
)


def checkout(project: Project, cache: Path, mirror: Path | None) -> Path:
    """The project's files at its pinned commit, exported once into the cache."""
    # (The folder's name says what was exported: `-md` with the migrations and the
    # dependency files.)
    tree = cache / "trees" / f"{project.name}-{project.commit[:12]}-md"
    if tree.is_dir():
        return tree
    if mirror is not None:
        git_dir = mirror / project.repo.replace("/", "+") / "repo"
    else:
        git_dir = cache / "git" / project.repo.replace("/", "+")
        if not git_dir.is_dir():
            # Only the pinned commit, without history (GitHub serves a commit by its id).
            url = f"https://github.com/{project.repo}.git"
            subprocess.run(
                ["git", "init", "--quiet", "--bare", str(git_dir)], check=True
            )
            subprocess.run(
                [
                    "git",
                    f"--git-dir={git_dir}",
                    "fetch",
                    "--depth=1",
                    url,
                    project.commit,
                ],
                check=True,
            )
    tree.mkdir(parents=True)
    # The checked Python files, and what the doctor reads besides them anywhere in the
    # project (migrations, dependency files): nothing else (large files may be absent).
    listed = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "-r", project.commit],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    chosen = [
        (meta.split()[2], name)
        for meta, name in (line.split("\t", 1) for line in listed)
        if _exported(project, PurePosixPath(name))
    ]
    # A mirror may lack its largest files (data dumps): export only the blobs it has.
    checked = subprocess.run(
        ["git", f"--git-dir={git_dir}", "cat-file", "--batch-check"],
        input="".join(f"{blob}\n" for blob, _ in chosen),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    wanted = [
        name
        for (_, name), answer in zip(chosen, checked, strict=True)
        if not answer.endswith(" missing")
    ]
    archive = subprocess.run(
        ["git", f"--git-dir={git_dir}", "archive", project.commit, "--", *wanted],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def _exported(project: Project, path: PurePosixPath) -> bool:
    if path.suffix == ".sql" or path.name in DEPENDENCY_FILES:
        return True
    if path.name.startswith("requirements") and path.suffix == ".txt":
        return True
    if path.suffix != ".py":
        return False
    return not MIGRATION_FOLDERS.isdisjoint(path.parts[:-1]) or any(
        str(path) == checked or path.is_relative_to(checked)
        for checked in project.paths
    )


def out(line: str) -> None:
    sys.stdout.write(line + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "sqlmodel-production" / "corpus",
    )
    parser.add_argument("--mirror", type=Path, default=None)
    parser.add_argument("--project", action="append", default=None)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args()
    chosen = [p for p in PROJECTS if args.project is None or p.name in args.project]
    results: dict[str, list[dict[str, object]]] = {}
    for project in chosen:
        tree = checkout(project, args.cache, args.mirror)
        report = check([tree / path for path in project.paths], Config(root=tree))
        results[project.name] = [
            {**f.as_dict(), "path": str(Path(f.path).resolve().relative_to(tree))}
            for f in report.findings
        ]
        if args.format == "text":
            counts = Counter(f.code for f in report.findings)
            summary = ", ".join(f"{code} {n}" for code, n in sorted(counts.items()))
            out(
                f"== {project.name} ({project.repo}@{project.commit[:12]}, "
                f"{report.files} files): {len(report.findings)} findings"
                + (f" ({summary})" if summary else "")
            )
            for finding in results[project.name]:
                out(
                    f"  {finding['path']}:{finding['line']} {finding['code']} "
                    f"{finding['message']}"
                )
    if args.format == "json":
        out(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
