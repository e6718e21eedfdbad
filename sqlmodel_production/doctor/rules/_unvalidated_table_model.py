"""SMP008: a table model built from request data without `model_validate`."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import (
    annotation_names,
    is_dependency,
    parameters,
)


class UnvalidatedTableModelRule(Rule):
    code = "SMP008"
    title = "Table model built from request data without model_validate"
    severity = Severity.WARNING
    rationale = (
        "SQLModel table models do not validate in their constructor: `Hero(**hero.model_dump())` "
        "or `Hero(name=hero.name, ...)` accepts wrong types and skips validators, and a field "
        "forgotten in the hand-written copy is silently lost. `Hero.model_validate(hero)` runs "
        "the validation and copies every field; pass server-side values with `update={...}`."
    )
    bad = """\
@app.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: SessionDep, hero: HeroCreate):
    db_hero = Hero(**hero.model_dump())
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero
"""
    good = """\
@app.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: SessionDep, hero: HeroCreate):
    db_hero = Hero.model_validate(hero)
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        for function in file.functions:
            data = {
                param.arg
                for param, default in parameters(function)
                if not is_dependency(file, param, default)
                and any(
                    project.is_schema(name.id)
                    for name in annotation_names(param.annotation)
                )
            }
            if not data:
                continue
            for node in file.body_nodes(function):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and project.is_table(node.func.id)
                ):
                    continue
                arguments = [*node.args, *(item.value for item in node.keywords)]
                used = sorted(
                    {
                        inner.id
                        for argument in arguments
                        for inner in ast.walk(argument)
                        if isinstance(inner, ast.Name) and inner.id in data
                    }
                )
                if used:
                    model, source = node.func.id, used[0]
                    yield self.finding(
                        file,
                        node,
                        f"`{model}(...)` is built by hand from `{source}`: table models do not "
                        "validate in their constructor, and fields missed in the copy are lost.",
                        f"Build it with `{model}.model_validate({source})` (server-side values go in "
                        "`update={...}`).",
                    )
