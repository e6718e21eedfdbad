"""SMP006: `backref` instead of `back_populates`."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex, relationship_options
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import constant, keyword, terminal


class BackrefRule(Rule):
    code = "SMP006"
    title = "Relationship declared with backref"
    severity = Severity.WARNING
    rationale = (
        "`backref` creates the reverse attribute at run time on the other class: type checkers, "
        "editors and readers of that class cannot see it, and SQLModel cannot validate or serialize "
        "it. Declare both sides with `Relationship(back_populates=...)` so each model states its "
        "own attributes. The copies of models a migration keeps for its data changes are not "
        "checked."
    )
    bad = """\
class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    team: Team | None = Relationship(sa_relationship_kwargs={"backref": "heroes"})
"""
    good = """\
class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    heroes: list["Hero"] = Relationship(back_populates="team")


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    team: Team | None = Relationship(back_populates="heroes")
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        if file.is_migration:
            return  # a revision's copy of the models, frozen as they were then
        for call in file.nodes(ast.Call):
            if terminal(file.resolve(call.func)) not in {
                "Relationship",
                "relationship",
            }:
                continue
            found: ast.AST | None = keyword(call, "backref")
            options = keyword(call, "sa_relationship_kwargs")
            if isinstance(options, ast.Dict):
                for key in options.keys:
                    if constant(key) == "backref":
                        found = key
            elif "backref" in (kwargs := relationship_options(call)):
                found = kwargs["backref"]
            if found is not None:
                yield self.finding(
                    file,
                    found,
                    "`backref` adds an attribute to the other model at run time, where type "
                    "checkers, editors and readers of that model cannot see it.",
                    "Declare the attribute on both models with `Relationship(back_populates=...)`.",
                )
