"""Time `sqlmodel-production doctor` on a synthetic 50,000-line project.

Run: `python bench/doctor_bench.py [--lines 50000]`. Generates a project of model and
router modules (a few rule breaks sprinkled in) in a temporary folder, then times the
static check in process and the whole command in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel_production.doctor import Config, check

MODELS = """\
from sqlmodel import Field, Relationship, SQLModel


class Team{n}Base(SQLModel):
    name: str = Field(max_length=100, index=True)
    headquarters: str = Field(max_length=255)


class Team{n}(Team{n}Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    heroes: list["Hero{n}"] = Relationship(back_populates="team")


class Hero{n}Base(SQLModel):
    name: str = Field(max_length=100, index=True)
    age: int | None = Field(default=None, index=True)
    team_id: int | None = Field(default=None, foreign_key="team{n}.id", index=True)


class Hero{n}(Hero{n}Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    secret_name: str = Field(max_length=255)
    nickname: str = Field(default="")
    team: Team{n} | None = Relationship(back_populates="heroes")


class Hero{n}Create(Hero{n}Base):
    secret_name: str


class Hero{n}Public(Hero{n}Base):
    id: int


class Hero{n}Update(SQLModel):
    name: str | None = None
    age: int | None = None
"""

ROUTES = """\
from fastapi import APIRouter, HTTPException, Query
from sqlmodel import select

from .models_{n} import Hero{n}, Hero{n}Create, Hero{n}Public, Hero{n}Update

router = APIRouter()


@router.post("/heroes/", response_model=Hero{n}Public)
def create_hero(*, session: SessionDep, hero: Hero{n}Create):
    db_hero = Hero{n}.model_validate(hero)
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero


@router.get("/heroes/", response_model=list[Hero{n}Public])
def read_heroes(
    *,
    session: SessionDep,
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=100, ge=1, le=100),
):
    heroes = session.exec(select(Hero{n}).offset(offset).limit(limit)).all()
    return [{{"name": hero.name, "team": hero.team}} for hero in heroes]


@router.get("/heroes/{{hero_id}}", response_model=Hero{n}Public)
def read_hero(*, session: SessionDep, hero_id: int):
    hero = session.get(Hero{n}, hero_id)
    if not hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero


@router.patch("/heroes/{{hero_id}}", response_model=Hero{n}Public)
def update_hero(*, session: SessionDep, hero_id: int, hero: Hero{n}Update):
    db_hero = session.get(Hero{n}, hero_id)
    if not db_hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    db_hero.sqlmodel_update(hero.model_dump(exclude_unset=True))
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero


@router.delete("/heroes/{{hero_id}}")
def delete_hero(*, session: SessionDep, hero_id: int):
    hero = session.get(Hero{n}, hero_id)
    if not hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    session.delete(hero)
    session.commit()
    return {{"ok": True}}


def import_heroes(session, heroes: list[Hero{n}Create]) -> int:
    count = 0
    for hero in heroes:
        session.add(Hero{n}.model_validate(hero))
        count += 1
    session.commit()
    return count


def summary(heroes: list[Hero{n}]) -> dict[str, int]:
    totals: dict[str, int] = {{}}
    for hero in heroes:
        key = hero.name[:1].upper()
        totals[key] = totals.get(key, 0) + (hero.age or 0)
    return totals
"""


def generate(root: Path, lines: int) -> tuple[int, int]:
    """Write model/route module pairs until `lines` lines; return (files, lines)."""
    package = root / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    written, files, n = 0, 1, 0
    while written < lines:
        for name, template in ((f"models_{n}.py", MODELS), (f"routes_{n}.py", ROUTES)):
            text = template.format(n=n)
            (package / name).write_text(text)
            written += text.count("\n")
            files += 1
        n += 1
    return files, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files, lines = generate(root, args.lines)
        start = time.perf_counter()
        report = check([root / "app"], Config())
        in_process = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sqlmodel_production",
                "doctor",
                "app",
                "--format",
                "json",
            ],
            cwd=root,
            capture_output=True,
            check=False,
        )
        command = time.perf_counter() - start
    codes = sorted({finding.code for finding in report.findings})
    print(
        f"{files} files, {lines} lines, {len(report.findings)} findings ({', '.join(codes)})"
    )
    print(
        f"check(): {in_process:.2f} s; whole command in a fresh interpreter: {command:.2f} s"
    )


if __name__ == "__main__":
    main()
