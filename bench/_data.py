"""The benchmark database: its own database on the server, the reference tables, N heroes loaded by COPY."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.demo import models

__all__ = [
    "TEAMS",
    "Assignment",
    "create_database",
    "fresh_database",
    "load",
    "reset_tables",
]

TEAMS = 1000


class Assignment(SQLModel, table=True):
    """A team's task for one of its heroes: a foreign key to a table that carries the scoped `team_id`.

    The row scoping benchmark creates these: scoped, the hero must be one of the
    request's team (checked in the INSERT); unscoped, the database checks only
    that the hero exists.
    """

    __tablename__ = "bench_assignment"
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(index=True)
    hero_id: int = Field(foreign_key="hero.id", index=True)
    title: str = Field(max_length=100)


TABLES = [
    models.Team.__table__,  # type: ignore[attr-defined]
    models.Hero.__table__,  # type: ignore[attr-defined]
    models.Mission.__table__,  # type: ignore[attr-defined]
    models.HeroMissionLink.__table__,  # type: ignore[attr-defined]
    Assignment.__table__,  # type: ignore[attr-defined]
]


def _conninfo(url: str) -> str:
    return (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def create_database(url: str) -> None:
    """Create the database `url` names, if it does not exist (on the same server)."""
    name = make_url(url).database
    admin = make_url(url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(
        admin.render_as_string(hide_password=False), autocommit=True
    ) as conn:
        if (
            conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            is None
        ):
            conn.execute(f'CREATE DATABASE "{name}"')


def reset_tables(url: str) -> None:
    """Drop and create the reference service's tables (in the benchmark database only)."""
    database = Database(DatabaseSettings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
    database.engine.dispose()


def hero_row(i: int) -> tuple[str, int | None, int | None, str]:
    """Hero number `i` (from 1): every tenth has no age, every other one has a team."""
    return (
        f"Hero {i}",
        None if i % 10 == 0 else 18 + i % 60,
        1 + i % TEAMS if i % 2 == 0 else None,
        f"Secret identity {i}",
    )


def load(url: str, heroes: int) -> None:
    """Fresh tables with `TEAMS` teams and `heroes` heroes (ids 1..N), analyzed."""
    reset_tables(url)
    with psycopg.connect(_conninfo(url)) as conn:
        with conn.cursor() as cur:
            with cur.copy("COPY team (name, headquarters) FROM STDIN") as copy:
                for i in range(1, TEAMS + 1):
                    copy.write_row((f"Team {i}", f"Tower {i}"))
            with cur.copy(
                "COPY hero (name, age, team_id, secret_name) FROM STDIN"
            ) as copy:
                for i in range(1, heroes + 1):
                    copy.write_row(hero_row(i))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE team")
        conn.execute("VACUUM ANALYZE hero")


def fresh_database(url: str, heroes: int) -> None:
    """Create the database `url` names if missing, and load it with `heroes` heroes."""
    create_database(url)
    print(f"Loading {heroes:,} heroes into {url} ...", flush=True)
    load(url, heroes)
