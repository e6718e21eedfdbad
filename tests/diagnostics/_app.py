"""Test models (prefixed `Dg`: the SQLModel registry is shared) and helpers.

No `from __future__ import annotations` here: SQLModel resolves relationship
annotations at class creation.
"""

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlmodel import Field, Relationship, SQLModel

from sqlmodel_production import Database


class DgTeam(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    heroes: list["DgHero"] = Relationship(back_populates="team")


class DgHero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    team_id: int | None = Field(default=None, foreign_key="dgteam.id", index=True)
    team: DgTeam | None = Relationship(back_populates="heroes")


TABLES = [DgTeam.__table__, DgHero.__table__]  # type: ignore[attr-defined]
TEAMS = 3
HEROES_PER_TEAM = 2


@contextmanager
def seeded(database: Database) -> Iterator[None]:
    """Create and fill the Dg tables (through the sync driver), drop them after."""
    # database.engine each time: an async test disposes the engines midway.
    with database.engine.begin() as conn:
        SQLModel.metadata.create_all(conn, tables=TABLES)
    try:
        with database.session() as session:
            for t in range(TEAMS):
                team = DgTeam(name=f"team {t}")
                session.add(team)
                for h in range(HEROES_PER_TEAM):
                    session.add(DgHero(name=f"hero {t}.{h}", team=team))
            session.commit()
        yield
    finally:
        with database.engine.begin() as conn:
            SQLModel.metadata.drop_all(conn, tables=TABLES)


def line_of(fn: Callable[..., Any], marker: str) -> tuple[str, int]:
    """The file and line of `fn`'s source that carries the comment `# <marker>`."""
    lines, first = inspect.getsourcelines(fn)
    for offset, text in enumerate(lines):
        if text.rstrip().endswith(f"# {marker}"):
            return inspect.getsourcefile(fn) or "", first + offset
    raise LookupError(f"no line marked {marker!r} in {fn.__qualname__}")
