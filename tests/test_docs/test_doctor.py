"""docs/doctor.md: the configuration table, the CI step and a `# noqa`, run through the doctor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from docs_src.doctor import tutorial003
from sqlmodel_production import Backend
from sqlmodel_production.db import sync_url
from sqlmodel_production.doctor import Config, check

DOCS_SRC = Path(__file__).parents[2] / "docs_src" / "doctor"

PROJECT = {
    "app/models.py": """\
        from sqlmodel import Field, Relationship, SQLModel


        class Team(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            name: str = Field(index=True)


        class Hero(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
            team: Team | None = Relationship(sa_relationship_kwargs={"backref": "heroes"})
        """,
    "app/db.py": """\
        from sqlmodel import create_engine

        engine = create_engine("mariadb+pymysql://app@db/app", echo=True, pool_pre_ping=True)
        """,
    "migrations/env.py": """\
        import os

        from sqlmodel import create_engine

        engine = create_engine(os.environ["DATABASE_URL"])
        """,
    "scripts/seed.py": """\
        import os

        from sqlmodel import create_engine

        engine = create_engine(os.environ["DATABASE_URL"])
        """,
}

UNCHECKED_GET = """\
from fastapi import APIRouter

from app.models import Hero

router = APIRouter()


@router.get("/heroes/{hero_id}")
def read_hero(*, session: SessionDep, hero_id: int):
    hero = session.get(Hero, hero_id)
    return hero
"""

UNBOUNDED_PAGE = """\
from fastapi import APIRouter

from app.models import Hero

router = APIRouter()


@router.get("/heroes/")
def read_heroes(*, session: SessionDep, limit: int = Query(default=100, ge=1)):
    return session.exec(select(Hero).limit(limit)).all()
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(source))


def doctor(cwd: Path, *args: str) -> tuple[int, list[tuple[str, str]]]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sqlmodel_production",
            "doctor",
            ".",
            "--format",
            "json",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(result.stdout)
    return result.returncode, sorted((f["path"], f["code"]) for f in findings)


def test_tutorial001_configuration(tmp_path: Path) -> None:
    write(tmp_path, PROJECT)
    assert doctor(tmp_path) == (
        1,
        [
            ("app/db.py", "SMP003"),
            ("app/models.py", "SMP006"),
            ("app/models.py", "SMP015"),
            ("migrations/env.py", "SMP004"),
            ("scripts/seed.py", "SMP004"),
        ],
    )
    config = (DOCS_SRC / "tutorial001.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(config)
    # SMP006 ignored, migrations/ and scripts/ excluded; warnings only: exit 0.
    expected = [("app/db.py", "SMP003"), ("app/models.py", "SMP015")]
    assert doctor(tmp_path) == (0, expected)
    # An option given on the command line replaces the file's setting.
    assert doctor(tmp_path, "--severity", "warning") == (1, expected)
    assert doctor(tmp_path, "--select", "SMP00") == (0, [("app/db.py", "SMP003")])
    # An info is reported and fails nothing; an error fails the check.
    write(tmp_path, {"app/routes.py": UNCHECKED_GET})
    expected.append(("app/routes.py", "SMP011"))
    assert doctor(tmp_path) == (0, sorted(expected))
    write(tmp_path, {"app/pages.py": UNBOUNDED_PAGE})
    assert doctor(tmp_path) == (1, sorted([*expected, ("app/pages.py", "SMP012")]))


def test_tutorial002_ci_step_writes_sarif_and_never_fails_the_job(
    tmp_path: Path,
) -> None:
    workflow: dict[str, Any] = yaml.safe_load(
        (DOCS_SRC / "tutorial002.yml").read_text()
    )
    steps = workflow["jobs"]["doctor"]["steps"]
    (command,) = [s["run"] for s in steps if "doctor" in s.get("run", "")]
    (upload,) = [s for s in steps if "upload-sarif" in s.get("uses", "")]
    assert workflow["jobs"]["doctor"]["permissions"] == {"security-events": "write"}
    write(tmp_path, PROJECT)
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=tmp_path,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    sarif = json.loads((tmp_path / upload["with"]["sarif_file"]).read_text())
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    assert sorted(r["ruleId"] for r in run["results"]) == [
        "SMP003",
        "SMP004",
        "SMP004",
        "SMP006",
        "SMP015",
    ]


def test_tutorial003_noqa_silences_one_line(tmp_path: Path) -> None:
    source = DOCS_SRC / "tutorial003.py"
    assert check([source], Config()).findings == []
    text = source.read_text()
    (line,) = [n for n, t in enumerate(text.splitlines(), 1) if "# noqa: SMP003" in t]
    bare = tmp_path / "tutorial003.py"
    bare.write_text(text.replace("  # noqa: SMP003", "  # SMP003"))
    found = [(f.line, f.code) for f in check([bare], Config()).findings]
    assert found == [(line, "SMP003")]


def test_tutorial003_runs(backend: Backend, database_url: str) -> None:
    url = sync_url(database_url)  # with its driver: mariadb+pymysql://...
    assert not tutorial003.has_table(url, "doc_probe")
    engine = sa.create_engine(url)
    probe = sa.Table(
        "doc_probe", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True)
    )
    probe.create(engine)
    try:
        assert tutorial003.has_table(url, "doc_probe")
    finally:
        probe.drop(engine)
        engine.dispose()
