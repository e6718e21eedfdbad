"""SMP008: a table model built from request data without `model_validate`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import (
    annotation_names,
    constant,
    is_dependency,
    keyword,
    parameters,
    terminal,
)


class UnvalidatedTableModelRule(Rule):
    code = "SMP008"
    title = "Table model built from request data without model_validate"
    severity = Severity.INFO  # under 90 % precision on unseen projects (docs/doctor.md)
    rationale = (
        "SQLModel table models do not validate in their constructor, and a field forgotten in a "
        "hand-written copy such as `Hero(name=hero.name, ...)` is silently lost: the client "
        "sent it, the row never gets it. Reported when a copy from a request schema leaves out "
        "a field that the schema and the table both have, and for "
        "`Hero(**hero.model_dump())`, which copies every field but skips the table's own "
        "validators; both are infos (on unseen projects most hand copies left fields out on "
        "purpose, the server's own). `Hero.model_validate(hero)` runs the validation and copies every field; "
        "pass server-side values with `update={...}`."
    )
    bad = """\
@app.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: SessionDep, hero: HeroCreate):
    db_hero = Hero(name=hero.name, secret_name=hero.secret_name)  # `age` is lost
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
            data: dict[str, str] = {}
            for param, default in parameters(function):
                if is_dependency(file, param, default):
                    continue
                schemas = [
                    name.id
                    for name in annotation_names(param.annotation)
                    if project.is_schema(name.id)
                ]
                if schemas:
                    data[param.arg] = schemas[0]
            if not data:
                continue
            for node in file.body_nodes(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and project.is_table_in(file, node.func.id)
                    and not node.args
                ):
                    yield from self._check_copy(file, project, node, data)

    def _check_copy(
        self,
        file: SourceFile,
        project: ProjectIndex,
        call: ast.Call,
        data: dict[str, str],
    ) -> Iterator[Finding]:
        assert isinstance(call.func, ast.Name)
        model = call.func.id
        splats = [item.value for item in call.keywords if item.arg is None]
        if splats:
            # `Hero(**hero.model_dump())`: every field arrives, already validated by the
            # schema; only the table's own validators are skipped.
            dumped = [
                splat.func.value.id
                for splat in splats
                if isinstance(splat, ast.Call)
                and isinstance(splat.func, ast.Attribute)
                and splat.func.attr in {"model_dump", "dict"}
                and isinstance(splat.func.value, ast.Name)
                and splat.func.value.id in data
            ]
            if dumped:
                finding = self.finding(
                    file,
                    call,
                    f"`{model}(...)` is built from `{dumped[0]}`'s fields without validation: "
                    "table models do not validate in their constructor, so the table's own "
                    "validators and types are skipped.",
                    f"Build it with `{model}.model_validate({dumped[0]})` (server-side values "
                    "go in `update={...}`).",
                )
                yield replace(finding, severity=Severity.INFO)
            return
        given = {item.arg for item in call.keywords if item.arg}
        for source, schema in data.items():
            if not any(
                isinstance(inner, ast.Name) and inner.id == source
                for item in call.keywords
                for inner in ast.walk(item.value)
            ):
                continue
            copied = sum(
                1
                for item in call.keywords
                if isinstance(item.value, ast.Attribute)
                and isinstance(item.value.value, ast.Name)
                and item.value.value.id == source
                and item.value.attr == item.arg
            )
            if copied < 2:
                continue  # a value or two taken from it (a user's id), not a copy of it
            missed = sorted(
                _copyable(file, project, schema)
                & _copyable(file, project, model) - given
            )
            if missed:
                shown = ", ".join(f"`{name}`" for name in missed[:4])
                yield self.finding(
                    file,
                    call,
                    f"`{model}(...)` copies `{source}` by hand and leaves out {shown}, which "
                    f"`{schema}` and `{model}` both have: "
                    f"{'its value is' if len(missed) == 1 else 'their values are'} lost (and table models "
                    "do not validate in their constructor).",
                    f"Build it with `{model}.model_validate({source})` (server-side values go "
                    "in `update={...}`), or pass the missing fields.",
                )
                return


def _copyable(file: SourceFile, project: ProjectIndex, name: str) -> set[str]:
    """A model's data fields: not relationships, primary keys or dunder settings."""
    model = project.resolve_model(file, name)
    fields = project.fields_of(model) if model is not None else project.fields(name)
    found: set[str] = set()
    for field_name, (owner, statement) in fields.items():
        value = statement.value
        if field_name.startswith("_"):
            continue
        if isinstance(value, ast.Call):
            kind = terminal(owner.file.resolve(value.func))
            if kind in {"Relationship", "relationship"}:
                continue
            if constant(keyword(value, "primary_key")) is True:
                continue
        found.add(field_name)
    return found
